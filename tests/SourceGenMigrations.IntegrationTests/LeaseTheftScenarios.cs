namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// The fence at the commit, on databases where the lease can be taken from a runner while its transactional migration
/// runs (PostgreSQL, MySQL/MariaDB: no lock of the migration's transaction covers the lease row; on SQLite the
/// migration's transaction holds the database's write lock, so nobody can): the commit refuses, and nothing of the
/// migration is kept.
/// </summary>
public abstract class LeaseTheftScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected abstract Task<DbTarget> CreateTargetAsync();

    private static MigrationOptions Options(int heartbeatMilliseconds) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 120_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    [DbFact]
    public async Task A_lease_taken_during_a_transactional_migration_makes_its_commit_refuse_and_nothing_of_it_is_kept()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var manager = db.CreateManager(new ManagerSettings(OwnerId: "victim"));
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);

                // Another runner takes the lease (as after an expiry); the heartbeat is too slow to notice first. The
                // migration's transaction holds no lock on the lease row, so the write goes through.
                await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief'");
            }),
        };

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000)).WaitAsync(Patience));
        await ((IAsyncDisposable)manager).DisposeAsync();

        Assert.StartsWith("failed to complete the migration with order 1", error.Message, StringComparison.Ordinal);
        var text = error.ToString();
        Assert.Contains("was lost", text, StringComparison.Ordinal);
        Assert.Contains("thief", text, StringComparison.Ordinal);
        Assert.True(text.Contains("rolled back", StringComparison.Ordinal), text);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.Equal("PENDING", (await db.StatusesAsync())[1]);
        Assert.Equal("thief", Assert.Single(await db.ReadLeaseAsync()).Owner);
    }
}
