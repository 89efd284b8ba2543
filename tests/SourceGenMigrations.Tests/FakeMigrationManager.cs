using System.Globalization;

namespace SourceGenMigrations.Tests;

/// <summary>The manager operations, one per <see cref="IMigrationManager"/> method.</summary>
public enum ManagerStep
{
    AcquireDbLock,
    EnsureDataStores,
    ReleaseDbLock,
    AcquireMigrationLock,
    Heartbeat,
    ListStatuses,
    PersistStatus,
    ReleaseMigrationLock,

    // ITransactionalMigrationManager and its units of work (FakeTransactionalManager).
    PersistPending,
    BeginMigration,
    CompleteMigration,
    FailMigration,
    DisposeUnit,

    // ITransactionalMigrationManager.ListStatusesWithoutLocksAsync, when FakeTransactionalManager offers it.
    ListStatusesWithoutLocks,

    // IMigrationOperations (FakeOperationsManager).
    ReadStatuses,
    ReadLease,
    ForceReleaseLease,
}

/// <summary>
/// A recording <see cref="IMigrationManager"/>: every call except the heartbeat is logged as text in the Go style
/// ("AcquireDBLock()", "PersistStatus(order=1, status=PENDING)"), so sequences are deterministic; heartbeats are only
/// counted. Any step can be told to fail. A call is recorded before the fake looks at its token, so a runner that
/// writes after the run was cancelled shows it in <see cref="Calls"/>.
/// </summary>
internal class FakeMigrationManager : IMigrationManager
{
    private readonly object _gate = new();
    private readonly List<string> _calls = [];
    private readonly List<FailureRule> _rules = [];
    private readonly Dictionary<long, MigrationStatus> _persisted = [];
    private readonly Dictionary<ManagerStep, int> _counts = [];
    private readonly Dictionary<ManagerStep, int> _successes = [];
    private int _heartbeatsInFlight;

    /// <summary>What <see cref="ListStatusesAsync"/> returns (duplicates and invalid entries allowed).</summary>
    public List<PersistedStatus> InitialStatuses { get; } = [];

    /// <summary>Runs after a call is recorded and its token checked, before the failure rules (the number is the 1-based call count of that step).</summary>
    public Func<ManagerStep, int, CancellationToken, Task>? Hook { get; set; }

    /// <summary>Whether each call first yields, so that the runner deals with truly asynchronous calls.</summary>
    public bool YieldOnEachCall { get; set; } = true;

    public IReadOnlyList<string> Calls
    {
        get { lock (_gate) { return [.. _calls]; } }
    }

    public IReadOnlyDictionary<long, MigrationStatus> Persisted
    {
        get { lock (_gate) { return new Dictionary<long, MigrationStatus>(_persisted); } }
    }

    public int HeartbeatCount => Count(ManagerStep.Heartbeat);

    public int ReleaseDbLockCount => Count(ManagerStep.ReleaseDbLock);

    public int ReleaseMigrationLockCount => Count(ManagerStep.ReleaseMigrationLock);

    public int MaxConcurrentHeartbeats { get; private set; }

    /// <summary>Whether the token given to each release was already cancelled when the release was called.</summary>
    public List<bool> ReleaseTokenWasCancelled { get; } = [];

    /// <summary>Whether the token given to each release could be cancelled (it should: the unlock deadline).</summary>
    public List<bool> ReleaseTokenCanBeCanceled { get; } = [];

    /// <summary>The token of the last heartbeat.</summary>
    public CancellationToken LastHeartbeatToken { get; private set; }

    public int Count(ManagerStep step)
    {
        lock (_gate) { return _counts.GetValueOrDefault(step); }
    }

    public int Successes(ManagerStep step)
    {
        lock (_gate) { return _successes.GetValueOrDefault(step); }
    }

    public FakeMigrationManager WithStatus(long order, MigrationStatus status)
    {
        InitialStatuses.Add(new PersistedStatus(order, status));
        return this;
    }

