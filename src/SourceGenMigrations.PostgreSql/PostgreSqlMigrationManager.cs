using System.Data.Common;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

/// <summary>
/// An <see cref="IMigrationManager"/> on PostgreSQL (Npgsql, <see cref="NpgsqlDataSource"/>), safe for many replicas
/// on many hosts, directly or through a pooler in transaction mode (PgBouncer). Each transactional migration runs as one
/// unit of work: its statements and its <c>COMPLETED</c> status commit in one transaction on the connection served to it.
/// </summary>
/// <remarks>
/// <para><b>No session state</b>: no lock or state of the manager spans two transactions on a session, so it holds behind
/// PgBouncer in transaction pooling mode (which hands each transaction to any server connection), and nothing is left
/// behind on a server connection when a runner dies.</para>
/// <para><b>Database lock</b>: <c>pg_advisory_xact_lock(<see cref="AdvisoryLockKey"/>)</c> taken inside the one
/// transaction that covers <see cref="AcquireDbLockAsync"/>, <see cref="EnsureDataStoresAsync"/> and
/// <see cref="ReleaseDbLockAsync"/> (its commit releases it). A runner that finds it held tries again with
/// <c>pg_try_advisory_xact_lock</c> in short transactions, so waiting replicas pin no pooled server connection. The key
/// is fixed: the first 8 bytes (big-endian) of FNV-1a-64 over the UTF-8 text <c>SourceGenMigrations:{schema}.{lock table}</c>,
/// so every runner of one deployment contends for the same key and two deployments with different tables do not.</para>
/// <para><b>Migration lock</b>: a lease row in <c>{schema}.{prefix}_lock</c> (owner id, expiry), taken by one atomic
/// <c>INSERT … ON CONFLICT DO UPDATE … WHERE expired</c>, extended by the heartbeat, deleted by its owner on release.
/// A runner that finds the lease held waits, polling every <see cref="PostgreSqlMigrationManagerOptions.PollInterval"/>.</para>
/// <para><b>Unit of work</b> (<see cref="ITransactionalMigrationManager"/>): a transactional migration gets a connection
/// of its own from the data source with a transaction begun on it, in which the manager checks (reading only) that the
/// migration is not <c>COMPLETED</c> and the lease is this runner's and, at the end, writes its <c>COMPLETED</c> status
/// together with the lease's extension (only while the lease is still this runner's and the migration not
/// <c>COMPLETED</c>): one durable commit. Commands made on the
/// served connection (<c>connection.CreateCommand()</c>, <c>new NpgsqlCommand(sql, connection)</c>) join the
/// transaction with nothing to set. A non-transactional migration gets a connection without a transaction, for
/// statements such as <c>CREATE INDEX CONCURRENTLY</c>, and its statuses are commits of their own.</para>
/// <para><b>Time</b>: lease times come from the server's clock (<c>clock_timestamp()</c>), computed inside the statements.
/// Replicas run on different hosts whose clocks may disagree; the one server clock is the only one they all share.</para>
/// <para><b>Prepared statements</b>: the manager prepares none, so nothing depends on a server connection's session;
/// keep Npgsql's automatic preparation off (<c>Max Auto Prepare=0</c>, the default) behind a transaction-mode pooler.</para>
/// </remarks>
public sealed partial class PostgreSqlMigrationManager : ITransactionalMigrationManager, IMigrationSqlDialect, IServiceProvider, IAsyncDisposable, IDisposable
{
    private readonly OwnerIdentity _owner;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schemaName;
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
    /// <param name="dataSource">The database; its connections are served to migrations.</param>
    /// <param name="options">Schema, table names, lease, polling, owner id, logging; null means the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dataSource"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and the value.</exception>
    public PostgreSqlMigrationManager(NpgsqlDataSource dataSource, PostgreSqlMigrationManagerOptions? options = null)
        : this(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), ownsDataSource: false, options)
    {
    }

    /// <summary>Creates a manager that builds, owns and disposes a data source from <paramref name="connectionString"/>.</summary>
    /// <remarks>
    /// Right for the usual single run at start-up. Each manager built this way opens its own physical connections and
    /// makes Npgsql load the database's type information again (milliseconds on every run); where a process creates
    /// managers repeatedly, or already has an <see cref="NpgsqlDataSource"/> for the database, pass that instead.
    /// </remarks>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="options">Schema, table names, lease, polling, owner id, logging; null means the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connectionString"/> is null.</exception>
    /// <exception cref="ArgumentException">The connection string or an option is invalid; the message names it and the value.</exception>
    public PostgreSqlMigrationManager(string connectionString, PostgreSqlMigrationManagerOptions? options = null)
        : this(CreateDataSource(connectionString), ownsDataSource: true, options)
    {
    }

    private PostgreSqlMigrationManager(NpgsqlDataSource dataSource, bool ownsDataSource, PostgreSqlMigrationManagerOptions? options)
    {
        options ??= new PostgreSqlMigrationManagerOptions();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        try
        {
            _schemaName = ManagerValidation.CheckIdentifier(options.Schema, nameof(options.Schema));
            (_lockTableName, _statusTableName) = ManagerValidation.TableNames(options.TablePrefix, options.LockTableName, options.StatusTableName, caseSensitive: true);
            ManagerValidation.CheckDuration(options.LeaseDuration, ManagerValidation.MaxLeaseDuration, nameof(options.LeaseDuration));
            ManagerValidation.CheckDuration(options.PollInterval, ManagerValidation.MaxPollInterval, nameof(options.PollInterval));
            _leaseDuration = options.LeaseDuration;
            _pollInterval = options.PollInterval;
            _owner = ManagerValidation.OwnerIdOrGenerated(options.OwnerId, nameof(options.OwnerId));
            _logger = options.Logger ?? NullLogger.Instance;
            _timeProvider = options.TimeProvider ?? TimeProvider.System;
            AdvisoryLockKey = ComputeAdvisoryLockKey(_schemaName, _lockTableName);
            _sql = new Statements(_schemaName, _lockTableName, _statusTableName);
            _lease = new LeaseProtocol(new LeaseStore(this), _schemaName + "." + _lockTableName, _owner, _pollInterval, _timeProvider, _logger);
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

    /// <summary>The schema of the two tables (unquoted).</summary>
    public string SchemaName => _schemaName;

    /// <summary>The lease table's name (unquoted, without schema).</summary>
    public string LockTableName => _lockTableName;

    /// <summary>The status table's name (unquoted, without schema).</summary>
    public string StatusTableName => _statusTableName;

    /// <summary>The key of <c>pg_advisory_xact_lock</c> used as the database lock (see the type's remarks for how it is derived).</summary>
    public long AdvisoryLockKey { get; }

    /// <summary>The key of the database lock for a schema and a lock table: FNV-1a-64 of <c>SourceGenMigrations:{schema}.{lockTable}</c> (UTF-8).</summary>
    public static long ComputeAdvisoryLockKey(string schema, string lockTable)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(lockTable);
        return unchecked((long)Fnv1a64("SourceGenMigrations:" + schema + "." + lockTable));
    }

    /// <summary>FNV-1a-64 of <paramref name="text"/>'s UTF-8 bytes: stable across processes and releases, unlike <see cref="string.GetHashCode()"/>.</summary>
    private static ulong Fnv1a64(string text)
    {
        const ulong offsetBasis = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= prime;
        }

        return hash;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One atomic upsert takes the lease when there is no lease row, when it expired, or when this owner already holds it.
    /// Otherwise waits, polling every <see cref="PostgreSqlMigrationManagerOptions.PollInterval"/>, until it succeeds or
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
    public async Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();

        // The run is over: the connection its migrations shared goes back to the pool (a transaction begun on it for a
        // migration that did not come is rolled back).
        _runOrder = null;
        await CloseIdleConnectionAsync().ConfigureAwait(false);
        await _lease.ReleaseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="MigrationSqlDialects.PostgreSql"/>: the runner runs the SQL files written for this database and those for every database.</summary>
    public string SqlDialect => MigrationSqlDialects.PostgreSql;

    /// <summary>
    /// Serves, while a migration runs, its connection as <see cref="NpgsqlConnection"/> and <see cref="DbConnection"/>
    /// (inside the migration's transaction when it is transactional) and that transaction as
    /// <see cref="NpgsqlTransaction"/> and <see cref="DbTransaction"/>; at any time the <see cref="NpgsqlDataSource"/>
    /// (also as <see cref="DbDataSource"/>), whose commands run outside the migration's transaction; and the manager itself.
    /// The connection and the transaction are the manager's: do not dispose, commit or roll them back.
    /// </summary>
    /// <returns>The service, or null for any other type (and for the connection and transaction types when no migration runs).</returns>
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(NpgsqlConnection) || serviceType == typeof(DbConnection))
        {
            return Volatile.Read(ref _currentSession)?.Connection;
        }

        if (serviceType == typeof(NpgsqlTransaction) || serviceType == typeof(DbTransaction))
        {
            return Volatile.Read(ref _currentSession)?.Transaction;
        }

        if (serviceType == typeof(NpgsqlDataSource) || serviceType == typeof(DbDataSource))
        {
            return _dataSource;
        }

        if (serviceType == typeof(PostgreSqlMigrationManager) || serviceType == typeof(IMigrationManager) || serviceType == typeof(ITransactionalMigrationManager))
        {
            return this;
        }

        return null;
    }

    /// <summary>Ends a database lock or a unit of work still open (rolling it back) and disposes the data source when the manager created it. Does not release the lease.</summary>
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

        await CloseIdleConnectionAsync().ConfigureAwait(false);

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>See <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Opens a connection of the data source; a failure names the host, port and database (a missing database, a refused
    /// password or an unreachable host otherwise leave the reader guessing which), never the password.
    /// </summary>
    private async ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            var target = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
            throw new NpgsqlException(DatabaseNames.Name(e.Message, DatabaseNames.Server("PostgreSQL", target.Database ?? target.Username, target.Host, target.Port)), e);
        }
    }

    private static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        try
        {
            // The slim builder: the manager needs only basic types, and it keeps NativeAOT binaries small.
            return new NpgsqlSlimDataSourceBuilder(connectionString).Build();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ArgumentException($"The PostgreSQL connection string is invalid: {e.Message}", nameof(connectionString), e);
        }
    }

    private static DateTimeOffset ToOffset(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
