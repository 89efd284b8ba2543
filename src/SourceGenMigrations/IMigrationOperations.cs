namespace SourceGenMigrations;

/// <summary>
/// What status commands, waiting replicas and operators need from a manager besides a run: the persisted statuses and
/// the migration lease read without creating or changing anything, and the lease released by force. The shipped SQLite
/// and PostgreSQL managers implement it; a custom manager may.
/// </summary>
/// <remarks>
/// <para>When the manager implements it, <see cref="MigrationRunner.PlanAsync"/> reads through
/// <see cref="ReadStatusesAsync"/> only: no database lock, no data stores created, nothing written. The hosting modes
/// <c>WaitForCompletion</c> and <c>Verify</c>, and the <c>status</c> and <c>unlock</c> commands of
/// <see cref="MigrationCommandLine"/>, use it.</para>
/// <para>Releasing a live lease by force is safe with a manager that fences its status writes (as
/// <see cref="ITransactionalMigrationManager"/> requires): the runner that held it can no longer commit a migration's
/// <c>COMPLETED</c> status; its heartbeat fails and it stops.</para>
/// </remarks>
public interface IMigrationOperations
{
    /// <summary>
    /// How long a lease lasts without a heartbeat (the manager's lease duration option): after a runner died, the time
    /// until another one can take over. A waiting replica gives a <c>FAILED</c> migration this long to be retried.
    /// </summary>
    TimeSpan LeaseDuration { get; }

    /// <summary>
    /// Reads every persisted status, with the name, who applied it and when, where the store keeps them. Creates and
    /// writes nothing: a database, schema or table that does not exist means that nothing was applied (an empty list),
    /// and a status table of an earlier release (without the newer columns) is read as it is.
    /// </summary>
    /// <exception cref="InvalidDataException">A row is invalid (negative order, unknown status); the message names it.</exception>
    Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken);

    /// <summary>Reads the migration lease, judged by the database's clock. Creates and writes nothing.</summary>
    /// <returns>The lease, or null when nobody holds it (no lease row, or no lease table).</returns>
    Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the lease row whoever holds it, live or expired, or only while <paramref name="expectedOwnerId"/> holds it
    /// (what an operator saw, so that a lease that changed hands meanwhile is left alone). Logged as a warning.
    /// </summary>
    /// <param name="expectedOwnerId">The holder the lease must still have; null releases it whoever holds it.</param>
    /// <param name="cancellationToken">Cancels the release.</param>
    /// <returns>The lease as it was when deleted, or null when nothing was deleted (no lease, or another holder).</returns>
    Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken);
}
