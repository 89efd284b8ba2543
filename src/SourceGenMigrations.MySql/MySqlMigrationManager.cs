using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

/// <summary>
/// An <see cref="IMigrationManager"/> on MySQL (8.0 and later, 8.4 LTS) and MariaDB (10.6 and later; tested on 10.11)
/// through MySqlConnector (<see cref="MySqlDataSource"/>), safe for many replicas on many hosts. Each transactional
/// migration without DDL runs as one unit of work: its statements and its <c>COMPLETED</c> status commit in one
/// transaction on the connection served to it. MySQL commits implicitly at DDL, so a migration with DDL cannot be
/// atomic: see <see cref="BeginMigrationAsync"/>.
/// </summary>
/// <remarks>
/// <para><b>Database lock</b>: <c>GET_LOCK(name, 0)</c> on a connection of its own, tried again every 50 ms at most until
/// taken or until the token ends (a blocking <c>GET_LOCK</c> with a timeout could not be cancelled), held from
/// <see cref="AcquireDbLockAsync"/> to <see cref="ReleaseDbLockAsync"/>, whose <c>RELEASE_LOCK</c> must answer 1. The
/// lock belongs to that connection's session, not to a transaction: the implicit commits of the DDL in
/// <see cref="EnsureDataStoresAsync"/> do not release it. Lock names are server-wide and at most 64 characters; the name
/// is <c>sgm:{DATABASE()}.{lock table}</c>, or <c>sgm:</c> and the first 60 hex digits of its SHA-256 when longer
/// (<see cref="ComputeDbLockName"/>), so two databases on one server do not block each other.</para>
/// <para><b>Where GET_LOCK does not hold</b>: on a Galera cluster (MariaDB Galera, Percona XtraDB Cluster) with several
/// writable nodes, a named lock exists only on the node that took it: send the migrating replicas to one node (one
/// writer endpoint, or a proxy rule for the migration user). Behind ProxySQL with multiplexing, two statements of one
/// client may run on different server connections; ProxySQL disables multiplexing for a connection that called
/// <c>GET_LOCK</c>, but keep it off for the migration user (<c>mysql_query_rules.multiplex = 0</c>) or connect the
/// migrations directly. The migration lock, a lease row, holds everywhere the table does.</para>
/// <para><b>Migration lock</b>: a lease row in <c>{prefix}_lock</c> (owner id, expiry), taken in a short transaction by
/// <c>INSERT … ON DUPLICATE KEY UPDATE</c> that assigns itself only when the lease is free, expired or already this
/// owner's, and read back in the same transaction (MySQL has no <c>RETURNING</c> and no <c>WHERE</c> on its upsert);
/// extended by the heartbeat, deleted by its owner on release. A runner that finds the lease held waits, polling.</para>
/// <para><b>Time</b>: lease times come from the server's clock (<c>UTC_TIMESTAMP(6)</c>, stored in <c>DATETIME(6)</c> as
/// UTC whatever the session's time zone): replicas on different hosts share no other clock.</para>
/// </remarks>
public sealed partial class MySqlMigrationManager : ITransactionalMigrationManager, IMigrationSqlDialect, IServiceProvider, IAsyncDisposable, IDisposable
{
    /// <summary>The longest lock name MySQL accepts in <c>GET_LOCK</c>.</summary>
    private const int MaxLockNameLength = 64;

    /// <summary>The prefix of the database lock's name.</summary>
    private const string LockNamePrefix = "sgm:";

    private readonly OwnerIdentity _owner;
    private readonly MySqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _lockTableName;
    private readonly string _statusTableName;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Statements _sql;
    private readonly LeaseProtocol _lease;
    private int _disposed;

