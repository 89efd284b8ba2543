namespace SourceGenMigrations.EndToEnd.Tests;

/// <summary>GeneratedMigrations, produced by the generator at this project's build, compiles and runs.</summary>
public sealed class GeneratedMigrationsTests
{
    [Fact]
    public void TheTableListsEveryMigrationSortedWithNames()
    {
        Assert.Equal(
            [
                (1L, true, "SourceGenMigrations.EndToEnd.Tests.UserMigrations.CreateUsers"),
                (2L, false, "SourceGenMigrations.EndToEnd.Tests.UserMigrations.OldBackfill"),
                (3L, true, "SourceGenMigrations.EndToEnd.Tests.UserMigrations.Backfill"),
                (4L, true, "SourceGenMigrations.EndToEnd.Tests.UserMigrations.Nested.AddIndex"),
            ],
            GeneratedMigrations.Registrations.Select(r => (r.Order, r.Enabled, r.Name)));
    }

    [Fact]
    public void TheGeneratedClassIsInTheRootNamespace() =>
        Assert.Equal("SourceGenMigrations.EndToEnd.Tests", typeof(GeneratedMigrations).Namespace);

    [Fact]
    public async Task RunAsyncRunsTheEnabledMigrationsInOrderThenSkipsThemOnTheNextRun()
    {
        var manager = new InMemoryManager();
        var options = new MigrationOptions { ConfigProvider = static () => new MigrationConfig() };

        await GeneratedMigrations.RunAsync(manager, options);

        Assert.Equal(
            [
                "1 SourceGenMigrations.EndToEnd.Tests.UserMigrations.CreateUsers Pending",
                "3 Backfill",
                "4 SourceGenMigrations.EndToEnd.Tests.UserMigrations.Nested.AddIndex",
            ],
            Journal.Entries);
        Assert.Equal(
            new Dictionary<long, MigrationStatus> { [1] = MigrationStatus.Completed, [3] = MigrationStatus.Completed, [4] = MigrationStatus.Completed },
            manager.Statuses);

        Journal.Entries.Clear();
        await GeneratedMigrations.RunAsync(manager, options);
        Assert.Empty(Journal.Entries);
    }

    private sealed class InMemoryManager : IMigrationManager
    {
        public Dictionary<long, MigrationStatus> Statuses { get; } = [];

        public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
        {
            lock (Statuses)
            {
                return Task.FromResult<IReadOnlyList<PersistedStatus>>(Statuses.Select(pair => new PersistedStatus(pair.Key, pair.Value)).ToList());
            }
        }

        public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
        {
            lock (Statuses)
            {
                Statuses[order] = status;
            }

            return Task.CompletedTask;
        }

        public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
