namespace SourceGenMigrations;

/// <summary>
/// An <see cref="IMigrationManager"/> that runs each migration as one unit of work: a transactional migration's
/// statements and its <c>COMPLETED</c> status commit together, so after a crash at any moment it has taken effect
/// exactly once when the next run is done. <see cref="MigrationRunner"/> uses it when the manager implements it; a
/// manager that implements only <see cref="IMigrationManager"/> gets the separate status writes of
/// <see cref="IMigrationManager.PersistStatusAsync"/>.
/// </summary>
/// <remarks>
/// <para>With this interface the runner writes statuses only through it: <see cref="PersistPendingAsync"/> once for the
/// migrations to run, then for each <see cref="BeginMigrationAsync"/> (<c>STARTED</c>), the migration, and
/// <see cref="MigrationUnitOfWork.CompleteAsync"/> (<c>COMPLETED</c>) or <see cref="MigrationUnitOfWork.FailAsync"/>
/// (<c>FAILED</c>). Locks, heartbeat and listing are the <see cref="IMigrationManager"/> calls as before.</para>
/// <para>Fencing: a runner whose lease was lost may still be inside a migration while another runner takes over. A
/// manager writes <c>STARTED</c> only when the migration is not <c>COMPLETED</c>, and <c>COMPLETED</c> only while it
/// still holds the migration lock, so "exactly once" holds across a lost lease too.</para>
/// </remarks>
public interface ITransactionalMigrationManager : IMigrationManager
{
    /// <summary>
    /// Persists <c>PENDING</c> for every migration of <paramref name="migrations"/> (ascending order) that is not
    /// <c>COMPLETED</c>, with its name: at most one durable commit for the whole list.
    /// </summary>
    Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken);

    /// <summary>
    /// Begins running <paramref name="migration"/>: persists <c>STARTED</c> (inside the unit's transaction for a
    /// transactional migration, in a commit of its own otherwise) and prepares what the migration is served (its
    /// connection, inside the transaction).
    /// </summary>
    /// <returns>The unit of work, or null when the migration is <c>COMPLETED</c> already (another runner completed it:
    /// this runner lost the lock) and must not run.</returns>
    Task<MigrationUnitOfWork?> BeginMigrationAsync(MigrationDescriptor migration, CancellationToken cancellationToken);

    /// <summary>
    /// The persisted statuses as <see cref="IMigrationManager.ListStatusesAsync"/> lists them, read without taking any
    /// lock and without creating or changing anything, or null when a run must take the locks anyway: the data stores
    /// do not exist yet or need the database lock (a table of an older release to upgrade), the database is busy, or
    /// the manager cannot tell. The default implementation returns null.
    /// </summary>
    /// <remarks>
    /// <para>The runner calls it first, before the database lock (step 4). When the statuses show nothing to do (every
    /// persisted status <c>COMPLETED</c>, every enabled migration among them, nothing the run would report) the run ends
    /// there: a start with nothing to do takes no lock and writes nothing. Anything else, or a
    /// failure of this read, and the run takes the locks and reads the statuses again under them, as before.</para>
    /// <para>Safe without a lock because <c>COMPLETED</c> is final: a runner that holds the lease can only add work,
    /// never undo a completed migration, so a snapshot in which every enabled migration is completed stays true.</para>
    /// </remarks>
    /// <returns>The statuses, or null to take the locks.</returns>
    Task<IReadOnlyList<PersistedStatus>?> ListStatusesWithoutLocksAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PersistedStatus>?>(null);
}
