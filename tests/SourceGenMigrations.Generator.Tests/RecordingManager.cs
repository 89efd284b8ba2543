namespace SourceGenMigrations.Generator.Tests;

/// <summary>An in-memory <see cref="IMigrationManager"/> that records every call and keeps statuses in a dictionary.</summary>
internal sealed class RecordingManager : IMigrationManager
{
    private readonly object _gate = new();
    private readonly Dictionary<long, MigrationStatus> _statuses = [];
    private readonly List<string> _calls = [];

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyDictionary<long, MigrationStatus> Statuses
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<long, MigrationStatus>(_statuses);
            }
        }
    }

    public void Seed(long order, MigrationStatus status)
    {
        lock (_gate)
        {
            _statuses[order] = status;
        }
    }

    public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Record(nameof(AcquireDbLockAsync));

    public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Record(nameof(EnsureDataStoresAsync));

    public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Record(nameof(ReleaseDbLockAsync));

    public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => Record(nameof(AcquireMigrationLockAsync));

    // Not recorded: how many heartbeats happen depends on timing.
    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _calls.Add(nameof(ListStatusesAsync));
            IReadOnlyList<PersistedStatus> statuses = _statuses.Select(pair => new PersistedStatus(pair.Key, pair.Value)).ToList();
            return Task.FromResult(statuses);
        }
    }

    public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _calls.Add($"Persist {order} {status}");
            _statuses[order] = status;
        }

        return Task.CompletedTask;
    }

    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => Record(nameof(ReleaseMigrationLockAsync));

    private Task Record(string call)
    {
        lock (_gate)
        {
            _calls.Add(call);
        }

        return Task.CompletedTask;
    }
}
