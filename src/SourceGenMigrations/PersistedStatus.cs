namespace SourceGenMigrations;

/// <summary>The status of one migration as stored by an <see cref="IMigrationManager"/>.</summary>
/// <param name="Order">The migration's order (zero or more).</param>
/// <param name="Status">The migration's last persisted status.</param>
public readonly record struct PersistedStatus(long Order, MigrationStatus Status);
