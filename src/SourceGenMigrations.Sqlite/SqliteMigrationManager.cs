using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

/// <summary>
/// An <see cref="IMigrationManager"/> on a SQLite database file (Microsoft.Data.Sqlite), safe for many runner processes
/// on one machine. Each transactional migration runs as one unit of work: its statements and its <c>COMPLETED</c>
/// status commit in one transaction on the connection served to it.
/// </summary>
/// <remarks>
/// <para><b>Connections</b>: one, sometimes two. The <i>data connection</i> takes the database lock, creates the tables,
/// reads and writes the statuses, takes and releases the lease, and is the one served to migrations
/// (<see cref="GetService"/>): the schema a migration changes is never re-read by another connection of this runner, and
/// a run costs one schema parse (SQLite parses the whole schema once per connection). The <i>lease connection</i> is
/// opened only when a lease statement must run beside a migration: the heartbeat, and a release while a migration may
/// still be running (after a cancelled run). A run shorter than the heartbeat interval never opens it.</para>
/// <para><b>Database lock</b>: a <c>BEGIN IMMEDIATE</c> transaction on the data connection, held from
/// <see cref="AcquireDbLockAsync"/> to <see cref="ReleaseDbLockAsync"/>; the tables are created (and a table of the first
/// release upgraded) inside it. While another connection writes, the manager retries until it gets the lock or the
/// token is cancelled.</para>
/// <para><b>Migration lock</b>: a lease row in <c>{prefix}_lock</c> (owner id, expiry), taken by one atomic upsert when
/// there is none or it expired, extended by the heartbeat, deleted by its owner on release. A runner that finds the lease
/// held waits, polling every <see cref="SqliteMigrationManagerOptions.PollInterval"/>: replicas queue, they do not fail;
/// a runner that finds the database busy (another runner's migration holds its write lock) counts the lease as held.</para>
/// <para><b>Unit of work</b> (<see cref="ITransactionalMigrationManager"/>): a transactional migration runs inside a
/// <c>BEGIN IMMEDIATE</c> transaction on the data connection, which first reads that the migration is not
/// <c>COMPLETED</c> and the lease is this runner's (nothing is written before the migration runs) and at the end writes
/// its <c>COMPLETED</c> status and extends the lease; a failure, a cancellation or a crash rolls back all of it. The transaction is begun
/// with SQL, so Microsoft.Data.Sqlite does not track it: every command made on the served connection
/// (<c>CreateCommand()</c>, <c>new SqliteCommand(sql, connection)</c>) joins it with nothing to set, and there is no
/// <see cref="DbTransaction"/> object to serve. While it runs it holds the database's write lock: no other process can
/// take the lease or write the row, and the heartbeat counts the lease as kept by that transaction (whose commit extends
/// it unless it was extended within the last tenth of the lease), so a migration may run longer than the lease.</para>
/// <para><b>Time</b>: lease times are Unix milliseconds read from SQLite's own clock (<c>julianday('now')</c>, UTC),
/// computed inside the statements. SQLite is an embedded database: every runner sharing a file runs on the same
/// machine, so they all read the same clock, and no value computed in .NET (and no injected test clock) can disagree with it.</para>
/// </remarks>
public sealed partial class SqliteMigrationManager : ITransactionalMigrationManager, IMigrationSqlDialect, IServiceProvider, IAsyncDisposable, IDisposable
{
    private readonly OwnerIdentity _owner;
    private readonly string _connectionString;

    // The database as errors name it (the file's full path): "unable to open database file" alone does not say which.
    private readonly string _databaseName;
    private readonly string _dataSourceName;
    private readonly string _lockTableName;
    private readonly string _statusTableName;
    private readonly TimeSpan _pollInterval;
    private readonly string? _openPragmas;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Statements _sql;
    private readonly LeaseProtocol _lease;

