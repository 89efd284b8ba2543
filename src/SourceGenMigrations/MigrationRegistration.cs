namespace SourceGenMigrations;

/// <summary>Calls the migration at <paramref name="index"/> of a table of migrations (see <see cref="MigrationRegistration.CreateTable(long[], byte[], string, MigrationDispatcher)"/>).</summary>
/// <param name="index">The migration's position in its table, from zero.</param>
/// <param name="context">What the running migration sees of its run.</param>
/// <param name="cancellationToken">The run's token.</param>
/// <returns>The migration's task.</returns>
public delegate Task MigrationDispatcher(int index, MigrationContext context, CancellationToken cancellationToken);

/// <summary>
/// One migration of the table that <see cref="MigrationRunner"/> runs. The source generator builds these for every
/// <see cref="MigrationAttribute"/> method (<c>GeneratedMigrations.Registrations</c>, with <see cref="CreateTable(long[], byte[], string, MigrationDispatcher, string[])"/>); build
/// them by hand only for migrations that are not methods.
/// </summary>
public sealed class MigrationRegistration
{
    // Bits of CreateTable's flags. Zero is the attribute's defaults: enabled, transactional, not breaking older builds.
    internal const byte DisabledFlag = 1;
    internal const byte NotTransactionalFlag = 2;
    internal const byte BreaksOlderBuildsFlag = 4;
    internal const byte PostgreSqlFlag = 8;
    internal const byte SqliteFlag = 16;
    internal const byte MySqlFlag = 32;

    // Exactly one of the two forms: a delegate, or an index into a dispatcher (the generated table's form, bound only
    // when the migration runs or Migrate is read).
    private readonly MigrationDispatcher? _dispatcher;
    private readonly int _index;
    private readonly NameTable? _names;
    private Func<MigrationContext, CancellationToken, Task>? _migrate;
    private string? _name;

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
        : this(order, enabled, name, transactional, breaksOlderBuilds)
    {
        ArgumentNullException.ThrowIfNull(migrate);
        _migrate = migrate;
    }

