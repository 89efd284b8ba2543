using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    // How long adding columns to a table of an earlier release may wait for the table's metadata lock (held, say, by a
    // long transaction of an older replica) before the run fails with a message that says so, instead of queueing every
    // other statement on that table behind the ALTER (lock_wait_timeout, in seconds).
    private const int UpgradeLockWaitSeconds = 10;

    private readonly SemaphoreSlim _dbLockGate = new(1, 1);
    private (MySqlConnection Connection, string Name)? _dbLock;

    /// <inheritdoc/>
    /// <remarks>
    /// Opens a connection of its own and tries <c>GET_LOCK(name, 0)</c>, which answers at once; while another runner holds
    /// the lock, tries again every 50 ms at most (or <see cref="MySqlMigrationManagerOptions.PollInterval"/> when shorter)
    /// until taken or until <paramref name="cancellationToken"/> ends. The lock stays with that connection's session until
    /// <see cref="ReleaseDbLockAsync"/>: commits, implicit ones included, do not release it.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The connection names no database, or the server refused the lock.</exception>
    public async Task AcquireDbLockAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await _dbLockGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_dbLock is not null)
            {
                throw new InvalidOperationException("This manager already holds the database lock.");
            }

            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var (database, name, taken) = await FirstTryDbLockAsync(connection, cancellationToken).ConfigureAwait(false);
                await using var tryLock = new MySqlCommand(_sql.TryDbLock, connection);
                tryLock.Parameters.Add(new MySqlParameter("@name", MySqlDbType.VarChar) { Value = name });
                var logged = false;
                while (taken != 1)
                {
                    if (taken is null)
                    {
                        throw new InvalidOperationException($"GET_LOCK('{name}', 0) answered NULL on {database}: the server could not take the database lock.");
                    }

                    if (!logged)
                    {
                        Log.WaitingForDbLock(_logger, name, database);
                        logged = true;
                    }

                    await Task.Delay(DbLockRetryDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
                    taken = AsLong(await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
                }

                _dbLock = (connection, name);
                Log.DbLockTaken(_logger, name, database);
            }
            catch
            {
                // The session ends with the connection (or the pool resets it), and with it any lock it holds.
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _dbLockGate.Release();
        }
    }

    /// <summary>
    /// The first <c>GET_LOCK</c>, with the connection's database and the lock name the server computes from it
    /// (<see cref="ComputeDbLockName"/>): the lock's answer is 1 (taken), 0 (held by another session) or null.
    /// </summary>
    private async Task<(string Database, string Name, long? Taken)> FirstTryDbLockAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(_sql.FirstTryDbLock, connection);
        command.Parameters.Add(new MySqlParameter("@lock_table", MySqlDbType.VarChar) { Value = _lockTableName });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.IsDBNull(0))
        {
            throw new InvalidOperationException(
                "The MySQL connection has no database (DATABASE() is NULL): name one in the connection string (Database=…); the migration tables are created there.");
        }

        return (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
    }

    private static long? AsLong(object? value) => value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    /// <remarks>
    /// On the database lock's connection when it is held, otherwise on a connection of its own. Reads
    /// <c>information_schema.COLUMNS</c> first and runs DDL only for what is missing: the two tables
    /// (<c>CREATE TABLE IF NOT EXISTS</c>), or the columns a status table of an earlier release lacks (the migration's
    /// name, who applied it, and room for later releases; all nullable, so replicas of that release keep writing during a
    /// rolling upgrade), added by one <c>ALTER TABLE</c> under <c>SET SESSION lock_wait_timeout = 10</c>. Each DDL
    /// statement commits implicitly; the database lock, held by the session, stays.
    /// </remarks>
    public async Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_dbLock is { } held)
        {
            await CreateOrUpgradeTablesAsync(held.Connection, cancellationToken).ConfigureAwait(false);
            return;
        }

        await OnControlAsync(
            async (connection, ct) =>
            {
                await CreateOrUpgradeTablesAsync(connection, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task CreateOrUpgradeTablesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var lockColumns = 0;
        var statusColumns = new List<string>();
        await using (var columns = new MySqlCommand(_sql.Columns, connection))
        {
            columns.Parameters.Add(new MySqlParameter("@lock_table", MySqlDbType.VarChar) { Value = _lockTableName });
            columns.Parameters.Add(new MySqlParameter("@status_table", MySqlDbType.VarChar) { Value = _statusTableName });
            await using var reader = await columns.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (string.Equals(reader.GetString(0), _statusTableName, StringComparison.OrdinalIgnoreCase))
                {
                    statusColumns.Add(reader.GetString(1));
                }
                else
                {
                    lockColumns++;
                }
            }
        }

        if (lockColumns == 0)
        {
            await ExecuteAsync(connection, _sql.CreateLockTable, cancellationToken).ConfigureAwait(false);
        }

        if (statusColumns.Count == 0)
        {
            await ExecuteAsync(connection, _sql.CreateStatusTable, cancellationToken).ConfigureAwait(false);
            return;
        }

        var missing = StatusTableSchema.MissingColumns(statusColumns);
        if (missing.Count == 0)
        {
            return;
        }

        var alter = _sql.AlterStatusTable + string.Join(", ", missing.Select(static c => "ADD COLUMN " + c.Column + " " + Statements.TypeName(c.Kind)));
        try
        {
            await ExecuteAsync(connection, $"SET SESSION lock_wait_timeout = {UpgradeLockWaitSeconds}; {alter}", cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.LockWaitTimeout)
        {
            throw new InvalidOperationException(
                $"Could not upgrade the status table {_statusTableName} in place: its metadata lock was not granted within {UpgradeLockWaitSeconds} s (a long transaction holds the table, perhaps of a replica of an older release). Nothing was changed; the next run tries again.",
                e);
        }
        finally
        {
            await RestoreLockWaitTimeoutAsync(connection).ConfigureAwait(false);
        }

        var added = string.Join(", ", missing.Select(static c => c.Column));
        StatusTableSchema.LogUpgraded(_logger, _statusTableName, added);
    }

    /// <inheritdoc/>
    /// <remarks><c>RELEASE_LOCK</c> on the lock's connection, which then serves the manager's own statements (closed when the release fails). Does nothing when the lock is not held.</remarks>
    /// <exception cref="InvalidOperationException"><c>RELEASE_LOCK</c> answered 0 (another session holds the lock) or NULL (no such lock): the lock was not this connection's.</exception>
    public async Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        if (_dbLock is not { } held)
        {
            return;
        }

        _dbLock = null;
        try
        {
            await using var release = new MySqlCommand(_sql.ReleaseDbLock, held.Connection);
            release.Parameters.Add(new MySqlParameter("@name", MySqlDbType.VarChar) { Value = held.Name });
            var answer = AsLong(await release.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
            if (answer != 1)
            {
                throw new InvalidOperationException(
                    $"RELEASE_LOCK('{held.Name}') answered {(answer is null ? "NULL (no such lock)" : "0 (held by another session)")}: the database lock was not held by the database lock's connection.");
            }
        }
        catch
        {
            await held.Connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        // Released: the connection, whose session holds nothing now, serves the manager's next statements.
        await KeepAsControlAsync(held.Connection).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A row has a negative order or an unknown status text; the message names the row.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return await OnControlAsync<IReadOnlyList<PersistedStatus>>(ListStatusesAsync, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Two plain reads on the control connection, outside any transaction and without <c>GET_LOCK</c>: the status table's
    /// columns (a missing table, or one of an earlier release that the database lock upgrades, gives null), then the list
    /// as <see cref="ListStatusesAsync(CancellationToken)"/> reads it.
    /// </remarks>
    public Task<IReadOnlyList<PersistedStatus>?> ListStatusesWithoutLocksAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return OnControlAsync<IReadOnlyList<PersistedStatus>?>(
            async (connection, ct) =>
            {
                var columns = await ReadStatusColumnsAsync(connection, ct).ConfigureAwait(false);
                return StatusTableSchema.IsCurrent(columns) ? await ListStatusesAsync(connection, ct).ConfigureAwait(false) : null;
            },
            cancellationToken);
    }

    private async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(_sql.List, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var statuses = new List<PersistedStatus>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            statuses.Add(StatusRows.Read(_statusTableName, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)) with
            {
                BreaksOlderBuilds = reader.GetInt64(2) != 0,
                Name = reader.IsDBNull(3) ? null : reader.GetString(3),
                Checksum = reader.IsDBNull(4) ? null : reader.GetString(4),
            });
        }

        return statuses;
    }

    /// <inheritdoc/>
    /// <remarks>The separate status write of a plain <see cref="IMigrationManager"/> (the runner uses <see cref="BeginMigrationAsync"/> instead).</remarks>
    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        var text = MigrationStatusText.ToText(status);
        await OnControlAsync(
            async (connection, ct) =>
            {
                await using var command = OwnerCommand(_sql.Persist, connection, withLease: false);
                command.Parameters.Add(new MySqlParameter("@order", MySqlDbType.Int64) { Value = order });
                command.Parameters.Add(new MySqlParameter("@status", MySqlDbType.VarChar) { Value = text });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    // The session goes back to the pool (or keeps the database lock): leave its setting as it was. A connection that
    // broke cannot be reset, and its session is gone: the ALTER's own error is the one to report.
    private static async Task RestoreLockWaitTimeoutAsync(MySqlConnection connection)
    {
        try
        {
            await ExecuteAsync(connection, "SET SESSION lock_wait_timeout = DEFAULT", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException)
        {
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan DbLockRetryDelay => _pollInterval < TimeSpan.FromMilliseconds(50) ? _pollInterval : TimeSpan.FromMilliseconds(50);

    /// <summary>Releases the database lock still held (disposal): <c>RELEASE_LOCK</c>, and the connection is closed either way.</summary>
    private async Task EndDbLockAsync()
    {
        try
        {
            await ReleaseDbLockAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException)
        {
            // Closing the connection ends its session, and with it the lock.
        }
    }
}