    /// <summary>Creates a manager for the database of <paramref name="connectionString"/> (for example <c>Data Source=app.db</c>).</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string.</param>
    /// <param name="options">Table names, lease, polling, owner id, durability, logging; null means the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connectionString"/> is null.</exception>
    /// <exception cref="ArgumentException">The connection string or an option is invalid; the message names it and the value.</exception>
    public SqliteMigrationManager(string connectionString, SqliteMigrationManagerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        options ??= new SqliteMigrationManagerOptions();

        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"The SQLite connection string is invalid: {e.Message}", nameof(connectionString), e);
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            throw new ArgumentException("The SQLite connection string must name a database file (Data Source=...).", nameof(connectionString));
        }

        _connectionString = builder.ConnectionString;
        _dataSourceName = builder.DataSource;
        _databaseName = builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:"
            ? $"SQLite in-memory database '{builder.DataSource}'"
            : $"SQLite database file '{Path.GetFullPath(builder.DataSource)}'";

        var names = ManagerValidation.TableNames(options.TablePrefix, options.LockTableName, options.StatusTableName, caseSensitive: false);
        _lockTableName = names.Lock;
        _statusTableName = names.Status;

        ManagerValidation.CheckDuration(options.LeaseDuration, ManagerValidation.MaxLeaseDuration, nameof(options.LeaseDuration));
        ManagerValidation.CheckDuration(options.PollInterval, ManagerValidation.MaxPollInterval, nameof(options.PollInterval));
        _pollInterval = options.PollInterval;
        _owner = ManagerValidation.OwnerIdOrGenerated(options.OwnerId, nameof(options.OwnerId));
        _openPragmas = OpenPragmas(options);
        _logger = options.Logger ?? NullLogger.Instance;
        _timeProvider = options.TimeProvider ?? TimeProvider.System;
        _sql = new Statements(ManagerValidation.Quote(_lockTableName), ManagerValidation.Quote(_statusTableName), _statusTableName, Math.Max(1, (long)options.LeaseDuration.TotalMilliseconds));
        _lease = new LeaseProtocol(new LeaseStore(this), _lockTableName, _owner, _pollInterval, _timeProvider, _logger);
    }

    /// <summary>This runner's id in the lease row.</summary>
    public string OwnerId => _owner.Value;

    /// <summary>The lease table's name (unquoted).</summary>
    public string LockTableName => _lockTableName;

    /// <summary>The status table's name (unquoted).</summary>
    public string StatusTableName => _statusTableName;

    /// <inheritdoc/>
    /// <remarks>
    /// One atomic upsert takes the lease when there is no lease row, when it expired, or when this owner already holds it.
    /// Otherwise waits, polling every <see cref="SqliteMigrationManagerOptions.PollInterval"/>, until it succeeds or
    /// <paramref name="cancellationToken"/> is cancelled. A database that stays busy (another runner's migration holds its
    /// write lock) counts as a held lease.
    /// </remarks>
    public Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.AcquireAsync(cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On its own connection. While this runner's transactional migration holds the database's write lock, nothing is
    /// written: nobody else can write the lease row either, and the migration's commit extends it.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The lease row is gone or held by another owner: the lease was lost.</exception>
    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.HeartbeatAsync(cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On the data connection, unless a migration may still be using it (as when a cancelled run releases the lease while
    /// the migration returns): then on the lease connection.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The lease was no longer held by this runner (nothing was deleted).</exception>
    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.ReleaseAsync(cancellationToken);
    }

    /// <summary><see cref="MigrationSqlDialects.Sqlite"/>: the runner runs the SQL files written for this database and those for every database.</summary>
    public string SqlDialect => MigrationSqlDialects.Sqlite;

    /// <summary>
    /// Serves the manager's open data connection to the managed database, as <see cref="SqliteConnection"/> and as
    /// <see cref="DbConnection"/> (owned by the manager: do not dispose it), and the manager itself. While a transactional
    /// migration runs, that connection is inside the migration's transaction: commands made on it join it; do not begin,
    /// commit or roll back a transaction on it. <see cref="DbTransaction"/> is not served: the transaction is begun with
    /// SQL, so that commands need no <c>Transaction</c> property.
    /// </summary>
    /// <returns>The service, or null for any other type.</returns>
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(SqliteConnection) || serviceType == typeof(DbConnection))
        {
            ThrowIfDisposed();
            return GetDataConnection();
        }

        if (serviceType == typeof(SqliteMigrationManager) || serviceType == typeof(IMigrationManager) || serviceType == typeof(ITransactionalMigrationManager))
        {
            return this;
        }

        return null;
    }

    private static string? OpenPragmas(SqliteMigrationManagerOptions options)
    {
        var useWal = options.UseWriteAheadLog;
        var synchronous = (options.Synchronous ?? (useWal ? SqliteSynchronousMode.Normal : null)) switch
        {
            null => null,
            SqliteSynchronousMode.Off => "PRAGMA synchronous=OFF;",
            SqliteSynchronousMode.Normal => "PRAGMA synchronous=NORMAL;",
            SqliteSynchronousMode.Full => "PRAGMA synchronous=FULL;",
            SqliteSynchronousMode.Extra => "PRAGMA synchronous=EXTRA;",
            var other => throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{nameof(options.Synchronous)} must be null or a defined {nameof(SqliteSynchronousMode)}, but was {(int)other}."),
                nameof(options)),
        };
        return useWal || synchronous is not null ? (useWal ? "PRAGMA journal_mode=WAL;" : "") + synchronous : null;
    }
}
