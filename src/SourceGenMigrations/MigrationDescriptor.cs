namespace SourceGenMigrations;

/// <summary>
/// What <see cref="MigrationRunner"/> tells an <see cref="ITransactionalMigrationManager"/> about one migration it is
/// about to mark pending or run: enough for the manager to persist it (order, name, flags) and to decide how to run
/// it (in a transaction or not).
/// </summary>
/// <remarks>New data about a migration is added here as properties, so managers written today keep compiling.</remarks>
public sealed class MigrationDescriptor
{
    /// <summary>Creates a descriptor (the runner does this; useful in a manager's tests).</summary>
    /// <param name="order">The migration's order (zero or more).</param>
    /// <param name="name">The migration's name as shown in logs and stored with its status.</param>
    /// <param name="transactional">Whether the migration runs in one transaction with its <c>COMPLETED</c> status.</param>
    /// <param name="previousStatus">The status persisted before this run (<see cref="MigrationStatus.Pending"/> when none).</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is negative.</exception>
    public MigrationDescriptor(long order, string name, bool transactional, MigrationStatus previousStatus)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        Order = order;
        Name = name;
        Transactional = transactional;
        PreviousStatus = previousStatus;
    }

    /// <summary>The migration's order.</summary>
    public long Order { get; }

    /// <summary>The migration's name (<see cref="MigrationRegistration.DisplayName"/>).</summary>
    public string Name { get; }

    /// <summary>Whether the migration's statements and its <c>COMPLETED</c> status commit together (<see cref="MigrationRegistration.Transactional"/>).</summary>
    public bool Transactional { get; }

    /// <summary>The status persisted before this run: <see cref="MigrationStatus.Pending"/> when the migration never started.</summary>
    public MigrationStatus PreviousStatus { get; }

    /// <summary>
    /// Whether builds that do not know this migration must not start once it took effect. A manager persists it with
    /// the status that marks the effect (<c>COMPLETED</c>; <c>STARTED</c> for a non-transactional migration) and returns
    /// it in <see cref="PersistedStatus.BreaksOlderBuilds"/>.
    /// </summary>
    public bool BreaksOlderBuilds { get; init; }

    /// <summary>
    /// The build that runs the migration, for example <c>MyService 1.4.2+3f2a1c9</c> (<see cref="MigrationOptions.BuildVersion"/>;
    /// by default the entry assembly's name and informational version), or null when unknown. A manager stores it with
    /// each status it writes for the migration, beside its owner id, so that the status table says which build applied
    /// each migration.
    /// </summary>
    public string? BuildVersion { get; init; }

    /// <summary>
    /// The checksum of a SQL-file migration's content (<see cref="MigrationRegistration.Checksum"/>), or null. A manager
    /// stores it with each status it writes for the migration and returns it in <see cref="PersistedStatus.Checksum"/>, so
    /// that a run can tell a file edited after it completed.
    /// </summary>
    public string? Checksum { get; init; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"migration {Order} ({Name})");
}
