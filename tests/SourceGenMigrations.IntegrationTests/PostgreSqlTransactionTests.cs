using System.Data.Common;
using Npgsql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What only PostgreSQL shows of the unit of work: the lease can be taken from a runner while its transactional
/// migration runs (no lock covers the lease row), and the commit refuses it then; a non-transactional migration runs
/// statements that cannot run in a transaction while other runners use the same database.
/// </summary>
public sealed class PostgreSqlTransactionTests : IPostgresTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static MigrationOptions Options(int heartbeatMilliseconds) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 120_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    [DbFact]
    public async Task A_lease_taken_during_a_transactional_migration_makes_its_commit_refuse_and_nothing_of_it_is_kept()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var manager = db.CreateManager(new ManagerSettings(OwnerId: "victim"));
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);

                // Another runner takes the lease (as after an expiry); the heartbeat is too slow to notice first.
                await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief'");
            }),
        };

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000)).WaitAsync(Patience));
        await ((IAsyncDisposable)manager).DisposeAsync();

        Assert.StartsWith("failed to complete the migration with order 1", error.Message, StringComparison.Ordinal);
        var text = error.ToString();
        Assert.Contains("was lost", text, StringComparison.Ordinal);
        Assert.Contains("thief", text, StringComparison.Ordinal);
        Assert.Contains("rolled back", text, StringComparison.Ordinal);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.Equal("PENDING", (await db.StatusesAsync())[1]);
        Assert.Equal("thief", Assert.Single(await db.ReadLeaseAsync()).Owner);
    }

    [DbFact]
    public async Task Create_index_concurrently_in_a_non_transactional_migration_completes_while_a_replica_waits_one_starts_and_a_status_look_polls()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        await db.ExecuteAsync("INSERT INTO side_effect (migration_order, previous_status, pid) SELECT g, 'seed', 0 FROM generate_series(1000, 5000) g");
        var indexing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = new[]
        {
            new MigrationRegistration(1, DbTarget.InsertSideEffectAsync),
            new MigrationRegistration(2, async (context, ct) =>
            {
                indexing.TrySetResult();
                await othersBusy.Task.WaitAsync(ct);
                var connection = Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection)));
                Assert.Null(context.Services.GetService(typeof(DbTransaction)));
                await using var command = new NpgsqlCommand("CREATE INDEX CONCURRENTLY ix_side_effect_order ON side_effect (migration_order)", connection);
                await command.ExecuteNonQueryAsync(ct);
            }, name: "App.IndexConcurrently", transactional: false),
            new MigrationRegistration(3, DbTarget.InsertSideEffectAsync),
        };

        var applier = db.CreateManager();
        var waiter = db.CreateManager();
        var starter = db.CreateManager();
        var looker = db.CreateManager();
        using var stop = new CancellationTokenSource();
        var applying = MigrationRunner.RunAsync(applier, registrations, Options(heartbeatMilliseconds: 100));
        await indexing.Task.WaitAsync(Patience);

        // A replica waiting for the lease, one starting over and over (database lock, data stores), a status look polling.
        var waiting = MigrationRunner.RunAsync(waiter, registrations, Options(heartbeatMilliseconds: 100));
        var starts = 0;
        var looks = 0;
        var starting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await starter.AcquireDbLockAsync(CancellationToken.None);
                await starter.EnsureDataStoresAsync(CancellationToken.None);
                await starter.ReleaseDbLockAsync(CancellationToken.None);
                Interlocked.Increment(ref starts);
            }
        });
        var looking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await MigrationRunner.PlanAsync(looker, registrations, Options(heartbeatMilliseconds: 100));
                Interlocked.Increment(ref looks);
            }
        });
        while (Volatile.Read(ref starts) < 3 || Volatile.Read(ref looks) < 3)
        {
            await Task.Delay(10);
        }

        othersBusy.SetResult();
        await applying.WaitAsync(Patience); // CREATE INDEX CONCURRENTLY waits for every open transaction: none of ours stays open
        await waiting.WaitAsync(Patience);
        await stop.CancelAsync();
        await Task.WhenAll(starting, looking).WaitAsync(Patience);
        foreach (var manager in new[] { applier, waiter, starter, looker })
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM pg_index WHERE indexrelid = 'ix_side_effect_order'::regclass AND indisvalid"));
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(3));
        Assert.True(Volatile.Read(ref starts) >= 3 && Volatile.Read(ref looks) >= 3);
    }
}