    /// <summary>Makes <paramref name="step"/> throw <paramref name="exception"/>; optionally only for one order/status or the first <paramref name="times"/> times.</summary>
    public FakeMigrationManager Fail(ManagerStep step, Exception exception, long? order = null, MigrationStatus? status = null, int? times = null)
    {
        lock (_gate) { _rules.Add(new FailureRule(step, exception, order, status, times)); }
        return this;
    }

    public static string StatusText(MigrationStatus status) =>
        MigrationStatusText.IsDefined(status) ? MigrationStatusText.ToText(status) : ((int)status).ToString(CultureInfo.InvariantCulture);

    public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Call(ManagerStep.AcquireDbLock, "AcquireDBLock()", cancellationToken);

    public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Call(ManagerStep.EnsureDataStores, "EnsureDataStores()", cancellationToken);

    public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Call(ManagerStep.ReleaseDbLock, "ReleaseDBLock()", cancellationToken);

    public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => Call(ManagerStep.AcquireMigrationLock, "AcquireMigrationLock()", cancellationToken);

    public async Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _heartbeatsInFlight++;
            MaxConcurrentHeartbeats = Math.Max(MaxConcurrentHeartbeats, _heartbeatsInFlight);
            LastHeartbeatToken = cancellationToken;
        }

        try
        {
            await Call(ManagerStep.Heartbeat, null, cancellationToken);
        }
        finally
        {
            lock (_gate) { _heartbeatsInFlight--; }
        }
    }

    public async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        await Call(ManagerStep.ListStatuses, "ListStatuses()", cancellationToken);
        return [.. InitialStatuses];
    }

    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        await Call(ManagerStep.PersistStatus, $"PersistStatus(order={order.ToString(CultureInfo.InvariantCulture)}, status={StatusText(status)})", cancellationToken, order, status);
        SetPersisted(order, status);
    }

    protected void SetPersisted(long order, MigrationStatus status)
    {
        lock (_gate) { _persisted[order] = status; }
    }

    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => Call(ManagerStep.ReleaseMigrationLock, "ReleaseMigrationLock()", cancellationToken);

    protected async Task Call(ManagerStep step, string? text, CancellationToken cancellationToken, long? order = null, MigrationStatus? status = null)
    {
        int number;
        lock (_gate)
        {
            if (text is not null)
            {
                _calls.Add(text);
            }

            number = _counts.GetValueOrDefault(step) + 1;
            _counts[step] = number;
            if (step is ManagerStep.ReleaseDbLock or ManagerStep.ReleaseMigrationLock)
            {
                ReleaseTokenWasCancelled.Add(cancellationToken.IsCancellationRequested);
                ReleaseTokenCanBeCanceled.Add(cancellationToken.CanBeCanceled);
            }
        }

        if (YieldOnEachCall)
        {
            await Task.Yield();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (Hook is { } hook)
        {
            await hook(step, number, cancellationToken);
        }

        Exception? failure = null;
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (rule.Step == step && (rule.Order is null || rule.Order == order) && (rule.Status is null || rule.Status == status)
                    && (rule.Times is null || rule.Used < rule.Times))
                {
                    rule.Used++;
                    failure = rule.Exception;
                    break;
                }
            }

            if (failure is null)
            {
                _successes[step] = _successes.GetValueOrDefault(step) + 1;
            }
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    private sealed class FailureRule(ManagerStep step, Exception exception, long? order, MigrationStatus? status, int? times)
    {
        public ManagerStep Step { get; } = step;
        public Exception Exception { get; } = exception;
        public long? Order { get; } = order;
        public MigrationStatus? Status { get; } = status;
        public int? Times { get; } = times;
        public int Used { get; set; }
    }
}

/// <summary>A fake manager that is also an <see cref="IServiceProvider"/> (as the shipped managers are).</summary>
internal sealed class ServiceProvidingFakeManager : FakeMigrationManager, IServiceProvider
{
    public object? GetService(Type serviceType) => serviceType == typeof(FakeMigrationManager) ? this : null;
}
