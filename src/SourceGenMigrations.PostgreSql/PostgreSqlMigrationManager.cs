using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

/// <summary>
/// An <see cref="IMigrationManager"/> on PostgreSQL (Npgsql, <see cref="NpgsqlDataSource"/>), safe for many replicas
/// on many hosts.
/// </summary>
/// <remarks>
/// <para><b>Database lock</b>: <c>pg_advisory_lock(<see cref="AdvisoryLockKey"/>)</c> on a dedicated connection, held from
/// <see cref="AcquireDbLockAsync"/> to <see cref="ReleaseDbLockAsync"/> while the schema and tables are created. The key
/// is fixed: the first 8 bytes (big-endian) of FNV-1a-64 over the UTF-8 text <c>SourceGenMigrations:{schema}.{lock table}</c>,
/// so every runner of one deployment contends for the same key and two deployments with different tables do not.</para>
/// <para><b>Migration lock</b>: a lease row in <c>{schema}.{prefix}_lock</c> (owner id, expiry), taken by one atomic
/// <c>INSERT … ON CONFLICT DO UPDATE … WHERE expired</c>, extended by the heartbeat, deleted by its owner on release. It
/// needs no session state, so it works through PgBouncer (transaction pooling) and on engines without advisory locks.
/// A runner that finds the lease held waits, polling every <see cref="PostgreSqlMigrationManagerOptions.PollInterval"/>.</para>
/// <para><b>Time</b>: lease times come from the server's clock (<c>clock_timestamp()</c>), computed inside the statements.
/// Replicas run on different hosts whose clocks may disagree; the one server clock is the only one they all share.</para>
/// <para><b>Services</b>: <see cref="GetService"/> serves the <see cref="NpgsqlDataSource"/> (also as <see cref="DbDataSource"/>),
/// so a migration reaches its database through <see cref="MigrationContext.Services"/>.</para>
/// </remarks>
public sealed class PostgreSqlMigrationManager : IMigrationManager, IServiceProvider, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schemaName;
    private readonly string _lockTableName;
    private readonly string _statusTableName;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string _displayLockTable;

    private readonly string _createSql;
    private readonly string _acquireSql;
    private readonly string _readLeaseSql;
    private readonly string _heartbeatSql;
    private readonly string _releaseSql;
    private readonly string _listSql;
    private readonly string _persistSql;

    private NpgsqlConnection? _lockConnection;
    private int _disposed;

    /// <summary>Creates a manager on a data source that the caller owns (and disposes).</summary>
    /// <param name="dataSource">The database; also served to migrations.</param>
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
            var schema = ManagerValidation.QuoteIdentifier(options.Schema, nameof(options.Schema));
            ManagerValidation.QuoteIdentifier(options.TablePrefix, nameof(options.TablePrefix));
            _schemaName = options.Schema;
            _lockTableName = options.LockTableName ?? options.TablePrefix + "_lock";
            _statusTableName = options.StatusTableName ?? options.TablePrefix + "_status";
            var lockTable = schema + "." + ManagerValidation.QuoteIdentifier(_lockTableName, options.LockTableName is null ? nameof(options.TablePrefix) : nameof(options.LockTableName));
            var statusTable = schema + "." + ManagerValidation.QuoteIdentifier(_statusTableName, options.StatusTableName is null ? nameof(options.TablePrefix) : nameof(options.StatusTableName));
            if (string.Equals(_lockTableName, _statusTableName, StringComparison.Ordinal))
            {
                throw new ArgumentException($"LockTableName and StatusTableName must differ, but both are '{_lockTableName}'.", nameof(options));
            }

            ManagerValidation.CheckDuration(options.LeaseDuration, ManagerValidation.MaxLeaseDuration, nameof(options.LeaseDuration));
            ManagerValidation.CheckDuration(options.PollInterval, ManagerValidation.MaxPollInterval, nameof(options.PollInterval));
            _lease = options.LeaseDuration;
            _pollInterval = options.PollInterval;
            OwnerId = ManagerValidation.OwnerIdOrDefault(options.OwnerId, nameof(options.OwnerId));
            _logger = options.Logger ?? NullLogger.Instance;
            _timeProvider = options.TimeProvider ?? TimeProvider.System;
            _displayLockTable = _schemaName + "." + _lockTableName;
            AdvisoryLockKey = ComputeAdvisoryLockKey(_schemaName, _lockTableName);

            _createSql =
                $"""
                CREATE TABLE IF NOT EXISTS {lockTable} (
                    lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1),
                    owner_id text NOT NULL,
                    acquired_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                );
                CREATE TABLE IF NOT EXISTS {statusTable} (
                    migration_order bigint NOT NULL PRIMARY KEY,
                    status text NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """;
            _acquireSql =
                $"""
                INSERT INTO {lockTable} AS l (lock_id, owner_id, acquired_at, expires_at)
                VALUES (1, $1, clock_timestamp(), clock_timestamp() + $2)
                ON CONFLICT (lock_id) DO UPDATE SET
                    owner_id = EXCLUDED.owner_id, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
                WHERE l.expires_at <= EXCLUDED.acquired_at OR l.owner_id = EXCLUDED.owner_id
                RETURNING l.expires_at
                """;
            _readLeaseSql = $"SELECT owner_id, expires_at FROM {lockTable} WHERE lock_id = 1";
            _heartbeatSql = $"UPDATE {lockTable} SET expires_at = clock_timestamp() + $2 WHERE lock_id = 1 AND owner_id = $1 RETURNING expires_at";
            _releaseSql = $"DELETE FROM {lockTable} WHERE lock_id = 1 AND owner_id = $1";
            _listSql = $"SELECT migration_order, status FROM {statusTable} ORDER BY migration_order";
            _persistSql =
                $"""
                INSERT INTO {statusTable} (migration_order, status, updated_at) VALUES ($1, $2, clock_timestamp())
                ON CONFLICT (migration_order) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
                """;
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
    public string OwnerId { get; }

    /// <summary>The schema of the two tables (unquoted).</summary>
    public string SchemaName => _schemaName;

    /// <summary>The lease table's name (unquoted, without schema).</summary>
    public string LockTableName => _lockTableName;

    /// <summary>The status table's name (unquoted, without schema).</summary>
    public string StatusTableName => _statusTableName;

    /// <summary>The key of <c>pg_advisory_lock</c> used as the database lock (see the type's remarks for how it is derived).</summary>
    public long AdvisoryLockKey { get; }

    /// <summary>The key of the database lock for a schema and a lock table: FNV-1a-64 of <c>SourceGenMigrations:{schema}.{lockTable}</c> (UTF-8).</summary>
    public static long ComputeAdvisoryLockKey(string schema, string lockTable)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(lockTable);
        const ulong offsetBasis = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes("SourceGenMigrations:" + schema + "." + lockTable))
        {
            hash ^= b;
            hash *= prime;
        }

        return unchecked((long)hash);
    }

    /// <inheritdoc/>
    public async Task AcquireDbLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_lockConnection is not null)
        {
            throw new InvalidOperationException("This manager already holds the database lock.");
        }

        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var tryCommand = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection))
            {
                tryCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
                if (await tryCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
                {
                    Log.WaitingForDbLock(_logger, AdvisoryLockKey, connection.Database);

                    // Blocks in the server until the holder releases; the token cancels it (Npgsql sends a cancel request).
                    await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection) { CommandTimeout = 0 };
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            Log.DbLockTaken(_logger, AdvisoryLockKey, connection.Database);
            _lockConnection = connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Creates the schema when missing, then the two tables (<c>IF NOT EXISTS</c>), on the database lock's connection when it is held.</remarks>
    public async Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var connection = _lockConnection;
        var ownConnection = connection is null;
        connection ??= await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
            bool schemaExists;
            await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)", connection))
            {
                exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _schemaName });
                schemaExists = await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
            }

            var sql = schemaExists ? _createSql : $"CREATE SCHEMA IF NOT EXISTS \"{_schemaName}\";\n{_createSql}";
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (ownConnection)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Unlocks and returns the dedicated connection (closing it resets the session, which frees the lock in any case). Does nothing when the lock is not held.</remarks>
    public async Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        var connection = _lockConnection;
        if (connection is null)
        {
            return;
        }

        _lockConnection = null;
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The advisory lock {AdvisoryLockKey} was not held by the database lock's connection."));
            }
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One atomic upsert takes the lease when there is no lease row, when it expired, or when this owner already holds it.
    /// Otherwise waits, polling every <see cref="PostgreSqlMigrationManagerOptions.PollInterval"/>, until it succeeds or
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </remarks>
    public async Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        string? lastHolder = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using (var command = _dataSource.CreateCommand(_acquireSql))
            {
                AddOwnerAndLease(command);
                if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime takenUntil)
                {
                    var until = ToOffset(takenUntil);
                    LeaseLog.LeaseTaken(_logger, _displayLockTable, OwnerId, until);
                    return;
                }
            }

            var (holder, expiresAt) = await ReadLeaseAsync(cancellationToken).ConfigureAwait(false);
            if (holder is not null && !string.Equals(holder, lastHolder, StringComparison.Ordinal))
            {
                LeaseLog.WaitingForLease(_logger, _displayLockTable, holder, expiresAt, OwnerId, _pollInterval);
                lastHolder = holder;
            }

            await Task.Delay(_pollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The lease row is gone or held by another owner: the lease was lost.</exception>
    public async Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using (var command = _dataSource.CreateCommand(_heartbeatSql))
        {
            AddOwnerAndLease(command);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime extendedUntil)
            {
                var until = ToOffset(extendedUntil);
                LeaseLog.LeaseExtended(_logger, _displayLockTable, OwnerId, until);
                return;
            }
        }

        var lost = await DescribeLeaseAsync(cancellationToken).ConfigureAwait(false);
        LeaseLog.LeaseLost(_logger, _displayLockTable, OwnerId, lost);
        throw new InvalidOperationException(
            $"The migration lease in table {_displayLockTable} was lost: this runner ({OwnerId}) no longer holds it ({lost}). Another runner may be migrating; this run must stop.");
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A row has a negative order or an unknown status text; the message names the row.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var command = _dataSource.CreateCommand(_listSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var statuses = new List<PersistedStatus>();
        var table = _schemaName + "." + _statusTableName;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var order = reader.GetInt64(0);
            var text = reader.IsDBNull(1) ? null : reader.GetString(1);
            statuses.Add(StatusRows.Read(table, order, text));
        }

        return statuses;
    }

    /// <inheritdoc/>
    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        var text = MigrationStatusText.ToText(status);
        await using var command = _dataSource.CreateCommand(_persistSql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = order });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The lease was no longer held by this runner (nothing was deleted).</exception>
    public async Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using (var command = _dataSource.CreateCommand(_releaseSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = OwnerId });
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
            {
                LeaseLog.LeaseReleased(_logger, _displayLockTable, OwnerId);
                return;
            }
        }

        var lost = await DescribeLeaseAsync(cancellationToken).ConfigureAwait(false);
        LeaseLog.LeaseLost(_logger, _displayLockTable, OwnerId, lost);
        throw new InvalidOperationException(
            $"The migration lease in table {_displayLockTable} could not be released: this runner ({OwnerId}) no longer holds it ({lost}).");
    }

    /// <summary>Serves the <see cref="NpgsqlDataSource"/> (also as <see cref="DbDataSource"/>) and the manager itself.</summary>
    /// <returns>The service, or null for any other type.</returns>
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(NpgsqlDataSource) || serviceType == typeof(DbDataSource))
        {
            return _dataSource;
        }

        if (serviceType == typeof(PostgreSqlMigrationManager) || serviceType == typeof(IMigrationManager))
        {
            return this;
        }

        return null;
    }

    /// <summary>Closes a database lock connection still held and disposes the data source when the manager created it. Does not release the lease.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_lockConnection is { } connection)
        {
            _lockConnection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>See <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

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

    private void AddOwnerAndLease(NpgsqlCommand command)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = OwnerId });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = _lease });
    }

    private async Task<(string? Holder, DateTimeOffset ExpiresAt)> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(_readLeaseSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetString(0), ToOffset(reader.GetFieldValue<DateTime>(1)))
            : (null, default);
    }

    private async Task<string> DescribeLeaseAsync(CancellationToken cancellationToken)
    {
        var (holder, expires) = await ReadLeaseAsync(cancellationToken).ConfigureAwait(false);
        return holder is null
            ? "there is no lease row"
            : string.Create(CultureInfo.InvariantCulture, $"it is held by {holder} until {expires:O}");
    }

    private static DateTimeOffset ToOffset(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