    /// <summary>
    /// Creates a registration whose migration is entry <paramref name="index"/> of <paramref name="dispatcher"/>: one
    /// method (a <c>switch</c> on the index) can serve a whole table, and no delegate is made per migration.
    /// </summary>
    /// <param name="order">The position in the run sequence; zero or more, unique within one run.</param>
    /// <param name="index">What <paramref name="dispatcher"/> is called with to run this migration.</param>
    /// <param name="dispatcher">Runs the migration at an index.</param>
    /// <param name="enabled">Whether it runs; a disabled registration keeps its order reserved.</param>
    /// <param name="name">A name for logs and errors; null shows as <c>migration {order}</c>.</param>
    /// <param name="transactional">See <see cref="Transactional"/>.</param>
    /// <param name="breaksOlderBuilds">See <see cref="BreaksOlderBuilds"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dispatcher"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> or <paramref name="index"/> is negative.</exception>
    public MigrationRegistration(long order, int index, MigrationDispatcher dispatcher, bool enabled = true, string? name = null, bool transactional = true, bool breaksOlderBuilds = false)
        : this(order, enabled, name, transactional, breaksOlderBuilds)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        _dispatcher = dispatcher;
        _index = index;
    }

    // The generated table's entry: the name is read from the table's names when first shown.
    private MigrationRegistration(long order, int index, MigrationDispatcher dispatcher, byte flags, NameTable? names, string? checksum)
        : this(order, (flags & DisabledFlag) == 0, null, (flags & NotTransactionalFlag) == 0, (flags & BreaksOlderBuildsFlag) != 0)
    {
        _dispatcher = dispatcher;
        _index = index;
        _names = names;
        Checksum = checksum;
        SqlDialect = (flags & (PostgreSqlFlag | SqliteFlag | MySqlFlag)) switch
        {
            0 => null,
            PostgreSqlFlag => MigrationSqlDialects.PostgreSql,
            SqliteFlag => MigrationSqlDialects.Sqlite,
            MySqlFlag => MigrationSqlDialects.MySql,
            _ => throw new ArgumentException($"The flags of migration {order.ToString(System.Globalization.CultureInfo.InvariantCulture)} name more than one database.", nameof(flags)),
        };
    }

    private MigrationRegistration(long order, bool enabled, string? name, bool transactional, bool breaksOlderBuilds)
    {
        if (order < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, $"A migration order must be zero or more (migration '{name ?? "unnamed"}').");
        }

        Order = order;
        Enabled = enabled;
        _name = name;
        Transactional = transactional;
        BreaksOlderBuilds = breaksOlderBuilds;
    }

    /// <summary>The position in the run sequence.</summary>
    public long Order { get; }

    /// <summary>The migration itself (for a registration made with a <see cref="MigrationDispatcher"/>, a delegate that calls it with this registration's index).</summary>
    public Func<MigrationContext, CancellationToken, Task> Migrate => _migrate ??= InvokeAsync;

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

    /// <summary>
    /// The database the migration is written for (one of <see cref="MigrationSqlDialects"/>), or null when it runs on every
    /// database. The runner leaves a migration out when the manager's <see cref="IMigrationSqlDialect.SqlDialect"/> differs
    /// (and when the manager names no dialect): a SQL file named <c>0003_add_index.postgresql.sql</c> runs on PostgreSQL only.
    /// </summary>
    public string? SqlDialect { get; init; }

    /// <summary>
    /// The checksum of a SQL-file migration's normalised content (SHA-256, lower-case hex), or null. A manager stores it with
    /// the status; a <c>COMPLETED</c> migration whose stored checksum differs was edited after it ran, and the run stops
    /// with an error that names it before anything runs.
    /// </summary>
    public string? Checksum { get; init; }

    /// <summary>The name given at construction (for the generated table, the method's full name), if any (see <see cref="DisplayName"/>).</summary>
    public string? Name => _name ??= _names?.NameAt(_index);

    /// <summary>The name shown in logs, errors and <see cref="MigrationContext.Name"/>: <see cref="Name"/>, else <c>migration {Order}</c>.</summary>
    public string DisplayName => Name ?? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"migration {Order}");

    /// <summary>
    /// The table the source generator emits for <c>GeneratedMigrations.Registrations</c>: orders, flags and names are
    /// data, and every migration is reached through one <paramref name="dispatcher"/>, so that building the table makes
    /// no delegate, no name and no call to a migration method: the code that calls the migrations is compiled only when
    /// one runs, and a name is read only when it is shown.
    /// </summary>
    /// <param name="orders">The orders, one per migration, in the table's order (zero or more each).</param>
    /// <param name="flags">
    /// One byte per migration, a combination of 1 (disabled), 2 (not transactional) and 4 (breaks older builds); null
    /// when every migration is enabled, transactional and breaks no older build.
    /// </param>
    /// <param name="names">The migrations' names in the table's order, separated by <c>'\n'</c> (names cannot contain it); null for none.</param>
    /// <param name="dispatcher">Runs the migration at an index of the table.</param>
    /// <returns>The registrations, in the order given, as a read-only list.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="orders"/> or <paramref name="dispatcher"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="flags"/> does not have one entry per order.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An order is negative.</exception>
    public static IReadOnlyList<MigrationRegistration> CreateTable(long[] orders, byte[]? flags, string? names, MigrationDispatcher dispatcher) =>
        CreateTable(orders, flags, names, dispatcher, checksums: null);

    /// <summary>
    /// The table the source generator emits when the project has SQL-file migrations: as
    /// <see cref="CreateTable(long[], byte[], string, MigrationDispatcher)"/>, with each SQL file's checksum, and flags
    /// that may also name the one database a migration is for: 8 (PostgreSQL), 16 (SQLite), 32 (MySQL).
    /// </summary>
    /// <param name="orders">The orders, one per migration, in the table's order (zero or more each).</param>
    /// <param name="flags">One byte per migration (1 disabled, 2 not transactional, 4 breaks older builds, 8/16/32 its database); null for none.</param>
    /// <param name="names">The migrations' names in the table's order, separated by <c>'\n'</c>; null for none.</param>
    /// <param name="dispatcher">Runs the migration at an index of the table.</param>
    /// <param name="checksums">One entry per migration, the <see cref="Checksum"/> of a SQL file and null for a method; null for none.</param>
    /// <returns>The registrations, in the order given, as a read-only list.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="orders"/> or <paramref name="dispatcher"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="flags"/> or <paramref name="checksums"/> does not have one entry per order, or flags name two databases.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An order is negative.</exception>
    public static IReadOnlyList<MigrationRegistration> CreateTable(long[] orders, byte[]? flags, string? names, MigrationDispatcher dispatcher, string?[]? checksums)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(dispatcher);
        if (flags is not null && flags.Length != orders.Length)
        {
            throw new ArgumentException($"{nameof(flags)} has {flags.Length} entries for {orders.Length} orders.", nameof(flags));
        }

        if (checksums is not null && checksums.Length != orders.Length)
        {
            throw new ArgumentException($"{nameof(checksums)} has {checksums.Length} entries for {orders.Length} orders.", nameof(checksums));
        }

        var nameTable = names is null ? null : new NameTable(names, orders.Length);
        var registrations = new MigrationRegistration[orders.Length];
        for (var i = 0; i < registrations.Length; i++)
        {
            registrations[i] = new MigrationRegistration(orders[i], i, dispatcher, flags is null ? (byte)0 : flags[i], nameTable, checksums?[i]);
        }

        return new System.Collections.ObjectModel.ReadOnlyCollection<MigrationRegistration>(registrations);
    }

    /// <inheritdoc/>
    public override string ToString() => DisplayName;

    /// <summary>Runs the migration (what the runner calls: the generated table's dispatcher directly, without a delegate per migration).</summary>
    internal Task InvokeAsync(MigrationContext context, CancellationToken cancellationToken) =>
        _dispatcher is { } dispatcher ? dispatcher(_index, context, cancellationToken) : _migrate!(context, cancellationToken);

    /// <summary>
    /// The names of a generated table, one string with a <c>'\n'</c> between two names, split into names only when one is
    /// read (on a start with nothing to run, never).
    /// </summary>
    private sealed class NameTable(string names, int count)
    {
        private int[]? _starts;

        public string NameAt(int index)
        {
            var starts = _starts ??= FindStarts();
            var end = index + 1 < starts.Length ? starts[index + 1] - 1 : names.Length;

            // A source file whose line ends became "\r\n" (a checkout that converts them) gives the same names.
            if (end > starts[index] && names[end - 1] == '\r')
            {
                end--;
            }

            return names.Substring(starts[index], end - starts[index]);
        }

        private int[] FindStarts()
        {
            var starts = new int[count];
            var next = 0;
            for (var i = 0; i < count; i++)
            {
                if (next > names.Length)
                {
                    throw new InvalidOperationException($"The table's names hold {i} names for {count} orders.");
                }

                starts[i] = next;
                var separator = names.IndexOf('\n', next);
                next = separator < 0 ? names.Length + 1 : separator + 1;
            }

            if (next <= names.Length)
            {
                throw new InvalidOperationException($"The table's names hold more names than its {count} orders.");
            }

            return starts;
        }
    }
}