    /// <summary>Creates a manager on a data source that the caller owns (and disposes).</summary>
    /// <remarks>
    /// Add <c>IgnoreCommandTransaction=true</c> to the data source's connection string: a transactional migration runs in a
    /// transaction on the connection it is served, and MySqlConnector refuses a command whose
    /// <see cref="MySqlCommand.Transaction"/> is not that transaction unless told to ignore it. Without it, every command of
    /// a transactional migration must set <c>Transaction = context.GetMySqlTransaction()</c> (the manager logs a warning).
    /// </remarks>
    /// <param name="dataSource">The database (its connection string names it); its connections are served to migrations.</param>
    /// <param name="options">Table names, lease, polling, owner id, logging; null means the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dataSource"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and the value.</exception>
    public MySqlMigrationManager(MySqlDataSource dataSource, MySqlMigrationManagerOptions? options = null)
        : this(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), ownsDataSource: false, options)
    {
        if (!new MySqlConnectionStringBuilder(dataSource.ConnectionString).IgnoreCommandTransaction)
        {
            Log.CommandTransactionChecked(_logger);
        }
    }

    /// <summary>
    /// Creates a manager that builds, owns and disposes a data source from <paramref name="connectionString"/>, with
    /// <c>IgnoreCommandTransaction=true</c> added, so that commands a migration makes the ordinary way
    /// (<c>connection.CreateCommand()</c>, <c>new MySqlCommand(sql, connection)</c>) join its transaction.
    /// </summary>
    /// <param name="connectionString">A MySqlConnector connection string naming the database (<c>Database=…</c>).</param>
    /// <param name="options">Table names, lease, polling, owner id, logging; null means the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connectionString"/> is null.</exception>
    /// <exception cref="ArgumentException">The connection string or an option is invalid; the message names it and the value.</exception>
    public MySqlMigrationManager(string connectionString, MySqlMigrationManagerOptions? options = null)
        : this(CreateDataSource(connectionString), ownsDataSource: true, options)
    {
    }

    private MySqlMigrationManager(MySqlDataSource dataSource, bool ownsDataSource, MySqlMigrationManagerOptions? options)
    {
        options ??= new MySqlMigrationManagerOptions();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        try
        {
            // Table names are case-sensitive on Linux and not on Windows or macOS (lower_case_table_names): two names
            // that differ only by case are refused, so a deployment behaves the same on every server.
            (_lockTableName, _statusTableName) = ManagerValidation.TableNames(options.TablePrefix, options.LockTableName, options.StatusTableName, caseSensitive: false);
            ManagerValidation.CheckDuration(options.LeaseDuration, ManagerValidation.MaxLeaseDuration, nameof(options.LeaseDuration));
            ManagerValidation.CheckDuration(options.PollInterval, ManagerValidation.MaxPollInterval, nameof(options.PollInterval));
            _leaseDuration = options.LeaseDuration;
            _pollInterval = options.PollInterval;
            _owner = ManagerValidation.OwnerIdOrGenerated(options.OwnerId, nameof(options.OwnerId));
            _logger = options.Logger ?? NullLogger.Instance;
            _timeProvider = options.TimeProvider ?? TimeProvider.System;
            _sql = new Statements(_lockTableName, _statusTableName);
            _lease = new LeaseProtocol(new LeaseStore(this), _lockTableName, _owner, _pollInterval, _timeProvider, _logger);
        }
        catch
        {
            if (ownsDataSource)
            {
                dataSource.Dispose();
            }

            throw;
        }
    }

    /// <summary>This runner's id in the lease row.</summary>
    public string OwnerId => _owner.Value;

    /// <summary>The lease table's name (unquoted; in the connection's database).</summary>
    public string LockTableName => _lockTableName;

    /// <summary>The status table's name (unquoted; in the connection's database).</summary>
    public string StatusTableName => _statusTableName;

    /// <summary>
    /// The name of the database lock (<c>GET_LOCK</c>) for a database and a lock table: <c>sgm:{database}.{lockTable}</c>
    /// when it fits MySQL's 64 characters, else <c>sgm:</c> followed by the first 60 lowercase hex digits of the SHA-256 of
    /// that text (UTF-8). The manager has the server compute it from <c>DATABASE()</c>; this is the same rule, for
    /// operators looking for the lock (<c>IS_USED_LOCK(name)</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static string ComputeDbLockName(string database, string lockTable)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(lockTable);
        var name = LockNamePrefix + database + "." + lockTable;
        if (name.Length <= MaxLockNameLength)
        {
            return name;
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name))).ToLowerInvariant();
        return LockNamePrefix + hash[..(MaxLockNameLength - LockNamePrefix.Length)];
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One short transaction takes the lease when there is no lease row, when it expired, or when this owner already holds
    /// it. Otherwise waits, polling every <see cref="MySqlMigrationManagerOptions.PollInterval"/>, until it succeeds or
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </remarks>
    public Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.AcquireAsync(cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The lease row is gone or held by another owner: the lease was lost.</exception>
    public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.HeartbeatAsync(cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The lease was no longer held by this runner (nothing was deleted).</exception>
    public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _lease.ReleaseAsync(cancellationToken);
    }

    /// <summary><see cref="MigrationSqlDialects.MySql"/>: the runner runs the SQL files written for this database and those for every database.</summary>
    public string SqlDialect => MigrationSqlDialects.MySql;

    /// <summary>
    /// Serves, while a migration runs, its connection as <see cref="MySqlConnection"/> and <see cref="DbConnection"/>
    /// (inside the migration's transaction when it is transactional) and that transaction as
    /// <see cref="MySqlTransaction"/> and <see cref="DbTransaction"/>; at any time the <see cref="MySqlDataSource"/> (also
    /// as <see cref="DbDataSource"/>), whose commands run outside the migration's transaction; and the manager itself.
    /// The connection and the transaction are the manager's: do not dispose, commit or roll them back.
    /// </summary>
    /// <returns>The service, or null for any other type (and for the connection and transaction types when no migration runs).</returns>
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(MySqlConnection) || serviceType == typeof(DbConnection))
        {
            return Volatile.Read(ref _currentSession)?.Connection;
        }

        if (serviceType == typeof(MySqlTransaction) || serviceType == typeof(DbTransaction))
        {
            return Volatile.Read(ref _currentSession)?.Transaction;
        }

        if (serviceType == typeof(MySqlDataSource) || serviceType == typeof(DbDataSource))
        {
            return _dataSource;
        }

        if (serviceType == typeof(MySqlMigrationManager) || serviceType == typeof(IMigrationManager) || serviceType == typeof(ITransactionalMigrationManager))
        {
            return this;
        }

        return null;
    }

    /// <summary>
    /// Releases a database lock still held and ends a unit of work still open (rolling back what it can), and disposes the
    /// data source when the manager created it. Does not release the lease.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await EndDbLockAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _currentSession, null) is { } session)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        await EndControlAsync().ConfigureAwait(false);

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>See <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static MySqlDataSource CreateDataSource(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        try
        {
            var builder = new MySqlDataSourceBuilder(connectionString);

            // A transactional migration's commands join its transaction without setting MySqlCommand.Transaction, as on
            // the other managers (MySqlConnector refuses them otherwise).
            builder.ConnectionStringBuilder.IgnoreCommandTransaction = true;
            return builder.Build();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"The MySQL connection string is invalid: {e.Message}", nameof(connectionString), e);
        }
    }

    /// <summary>A <c>DATETIME(6)</c> read from the server, which the manager writes as UTC.</summary>
    private static DateTimeOffset ToOffset(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
