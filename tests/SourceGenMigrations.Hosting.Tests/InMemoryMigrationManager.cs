using System.Globalization;

namespace SourceGenMigrations.Hosting.Tests;

/// <summary>A thread-safe list of what happened, in order, shared by the manager, migrations and hosted services of a test.</summary>
internal sealed class EventLog
{
    private readonly List<string> _events = [];

    public void Add(string text)
    {
        lock (_events) { _events.Add(text); }
    }

    public IReadOnlyList<string> Events
    {
        get { lock (_events) { return [.. _events]; } }
    }
}

/// <summary>
/// A small in-memory <see cref="IMigrationManager"/>: statuses in a dictionary, locks as flags, every call recorded
/// in the <see cref="EventLog"/> (heartbeats only counted). Disposable, to see that the host disposes it.
/// </summary>
internal sealed class InMemoryMigrationManager(EventLog log) : IMigrationManager, IDisposable
{
    private readonly Dictionary<long, MigrationStatus> _statuses = [];
    private int _heartbeats;
    private int _migrationLockReleases;

    public InMemoryMigrationManager()
        : this(new EventLog())
    {
    }

    public EventLog Log => log;

    public bool DbLockHeld { get; private set; }

    public bool MigrationLockHeld { get; private set; }

    public int HeartbeatCount => Volatile.Read(ref _heartbeats);

    public int MigrationLockReleaseCount => Volatile.Read(ref _migrationLockReleases);

    public bool Disposed { get; private set; }

    /// <summary>Runs inside <see cref="AcquireMigrationLockAsync"/> (a lock wait).</summary>
    public Func<CancellationToken, Task>? OnAcquireMigrationLock { get; set; }

    public IReadOnlyDictionary<long, MigrationStatus> Statuses
    {
        get { lock (_statuses) { return new Dictionary<long, MigrationStatus>(_statuses); } }
    }

    public InMemoryMigrationManager WithStatus(long order, MigrationStatus status)
    {
        lock (_statuses) { _statuses[order] = status; }
        return this;
    }

    public Task AcquireDbLockAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        log.Add("manager: AcquireDbLock");
        DbLockHeld = true;
        return Task.CompletedTask;
    }

    public Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        log.Add("manager: EnsureDataStores");
        return Task.CompletedTask;
    }

    public Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        log.Add("manager: ReleaseDbLock");
        DbLockHeld = false;
        return Task.CompletedTask;
    }

    public async Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (OnAcquireMigrationLock is { } wait)
        {
            await wait(cancellationToken);
        }

        log.Add("manager: AcquireMigrationLock");
        MigrationLockHeld = true;
    }

    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _heartbeats);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        log.Add("manager: ListStatuses");
        lock (_statuses)
        {
            return Task.FromResult<IReadOnlyList<PersistedStatus>>([.. _statuses.Select(static pair => new PersistedStatus(pair.Key, pair.Value))]);
        }
    }

    public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        log.Add(string.Create(CultureInfo.InvariantCulture, $"manager: PersistStatus({order}, {status})"));
        lock (_statuses) { _statuses[order] = status; }
        return Task.CompletedTask;
    }

    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        log.Add("manager: ReleaseMigrationLock");
        Interlocked.Increment(ref _migrationLockReleases);
        MigrationLockHeld = false;
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        log.Add("manager: Dispose");
        Disposed = true;
    }
}
