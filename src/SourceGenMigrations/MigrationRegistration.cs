namespace SourceGenMigrations;

/// <summary>
/// One migration of the table that <see cref="MigrationRunner"/> runs. The source generator builds these for every
/// <see cref="MigrationAttribute"/> method (<c>GeneratedMigrations.Registrations</c>); build them by hand only for
/// migrations that are not methods.
/// </summary>
public sealed class MigrationRegistration
{
    /// <summary>Creates a registration.</summary>
    /// <param name="order">The position in the run sequence; zero or more, unique within one run.</param>
    /// <param name="migrate">The migration. A non-transactional one must be idempotent: a run interrupted while it executes runs it again.</param>
    /// <param name="enabled">Whether it runs; a disabled registration keeps its order reserved.</param>
    /// <param name="name">A name for logs and errors; null shows as <c>migration {order}</c>.</param>
    /// <param name="transactional">
    /// Whether the migration and its <c>COMPLETED</c> status commit as one transaction on managers that can do it (see
    /// <see cref="Transactional"/>); false for statements that cannot run in a transaction.
    /// </param>
    /// <param name="breaksOlderBuilds">Whether builds that do not know this migration must not start once it took effect (see <see cref="BreaksOlderBuilds"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="migrate"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is negative.</exception>
    public MigrationRegistration(long order, Func<MigrationContext, CancellationToken, Task> migrate, bool enabled = true, string? name = null, bool transactional = true, bool breaksOlderBuilds = false)
    {
        ArgumentNullException.ThrowIfNull(migrate);
        if (order < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, $"A migration order must be zero or more (migration '{name ?? "unnamed"}').");
        }

        Order = order;
        Migrate = migrate;
        Enabled = enabled;
        Name = name;
        Transactional = transactional;
        BreaksOlderBuilds = breaksOlderBuilds;
    }

    /// <summary>The position in the run sequence.</summary>
    public long Order { get; }

    /// <summary>The migration itself.</summary>
    public Func<MigrationContext, CancellationToken, Task> Migrate { get; }

    /// <summary>Whether the migration runs.</summary>
    public bool Enabled { get; }

    /// <summary>
    /// Whether the migration runs inside a transaction that also writes its <c>COMPLETED</c> status, on a manager that
    /// implements <see cref="ITransactionalMigrationManager"/> (the shipped SQLite and PostgreSQL managers): then a failure,
    /// a cancellation or a crash rolls back both, and the migration takes effect exactly once. False: its statuses are
    /// separate commits and it must be idempotent (a crash while it runs runs it again).
    /// </summary>
    public bool Transactional { get; }

    /// <summary>
    /// Whether builds that do not know this migration must not start on a database where it took effect: the flag is
    /// persisted with its status (<see cref="MigrationAttribute.BreaksOlderBuilds"/>).
    /// </summary>
    public bool BreaksOlderBuilds { get; }

    /// <summary>The name given at construction, if any (see <see cref="DisplayName"/>).</summary>
    public string? Name { get; }

    /// <summary>The name shown in logs, errors and <see cref="MigrationContext.Name"/>: <see cref="Name"/>, else <c>migration {Order}</c>.</summary>
    public string DisplayName => Name ?? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"migration {Order}");

    /// <inheritdoc/>
    public override string ToString() => DisplayName;
}
