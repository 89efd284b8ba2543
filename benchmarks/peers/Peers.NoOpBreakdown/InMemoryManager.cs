using SourceGenMigrations;

namespace Peers.NoOpBreakdown;

/// <summary>A manager whose every call completes at once, listing fixed statuses: what the runner alone costs.</summary>
internal sealed class InMemoryManager(IReadOnlyList<PersistedStatus> statuses) : IMigrationManager
{
    public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken) => Task.FromResult(statuses);

    public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
