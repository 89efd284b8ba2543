namespace SourceGenMigrations.Hosting.Tests;

/// <summary>
/// One in-memory database shared by several <see cref="SharedStoreManager"/>s: statuses and a lease row, as the shipped
/// managers keep them, so that a waiting replica and an applying runner meet in one process. Real time.
/// </summary>
internal sealed class SharedStore
{
    private readonly object _gate = new();
    private readonly Dictionary<long, MigrationStatus> _statuses = [];
    private (string Owner, DateTimeOffset Acquired, DateTimeOffset Expires)? _lease;

    public int Writes { get; private set; }

    public IReadOnlyDictionary<long, MigrationStatus> Statuses
    {
        get { lock (_gate) { return new Dictionary<long, MigrationStatus>(_statuses); } }
    }

    public SharedStore With(long order, MigrationStatus status)
    {
        lock (_gate) { _statuses[order] = status; }
        return this;
    }

    public void Set(long order, MigrationStatus status)
    {
        lock (_gate)
        {
            _statuses[order] = status;
            Writes++;
        }
    }

    public List<PersistedStatus> List()
    {
        lock (_gate) { return [.. _statuses.OrderBy(static s => s.Key).Select(static s => new PersistedStatus(s.Key, s.Value))]; }
    }

    /// <summary>Takes the lease when free, expired or already ours.</summary>
    public bool TryTake(string owner, TimeSpan duration)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            if (_lease is { } held && held.Owner != owner && held.Expires > now)
            {
                return false;
            }

            _lease = (owner, now, now + duration);
            return true;
        }
    }

    public bool Extend(string owner, TimeSpan duration)
    {
        lock (_gate)
        {
            if (_lease is not { } held || held.Owner != owner)
            {
                return false;
            }

            _lease = (owner, held.Acquired, DateTimeOffset.UtcNow + duration);
            return true;
        }
    }

    public MigrationLease? Lease()
    {
        lock (_gate)
        {
            return _lease is { } held ? new MigrationLease(held.Owner, held.Acquired, held.Expires, DateTimeOffset.UtcNow) : null;
        }
    }

    public MigrationLease? Release(string? owner)
    {
        lock (_gate)
        {
            var lease = Lease();
            if (lease is null || (owner is not null && lease.OwnerId != owner))
            {
                return null;
            }

            _lease = null;
            return lease;
        }
    }
}

/// <summary>
/// A manager over a <see cref="SharedStore"/> that implements <see cref="IMigrationOperations"/>, counting the writes
/// it makes itself (a waiting replica must make none).
/// </summary>
internal sealed class SharedStoreManager(SharedStore store, string owner, TimeSpan leaseDuration) : IMigrationManager, IMigrationOperations
{
    private int _reads;
    private int _writes;

    public TimeSpan LeaseDuration => leaseDuration;

    public int Reads => Volatile.Read(ref _reads);

    public int Writes => Volatile.Read(ref _writes);

    public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Write();

    public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Write();

    public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        await Write();
        while (!store.TryTake(owner, leaseDuration))
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) =>
        store.Extend(owner, leaseDuration) ? Task.CompletedTask : Task.FromException(new InvalidOperationException("lease lost"));

    public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PersistedStatus>>(store.List());

    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        await Write();
        store.Set(order, status);
    }

    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        store.Release(owner);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return Task.FromResult<IReadOnlyList<PersistedStatus>>(store.List());
    }

    public Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken) => Task.FromResult(store.Lease());

    public Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken) =>
        Task.FromResult(store.Release(expectedOwnerId));

    private Task Write()
    {
        Interlocked.Increment(ref _writes);
        return Task.CompletedTask;
    }
}

/// <summary>Keeps every log entry of a host (level and formatted message).</summary>
internal sealed class ListLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly List<(Microsoft.Extensions.Logging.LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(Microsoft.Extensions.Logging.LogLevel Level, string Message)> Entries
    {
        get { lock (_entries) { return [.. _entries]; } }
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(ListLoggerProvider owner) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries) { owner._entries.Add((logLevel, formatter(state, exception))); }
        }
    }
}
