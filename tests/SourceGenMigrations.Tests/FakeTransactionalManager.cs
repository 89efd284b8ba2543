using System.Globalization;

namespace SourceGenMigrations.Tests;

/// <summary>
/// A recording <see cref="ITransactionalMigrationManager"/>: the <see cref="FakeMigrationManager"/> calls plus
/// "PersistPending(1, 3)", "BeginMigration(order=1, transactional=true)" and, from its units, "Complete(1)", "Fail(1)",
/// "Dispose(1)". The persisted map follows what a transactional database would keep: STARTED and COMPLETED of a
/// transactional migration are only visible once completed; a unit disposed without completion leaves the status as it was.
/// </summary>
internal sealed class FakeTransactionalManager : FakeMigrationManager, ITransactionalMigrationManager
{
    private readonly object _gate = new();
    private readonly List<MigrationDescriptor> _begun = [];

    /// <summary>Orders for which <see cref="BeginMigrationAsync"/> answers "completed already" (null).</summary>
    public HashSet<long> CompletedByAnotherRunner { get; } = [];

    /// <summary>What <see cref="MigrationUnitOfWork.DescribeFailure"/> returns; null returns the failure itself.</summary>
    public Func<Exception, Exception>? Describe { get; set; }

    public IReadOnlyList<MigrationDescriptor> Begun
    {
        get { lock (_gate) { return [.. _begun]; } }
    }

    public IReadOnlyList<MigrationDescriptor>? PendingBatch { get; private set; }

    /// <summary>
    /// Whether <see cref="ListStatusesWithoutLocksAsync"/> answers (recorded as "ListStatusesWithoutLocks()", returning
    /// <see cref="FakeMigrationManager.InitialStatuses"/>); false: it returns null unrecorded, as the interface's default does.
    /// </summary>
    public bool ReadsWithoutLocks { get; set; }

    public async Task<IReadOnlyList<PersistedStatus>?> ListStatusesWithoutLocksAsync(CancellationToken cancellationToken)
    {
        if (!ReadsWithoutLocks)
        {
            return null;
        }

        await Call(ManagerStep.ListStatusesWithoutLocks, "ListStatusesWithoutLocks()", cancellationToken);
        return [.. InitialStatuses];
    }

    public async Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken)
    {
        PendingBatch = [.. migrations];
        await Call(ManagerStep.PersistPending, $"PersistPending({string.Join(", ", migrations.Select(m => m.Order.ToString(CultureInfo.InvariantCulture)))})", cancellationToken);
        foreach (var migration in migrations)
        {
            SetPersisted(migration.Order, MigrationStatus.Pending);
        }
    }

    public async Task<MigrationUnitOfWork?> BeginMigrationAsync(MigrationDescriptor migration, CancellationToken cancellationToken)
    {
        lock (_gate) { _begun.Add(migration); }
        await Call(ManagerStep.BeginMigration, $"BeginMigration(order={Format(migration.Order)}, transactional={(migration.Transactional ? "true" : "false")})", cancellationToken, migration.Order);
        if (CompletedByAnotherRunner.Contains(migration.Order))
        {
            return null;
        }

        if (!migration.Transactional)
        {
            SetPersisted(migration.Order, MigrationStatus.Started);
        }

        return new Unit(this, migration);
    }

    private static string Format(long order) => order.ToString(CultureInfo.InvariantCulture);

    private sealed class Unit(FakeTransactionalManager manager, MigrationDescriptor migration) : MigrationUnitOfWork(migration)
    {
        public override async Task CompleteAsync(CancellationToken cancellationToken)
        {
            await manager.Call(ManagerStep.CompleteMigration, $"Complete({Format(Migration.Order)})", cancellationToken, Migration.Order);
            manager.SetPersisted(Migration.Order, MigrationStatus.Completed);
        }

        public override async Task FailAsync(Exception failure, CancellationToken cancellationToken)
        {
            await manager.Call(ManagerStep.FailMigration, $"Fail({Format(Migration.Order)})", cancellationToken, Migration.Order);
            manager.SetPersisted(Migration.Order, MigrationStatus.Failed);
        }

        public override Exception DescribeFailure(Exception failure) => manager.Describe?.Invoke(failure) ?? failure;

        public override async ValueTask DisposeAsync() =>
            await manager.Call(ManagerStep.DisposeUnit, $"Dispose({Format(Migration.Order)})", CancellationToken.None, Migration.Order);
    }
}
