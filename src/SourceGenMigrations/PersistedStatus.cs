namespace SourceGenMigrations;

/// <summary>The status of one migration as stored by an <see cref="IMigrationManager"/>.</summary>
/// <param name="Order">The migration's order (zero or more).</param>
/// <param name="Status">The migration's last persisted status.</param>
public readonly record struct PersistedStatus(long Order, MigrationStatus Status)
{
    /// <summary>The migration's name as persisted with its status, when the manager keeps it (for messages about migrations this build does not know).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Whether the migration is marked <see cref="MigrationAttribute.BreaksOlderBuilds"/> and took effect (<c>COMPLETED</c>,
    /// or <c>STARTED</c>/<c>FAILED</c> for a non-transactional one): a build that does not know it must not start.
    /// </summary>
    public bool BreaksOlderBuilds { get; init; }

    /// <summary>
    /// Who wrote the status last, when the manager keeps it: the runner's owner id, followed by the build's version in
    /// parentheses when the runner knew it (<see cref="MigrationDescriptor.BuildVersion"/>). Filled by
    /// <see cref="IMigrationOperations.ReadStatusesAsync"/>; <see cref="IMigrationManager.ListStatusesAsync"/> may leave it null.
    /// </summary>
    public string? AppliedBy { get; init; }

    /// <summary>
    /// When the status was written last, when the manager keeps it. Filled by <see cref="IMigrationOperations.ReadStatusesAsync"/>;
    /// <see cref="IMigrationManager.ListStatusesAsync"/> may leave it null.
    /// </summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>
    /// The checksum stored with the status (<see cref="MigrationDescriptor.Checksum"/>: a SQL-file migration's content), when
    /// the manager keeps it. A <c>COMPLETED</c> migration whose checksum differs from its registration's was edited after it
    /// ran: the run stops before anything runs.
    /// </summary>
    public string? Checksum { get; init; }
}
