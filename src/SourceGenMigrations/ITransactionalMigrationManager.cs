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
}
