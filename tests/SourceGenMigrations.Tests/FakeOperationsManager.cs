namespace SourceGenMigrations.Tests;

/// <summary>
/// A recording manager that also implements <see cref="IMigrationOperations"/>: "ReadStatuses()" returns the
/// <see cref="FakeMigrationManager.InitialStatuses"/>, the lease is a property, and a forced release is recorded as
/// "ForceReleaseLease(holder)". Disposable, to see who disposes it.
/// </summary>
internal sealed class FakeOperationsManager : FakeMigrationManager, IMigrationOperations, IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The lease as <see cref="ReadLeaseAsync"/> reads it; null when nobody holds it.</summary>
    public MigrationLease? Lease { get; set; }

    /// <summary>Another runner takes the lease between the read and the forced release.</summary>
    public bool LeaseChangesHandsBeforeRelease { get; set; }

    public bool Disposed { get; private set; }

    public static MigrationLease Live(string owner) => new(owner, Now.AddSeconds(-10), Now.AddSeconds(20), Now);

    public static MigrationLease Expired(string owner) => new(owner, Now.AddSeconds(-90), Now.AddSeconds(-30), Now);

    public async Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken)
    {
        await Call(ManagerStep.ReadStatuses, "ReadStatuses()", cancellationToken);
        return [.. InitialStatuses];
    }

    public async Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        await Call(ManagerStep.ReadLease, "ReadLease()", cancellationToken);
        return Lease;
    }

    public async Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken)
    {
        await Call(ManagerStep.ForceReleaseLease, $"ForceReleaseLease({expectedOwnerId ?? "any"})", cancellationToken);
        if (LeaseChangesHandsBeforeRelease)
        {
            Lease = Live("someone-else");
        }

        if (Lease is not { } lease || (expectedOwnerId is not null && lease.OwnerId != expectedOwnerId))
        {
            return null;
        }

        Lease = null;
        return lease;
    }

    public void Dispose() => Disposed = true;
}
