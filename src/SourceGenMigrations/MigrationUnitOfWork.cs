namespace SourceGenMigrations;

/// <summary>
/// One migration between its <c>STARTED</c> and its final status, as begun by
/// <see cref="ITransactionalMigrationManager.BeginMigrationAsync"/>: for a transactional migration, the database
/// transaction that holds the migration's statements and its statuses. The runner owns it: it runs the migration, then
/// calls <see cref="CompleteAsync"/> or <see cref="FailAsync"/>, and always disposes it.
/// </summary>
/// <remarks>
/// <para>Disposing a unit that was neither completed nor failed rolls it back and writes nothing: that is what happens
/// when the run is cancelled (a lost lease, the deadline, the caller), so a transactional migration leaves no trace and
/// a non-transactional one stays <c>STARTED</c>; either is run again by the next run.</para>
/// <para>An abstract class rather than an interface so that members can be added later with a default behaviour.</para>
/// </remarks>
public abstract class MigrationUnitOfWork : IAsyncDisposable
{
    /// <summary>Creates the unit for <paramref name="migration"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="migration"/> is null.</exception>
    protected MigrationUnitOfWork(MigrationDescriptor migration)
    {
        ArgumentNullException.ThrowIfNull(migration);
        Migration = migration;
    }

    /// <summary>The migration this unit runs.</summary>
    public MigrationDescriptor Migration { get; }

    /// <summary>
    /// Persists <c>COMPLETED</c> and makes the migration's work durable: for a transactional migration, in the same
    /// commit as its statements, and only while this runner still holds the migration lock.
    /// </summary>
    /// <exception cref="Exception">The commit failed (a deferred constraint, the lock was lost, the connection broke);
    /// for a transactional migration nothing of it was kept.</exception>
    public abstract Task CompleteAsync(CancellationToken cancellationToken);

    /// <summary>Rolls back what the migration did in the unit's transaction (if any) and persists <c>FAILED</c>.</summary>
    /// <param name="failure">Why the migration failed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public abstract Task FailAsync(Exception failure, CancellationToken cancellationToken);

    /// <summary>
    /// The exception the run reports for a failure of the migration or of <see cref="CompleteAsync"/>: by default
    /// <paramref name="failure"/> itself. A manager that can tell why (the migration began a transaction of its own on the
    /// served connection, or ended the manager's) returns a clearer exception that keeps <paramref name="failure"/> inside.
    /// </summary>
    public virtual Exception DescribeFailure(Exception failure) => failure;

    /// <summary>Ends the unit: rolls back a transaction that was neither completed nor failed, and frees its connection.</summary>
    public abstract ValueTask DisposeAsync();
}
