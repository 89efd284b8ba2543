using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

/// <summary>
/// An <see cref="IMigrationManager"/> on a SQLite database file (Microsoft.Data.Sqlite), safe for many runner processes
/// on one machine.
/// </summary>
/// <remarks>
/// <para><b>Connections</b>: one, sometimes two. The <i>data connection</i> takes the database lock, creates the tables,
/// reads and writes the statuses, takes and releases the lease, and is the one served to migrations
/// (<see cref="GetService"/>): the schema a migration changes is never re-read by another connection of this runner, and
/// a run costs one schema parse (SQLite parses the whole schema once per connection). The <i>lease connection</i> is
/// opened only when a lease statement must run beside a migration: the heartbeat, and a release while a migration may
/// still be running (after a cancelled run). A run shorter than the heartbeat interval never opens it.</para>
/// <para><b>Database lock</b>: a <c>BEGIN IMMEDIATE</c> transaction on the data connection, held from
/// <see cref="AcquireDbLockAsync"/> to <see cref="ReleaseDbLockAsync"/>; the tables are created inside it. While another
/// connection writes, the manager retries until it gets the lock or the token is cancelled. A transaction that cannot be
/// committed or rolled back takes its connection (and that connection's pool) with it, so no pool ever hands out a
/// connection still inside it.</para>
/// <para><b>Migration lock</b>: a lease row in <c>{prefix}_lock</c> (owner id, expiry), taken by one atomic upsert when
/// there is none or it expired, extended by the heartbeat, deleted by its owner on release. A runner that finds the lease
/// held waits, polling every <see cref="SqliteMigrationManagerOptions.PollInterval"/>: replicas queue, they do not fail.</para>
/// <para><b>Time</b>: lease times are Unix milliseconds read from SQLite's own clock (<c>julianday('now')</c>, UTC),
/// computed inside the statements. SQLite is an embedded database: every runner sharing a file runs on the same
/// machine, so they all read the same clock, and no value computed in .NET (and no injected test clock) can disagree with it.</para>
/// <para><b>Services</b>: <see cref="GetService"/> serves an open <see cref="SqliteConnection"/> to the same database
/// (owned by the manager: do not dispose it), so a migration reaches its database through <see cref="MigrationContext.Services"/>.</para>
/// </remarks>
public sealed class SqliteMigrationManager : IMigrationManager, IServiceProvider, IAsyncDisposable, IDisposable
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    // Unix milliseconds from SQLite's clock; 'now' is fixed for the duration of one statement.
    private const string NowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";

    private readonly string _connectionString;
    private readonly string _dataSourceName;
    private readonly string _lockTable;
    private readonly string _statusTable;
    private readonly string _lockTableName;
    private readonly string _statusTableName;
    private readonly long _leaseMilliseconds;
    private readonly TimeSpan _pollInterval;
    private readonly string? _openPragmas;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    private readonly string _createSql;
    private readonly string _acquireSql;
    private readonly string _readLeaseSql;
    private readonly string _heartbeatSql;
    private readonly string _releaseSql;
    private readonly string _listSql;
    private readonly string _listRowsSql;
    private readonly string _persistSql;

    // Serialise the manager's own statements on each connection (a runner's heartbeat runs concurrently with its
    // status writes; a status command may run beside a migration runner on the same manager).
    private readonly SemaphoreSlim _leaseGate = new(1, 1);
    private readonly SemaphoreSlim _dataGate = new(1, 1);
    private readonly object _dataConnectionSync = new();
    private SqliteConnection? _leaseConnection;
    private SqliteConnection? _dataConnection;
    private SqliteCommand? _persistCommand;
    private SqliteCommand? _listCommand;
    private SqliteCommand? _heartbeatCommand;
    private bool _holdsDbLock;
    private bool _migrationMayRun;
    private int _connectionsOpened;
    private bool _disposed;

    /// <summary>Creates a manager for the database of <paramref name="connectionString"/> (for example <c>Data Source=app.db</c>).</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string.</param>
    /// <param name="options">Table names, lease, polling, owner id, logging; null means the defaults.</param>
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

        var prefix = options.TablePrefix;
        ManagerValidation.QuoteIdentifier(prefix, nameof(options.TablePrefix));
        _lockTableName = options.LockTableName ?? prefix + "_lock";
        _statusTableName = options.StatusTableName ?? prefix + "_status";
        _lockTable = ManagerValidation.QuoteIdentifier(_lockTableName, options.LockTableName is null ? nameof(options.TablePrefix) : nameof(options.LockTableName));
        _statusTable = ManagerValidation.QuoteIdentifier(_statusTableName, options.StatusTableName is null ? nameof(options.TablePrefix) : nameof(options.StatusTableName));
        if (string.Equals(_lockTableName, _statusTableName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"LockTableName and StatusTableName must differ, but both are '{_lockTableName}'.", nameof(options));
        }

        ManagerValidation.CheckDuration(options.LeaseDuration, ManagerValidation.MaxLeaseDuration, nameof(options.LeaseDuration));
        ManagerValidation.CheckDuration(options.PollInterval, ManagerValidation.MaxPollInterval, nameof(options.PollInterval));
        _leaseMilliseconds = Math.Max(1, (long)options.LeaseDuration.TotalMilliseconds);
        _pollInterval = options.PollInterval;
        OwnerId = ManagerValidation.OwnerIdOrDefault(options.OwnerId, nameof(options.OwnerId));
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
        _openPragmas = useWal || synchronous is not null ? (useWal ? "PRAGMA journal_mode=WAL;" : "") + synchronous : null;
        _logger = options.Logger ?? NullLogger.Instance;
        _timeProvider = options.TimeProvider ?? TimeProvider.System;

        _createSql =
            $"""
            CREATE TABLE IF NOT EXISTS {_lockTable} (
                lock_id INTEGER NOT NULL PRIMARY KEY CHECK (lock_id = 1),
                owner_id TEXT NOT NULL,
                acquired_at_ms INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS {_statusTable} (
                migration_order INTEGER NOT NULL PRIMARY KEY,
                status TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            """;
        _acquireSql =
            $"""
            INSERT INTO {_lockTable} (lock_id, owner_id, acquired_at_ms, expires_at_ms)
            VALUES (1, $owner, {NowMs}, {NowMs} + $lease_ms)
            ON CONFLICT (lock_id) DO UPDATE SET
                owner_id = excluded.owner_id, acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
            WHERE {_lockTable}.expires_at_ms <= excluded.acquired_at_ms OR {_lockTable}.owner_id = excluded.owner_id
            RETURNING expires_at_ms;
            """;
        _readLeaseSql = $"SELECT owner_id, expires_at_ms FROM {_lockTable} WHERE lock_id = 1;";
        _heartbeatSql = $"UPDATE {_lockTable} SET expires_at_ms = {NowMs} + $lease_ms WHERE lock_id = 1 AND owner_id = $owner RETURNING expires_at_ms;";
        _releaseSql = $"DELETE FROM {_lockTable} WHERE lock_id = 1 AND owner_id = $owner;";
        _listSql = CompactStatusList.Sql(_statusTable);
        _listRowsSql = $"SELECT migration_order, status FROM {_statusTable} ORDER BY migration_order;";
        _persistSql =
            $"""
            INSERT INTO {_statusTable} (migration_order, status, updated_at)
            VALUES ($order, $status, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            ON CONFLICT (migration_order) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at;
            """;
    }

    /// <summary>This runner's id in the lease row.</summary>
    public string OwnerId { get; }

    /// <summary>The lease table's name (unquoted).</summary>
    public string LockTableName => _lockTableName;

    /// <summary>The status table's name (unquoted).</summary>
    public string StatusTableName => _statusTableName;

    /// <summary>How many connections this manager opened (tests: a run that beats no heartbeat opens one).</summary>
    internal int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    /// <inheritdoc/>
    public async Task AcquireDbLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_holdsDbLock)
            {
                throw new InvalidOperationException("This manager already holds the database lock.");
            }

            var connection = GetDataConnection();
            await ThrowIfTransactionOpenAsync(connection, "take the database lock").ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = "BEGIN IMMEDIATE;";

            // Microsoft.Data.Sqlite retries a busy statement until CommandTimeout (in seconds) without looking at the
            // token; a short timeout inside our own loop keeps waiting unbounded yet cancellable.
            command.CommandTimeout = 1;
            var logged = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (SqliteException e) when (IsBusy(e))
                {
                    if (!logged)
                    {
                        Log.WaitingForDbLock(_logger, _dataSourceName);
                        logged = true;
                    }

                    await Task.Delay(Min(_pollInterval, TimeSpan.FromMilliseconds(50)), _timeProvider, cancellationToken).ConfigureAwait(false);
                }
            }

            _holdsDbLock = true;
            Log.DbLockTaken(_logger, _dataSourceName);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Inside the database lock's transaction when it is held; otherwise in a transaction of its own.</remarks>
    public async Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            if (!_holdsDbLock)
            {
                await ThrowIfTransactionOpenAsync(connection, "create the migration tables").ConfigureAwait(false);
            }

            await ExecuteAsync(connection, _createSql, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Commits the transaction (making the tables durable). When the commit fails the transaction is rolled back; when
    /// that fails too the connection is closed and its pool cleared, which ends the transaction. Does nothing when the
    /// lock is not held.
    /// </remarks>
    public async Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        // Not refused after disposal: disposing already ended the transaction.
        if (_disposed)
        {
            return;
        }

        await _dataGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_holdsDbLock)
            {
                return;
            }

            _holdsDbLock = false;
            var connection = GetDataConnection();
            try
            {
                await ExecuteAsync(connection, "COMMIT;", cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One atomic upsert takes the lease when there is no lease row, when it expired, or when this owner already holds it.
    /// Otherwise waits, polling every <see cref="SqliteMigrationManagerOptions.PollInterval"/>, until it succeeds or
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </remarks>
    public async Task AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        string? lastHolder = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (bool Taken, long ExpiresAtMs, string? Holder) attempt;
            // On the data connection: no migration runs before the lease is taken, and a second connection would
            // parse the whole schema again (on a cold start, the largest cost of a run that has nothing to do).
            await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var connection = GetDataConnection();
                if (!_holdsDbLock)
                {
                    await ThrowIfTransactionOpenAsync(connection, "take the migration lease").ConfigureAwait(false);
                }

                attempt = await TryAcquireAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _dataGate.Release();
            }

            if (attempt.Taken)
            {
                var takenUntil = DateTimeOffset.FromUnixTimeMilliseconds(attempt.ExpiresAtMs);
                LeaseLog.LeaseTaken(_logger, _lockTableName, OwnerId, takenUntil);
                return;
            }

            if (attempt.Holder is not null && !string.Equals(attempt.Holder, lastHolder, StringComparison.Ordinal))
            {
                var heldUntil = DateTimeOffset.FromUnixTimeMilliseconds(attempt.ExpiresAtMs);
                LeaseLog.WaitingForLease(_logger, _lockTableName, attempt.Holder, heldUntil, OwnerId, _pollInterval);
                lastHolder = attempt.Holder;
            }

            await Task.Delay(_pollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(bool Taken, long ExpiresAtMs, string? Holder)> TryAcquireAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using (var command = connection.CreateCommand())
        {
            command.CommandText = _acquireSql;
            command.Parameters.AddWithValue("$owner", OwnerId);
            command.Parameters.AddWithValue("$lease_ms", _leaseMilliseconds);
            var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (result is long expiresAtMs)
            {
                return (true, expiresAtMs, OwnerId);
            }
        }

        var (holder, expires) = await ReadLeaseAsync(connection, cancellationToken).ConfigureAwait(false);
        return (false, expires, holder);
    }

    private async Task<(string? Holder, long ExpiresAtMs)> ReadLeaseAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _readLeaseSql;
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetString(0), reader.GetInt64(1))
            : (null, 0);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The lease row is gone or held by another owner: the lease was lost.</exception>
    public async Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        string? lost = null;
        await _leaseGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await GetLeaseConnectionAsync(cancellationToken).ConfigureAwait(false);
            _heartbeatCommand ??= CreateOwnedCommand(connection, _heartbeatSql, "$lease_ms", _leaseMilliseconds);
            var result = await _heartbeatCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (result is long expiresAtMs)
            {
                var extendedUntil = DateTimeOffset.FromUnixTimeMilliseconds(expiresAtMs);
                LeaseLog.LeaseExtended(_logger, _lockTableName, OwnerId, extendedUntil);
                return;
            }

            lost = await DescribeLeaseAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _leaseGate.Release();
        }

        LeaseLog.LeaseLost(_logger, _lockTableName, OwnerId, lost);
        throw new InvalidOperationException(
            $"The migration lease in table {_lockTableName} was lost: this runner ({OwnerId}) no longer holds it ({lost}). Another runner may be migrating; this run must stop.");
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A row has a negative order or an unknown status text; the message names the row.</exception>
    /// <exception cref="InvalidOperationException">A migration left a transaction open on the served connection.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            if (!_holdsDbLock)
            {
                await ThrowIfTransactionOpenAsync(connection, "read the migration statuses").ConfigureAwait(false);
            }

            if (_listCommand is null)
            {
                _listCommand = connection.CreateCommand();
                _listCommand.CommandText = _listSql;
                _listCommand.Prepare();
            }

            // Microsoft.Data.Sqlite runs its async methods synchronously anyway; the synchronous call skips a task.
            cancellationToken.ThrowIfCancellationRequested();
            var compact = _listCommand.ExecuteScalar() as string;
            if (CompactStatusList.TryParse(compact, out var statuses))
            {
                return statuses;
            }

            // Something the compact form cannot carry: read row by row, which names the bad row.
            using var rows = connection.CreateCommand();
            rows.CommandText = _listRowsSql;
            using var reader = rows.ExecuteReader();
            statuses.Clear();
            while (reader.Read())
            {
                statuses.Add(ReadStatusRow(reader));
            }

            return statuses;
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Written on the connection served to migrations, in its own transaction: a transaction a migration left open there
    /// is rolled back and reported as an error before anything is written (the status would otherwise commit or roll
    /// back with the migration's work).
    /// </remarks>
    /// <exception cref="InvalidOperationException">A migration left a transaction open on the served connection.</exception>
    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        var text = MigrationStatusText.ToText(status);
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            if (!_holdsDbLock)
            {
                await ThrowIfTransactionOpenAsync(connection, $"write the status {text} of migration {order.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
            }

            if (_persistCommand is null)
            {
                _persistCommand = connection.CreateCommand();
                _persistCommand.CommandText = _persistSql;
                _persistCommand.Parameters.Add("$order", SqliteType.Integer);
                _persistCommand.Parameters.Add("$status", SqliteType.Text);
                _persistCommand.Prepare();
            }

            _persistCommand.Parameters[0].Value = order;
            _persistCommand.Parameters[1].Value = text;
            await _persistCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // From STARTED until the next status a migration may be using the data connection (and after a cancelled
            // run, may still be): the lease is then released on the lease connection.
            Volatile.Write(ref _migrationMayRun, status == MigrationStatus.Started);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On the data connection, unless a migration may still be using it (its STARTED status was the last one written,
    /// as when a cancelled run releases the lease while the migration returns): then on the lease connection.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The lease was no longer held by this runner (nothing was deleted).</exception>
    public async Task ReleaseMigrationLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var onLeaseConnection = Volatile.Read(ref _migrationMayRun);
        var gate = onLeaseConnection ? _leaseGate : _dataGate;
        string? lost = null;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SqliteConnection connection;
            if (onLeaseConnection)
            {
                connection = await GetLeaseConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                connection = GetDataConnection();

                // A transaction a migration left open would swallow the delete: end it first (the status write after
                // that migration has reported it already), so the lease is released all the same.
                if (!_holdsDbLock && !IsAutocommit(connection))
                {
                    await EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
                    connection = GetDataConnection();
                }
            }

            using var command = connection.CreateCommand();
            command.CommandText = _releaseSql;
            command.Parameters.AddWithValue("$owner", OwnerId);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
            {
                LeaseLog.LeaseReleased(_logger, _lockTableName, OwnerId);
                return;
            }

            lost = await DescribeLeaseAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }

        LeaseLog.LeaseLost(_logger, _lockTableName, OwnerId, lost);
        throw new InvalidOperationException(
            $"The migration lease in table {_lockTableName} could not be released: this runner ({OwnerId}) no longer holds it ({lost}).");
    }

    /// <summary>
    /// Serves <see cref="SqliteConnection"/>: the manager's open data connection to the managed database (owned by the
    /// manager: do not dispose it; commit or roll back every transaction begun on it), and the manager itself.
    /// </summary>
    /// <returns>The service, or null for any other type.</returns>
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(SqliteConnection))
        {
            ThrowIfDisposed();
            return GetDataConnection();
        }

        if (serviceType == typeof(SqliteMigrationManager) || serviceType == typeof(IMigrationManager))
        {
            return this;
        }

        return null;
    }

    /// <summary>Closes the manager's connections (rolling back a database lock still held). Does not release the lease.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _heartbeatCommand?.Dispose();
        if (_leaseConnection is { } lease)
        {
            _leaseConnection = null;
            await lease.DisposeAsync().ConfigureAwait(false);
        }

        SqliteConnection? data;
        lock (_dataConnectionSync)
        {
            data = _dataConnection;
            _dataConnection = null;
        }

        if (data is not null)
        {
            DisposeDataCommands();

            // A database lock still held, or a transaction a migration left open, must not go back to the pool.
            if (_holdsDbLock || !IsAutocommit(data))
            {
                _holdsDbLock = false;
                await EndTransactionOrDropConnectionAsync(data).ConfigureAwait(false);
            }

            await data.DisposeAsync().ConfigureAwait(false);
        }

        _leaseGate.Dispose();
        _dataGate.Dispose();
    }

    /// <summary>Closes the manager's connections (see <see cref="DisposeAsync"/>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private SqliteCommand CreateOwnedCommand(SqliteConnection connection, string sql, string leaseParameter, long lease)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$owner", OwnerId);
        command.Parameters.AddWithValue(leaseParameter, lease);
        command.Prepare();
        return command;
    }

    /// <summary>One row of the status table, read strictly: an order that is not an integer is an error, not truncated.</summary>
    private PersistedStatus ReadStatusRow(SqliteDataReader reader)
    {
        if (reader.IsDBNull(0) || reader.GetFieldType(0) != typeof(long))
        {
            var value = reader.IsDBNull(0) ? "NULL" : "'" + reader.GetString(0) + "'";
            throw new InvalidDataException(
                $"The table {_statusTableName} has a row with migration_order = {value}, which is not an integer. Fix or delete the row; nothing was run.");
        }

        return StatusRows.Read(_statusTableName, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private async Task<string> DescribeLeaseAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var (holder, expires) = await ReadLeaseAsync(connection, cancellationToken).ConfigureAwait(false);
        return holder is null
            ? "there is no lease row"
            : string.Create(CultureInfo.InvariantCulture, $"it is held by {holder} until {DateTimeOffset.FromUnixTimeMilliseconds(expires):O}");
    }

    private async Task<SqliteConnection> GetLeaseConnectionAsync(CancellationToken cancellationToken)
    {
        if (_leaseConnection is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _leaseConnection = Open();
        }

        return _leaseConnection;
    }

    /// <summary>The data connection, opened on first use (opening a SQLite file is synchronous work either way).</summary>
    private SqliteConnection GetDataConnection()
    {
        lock (_dataConnectionSync)
        {
            ThrowIfDisposed();
            return _dataConnection ??= Open();
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Interlocked.Increment(ref _connectionsOpened);
            if (_openPragmas is not null)
            {
                using var command = connection.CreateCommand();
                command.CommandText = _openPragmas;
                command.ExecuteNonQuery();
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Prepared commands belong to the data connection: they go when it goes.
    private void DisposeDataCommands()
    {
        _persistCommand?.Dispose();
        _persistCommand = null;
        _listCommand?.Dispose();
        _listCommand = null;
    }

    /// <summary>
    /// Ends a transaction left on <paramref name="connection"/>: a rollback, or when that fails, closing the connection
    /// and clearing its pool so that no pool hands out a connection still inside the transaction.
    /// </summary>
    private async Task EndTransactionOrDropConnectionAsync(SqliteConnection connection)
    {
        try
        {
            if (!IsAutocommit(connection))
            {
                await ExecuteAsync(connection, "ROLLBACK;", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (SqliteException)
        {
            DisposeDataCommands();
            lock (_dataConnectionSync)
            {
                if (ReferenceEquals(_dataConnection, connection))
                {
                    _dataConnection = null;
                }
            }

            SqliteConnection.ClearPool(connection);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A transaction a migration left open on the served connection holds SQLite's write lock (the heartbeat and the
    /// lease release would wait behind it) and would swallow the status: it is rolled back, and the step fails.
    /// </summary>
    private async Task ThrowIfTransactionOpenAsync(SqliteConnection connection, string action)
    {
        if (IsAutocommit(connection))
        {
            return;
        }

        await EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
        throw new InvalidOperationException(
            $"Cannot {action}: a transaction was still open on the SqliteConnection that {nameof(SqliteMigrationManager)} serves to migrations ({_dataSourceName}); it was rolled back. A migration must commit or roll back every transaction it begins.");
    }

    // sqlite3_get_autocommit is 0 inside an explicit transaction (BEGIN ... without COMMIT or ROLLBACK).
    private static bool IsAutocommit(SqliteConnection connection) =>
        connection.Handle is null || SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0;

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool IsBusy(SqliteException e) => e.SqliteErrorCode is SqliteBusy or SqliteLocked;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
