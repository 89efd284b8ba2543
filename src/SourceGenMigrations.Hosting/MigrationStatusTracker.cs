namespace SourceGenMigrations.Hosting;

/// <summary>Where the start-up migration run of a host is.</summary>
public enum MigrationRunState
{
    /// <summary>The host has not started the run yet.</summary>
    Pending = 0,

    /// <summary>The run is in progress (waiting for a lock or migrating).</summary>
    Running = 1,

    /// <summary>The run finished: every enabled migration is completed.</summary>
    Completed = 2,

    /// <summary>The run failed or was cancelled; <see cref="MigrationStatusTracker.Error"/> tells why.</summary>
    Failed = 3,

    /// <summary>
    /// <see cref="MigrationHostingMode.WaitForCompletion"/>: the host has started and waits for another runner to complete
    /// the migrations (<see cref="MigrationStatusTracker.Detail"/> says which).
    /// </summary>
    Waiting = 4,
}

/// <summary>
/// The state of the start-up migration run, a singleton registered by
/// <see cref="MigrationServiceCollectionExtensions.AddMigrations"/>. Services and the readiness check
/// (<see cref="MigrationHealthCheck"/>) read it; only the host's migration service writes it. Thread-safe.
/// </summary>
public sealed class MigrationStatusTracker
{
    private volatile Snapshot _snapshot = new(MigrationRunState.Pending, null, null);

    /// <summary>The run's state.</summary>
    public MigrationRunState State => _snapshot.State;

    /// <summary>Why the run failed (the runner's <see cref="MigrationException"/>, or an <see cref="OperationCanceledException"/>); null unless <see cref="State"/> is <see cref="MigrationRunState.Failed"/>.</summary>
    public Exception? Error => _snapshot.Error;

    /// <summary>While <see cref="State"/> is <see cref="MigrationRunState.Waiting"/>, what it waits for (the migrations and their statuses); otherwise null.</summary>
    public string? Detail => _snapshot.Detail;

    /// <summary>Whether every enabled migration is completed (<see cref="State"/> is <see cref="MigrationRunState.Completed"/>).</summary>
    public bool IsCompleted => _snapshot.State == MigrationRunState.Completed;

    /// <summary>State and error read together, consistently.</summary>
    internal Snapshot Current => _snapshot;

    /// <summary>Moves from <see cref="MigrationRunState.Pending"/> to <see cref="MigrationRunState.Running"/>; false when the run already started.</summary>
    internal bool TryStart()
    {
        var pending = _snapshot;
        return pending.State == MigrationRunState.Pending
            && Interlocked.CompareExchange(ref _snapshot, new Snapshot(MigrationRunState.Running, null, null), pending) == pending;
    }

    internal void SetWaiting(string detail) => _snapshot = new Snapshot(MigrationRunState.Waiting, null, detail);

    internal void SetCompleted() => _snapshot = new Snapshot(MigrationRunState.Completed, null, null);

    internal void SetFailed(Exception error) => _snapshot = new Snapshot(MigrationRunState.Failed, error, null);

    internal sealed record Snapshot(MigrationRunState State, Exception? Error, string? Detail);
}
