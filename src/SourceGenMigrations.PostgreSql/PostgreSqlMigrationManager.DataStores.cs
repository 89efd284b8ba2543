using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

public sealed partial class PostgreSqlMigrationManager
{
    // How long adding columns to a table of the first release may wait for the table's lock (held, say, by a long
    // transaction of an older replica) before the run fails with a message that says so, instead of queueing every
    // other statement on that table behind the ALTER.
    private const string UpgradeLockTimeout = "10s";

    private readonly SemaphoreSlim _dbLockGate = new(1, 1);
    private (NpgsqlConnection Connection, NpgsqlTransaction Transaction)? _dbLock;

    // Whether this manager's EnsureDataStoresAsync found or created the functions of the units of work (in a transaction
    // that a failed commit would undo: the run stops then). Until it did, the units send the statements themselves.
    private volatile bool _functionsCreated;

    /// <inheritdoc/>
    /// <remarks>
    /// Begins a transaction and takes <c>pg_try_advisory_xact_lock</c>; while another runner holds it, rolls back and
    /// tries again (every 50 ms at most), so no server connection is pinned while waiting. The transaction stays open
    /// until <see cref="ReleaseDbLockAsync"/>.
    /// </remarks>
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
                var logged = false;
                while (true)
                {
                    var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    bool taken;
                    try
                    {
                        await using var tryLock = new NpgsqlCommand(_sql.TryLock, connection, transaction);
                        tryLock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
                        taken = await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
                    }
                    catch
                    {
                        await transaction.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }

                    if (taken)
                    {
                        _dbLock = (connection, transaction);
                        Log.DbLockTaken(_logger, AdvisoryLockKey, connection.Database);
                        return;
                    }

                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.DisposeAsync().ConfigureAwait(false);
                    if (!logged)
                    {
                        Log.WaitingForDbLock(_logger, AdvisoryLockKey, connection.Database);
                        logged = true;
                    }

                    await Task.Delay(DbLockRetryDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _dbLockGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// In the database lock's transaction when it is held, otherwise in a transaction of its own: creates the schema when
    /// missing, the two tables (<c>IF NOT EXISTS</c>), and adds the columns a table of the first release lacks (the
    /// migration's name, who applied it, and room for later releases; all nullable, so replicas of the first release keep
    /// writing during a rolling upgrade). The catalog is read first; an <c>ALTER</c> runs only when a column is missing,
    /// under a lock timeout of 10 s. Creates the two PL/pgSQL functions of the units of work when missing
    /// (<c>{status table}_checks_v1</c> and <c>{status table}_complete_v1</c>, in the same schema).
    /// </remarks>
    public async Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_dbLock is { } held)
        {
            await CreateOrUpgradeTablesAsync(held.Connection, held.Transaction, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await CreateOrUpgradeTablesAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task CreateOrUpgradeTablesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
        bool schemaExists;
        await using (var exists = new NpgsqlCommand(_sql.SchemaExists, connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _schemaName });
            schemaExists = await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }

        var columns = new List<string>();
        bool functionsExist;
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (!schemaExists)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(_sql.CreateSchema));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand(_sql.CreateLockTable));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(_sql.CreateStatusTable));
            var columnsCommand = new NpgsqlBatchCommand(_sql.StatusColumns);
            columnsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.StatusTableRegClass });
            batch.BatchCommands.Add(columnsCommand);
            var functionsCommand = new NpgsqlBatchCommand(_sql.FunctionsExist);
            functionsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _schemaName });
            functionsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.ChecksFunctionName });
            functionsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.ChecksFunctionBody });
            functionsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.CompleteFunctionName });
            functionsCommand.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.CompleteFunctionBody });
            batch.BatchCommands.Add(functionsCommand);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add(reader.GetString(0));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            functionsExist = reader.GetInt32(0) == 2;
        }

        var missing = StatusTableSchema.MissingColumns(columns);
        if (missing.Count > 0)
        {
            await AddColumnsAsync(connection, transaction, missing, cancellationToken).ConfigureAwait(false);
        }

        if (!functionsExist)
        {
            // Only where they are missing or differ (a new database, one of an earlier release): CREATE OR REPLACE writes the catalog.
            await using var create = new NpgsqlBatch(connection, transaction);
            create.BatchCommands.Add(new NpgsqlBatchCommand(_sql.CreateChecksFunction));
            create.BatchCommands.Add(new NpgsqlBatchCommand(_sql.CreateCompleteFunction));
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            Log.FunctionsCreated(_logger, _schemaName, _sql.ChecksFunctionName, _sql.CompleteFunctionName);
        }

        _functionsCreated = true;
    }

    private async Task AddColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(string Column, StatusColumnKind Kind)> missing, CancellationToken cancellationToken)
    {
        var alter = _sql.AlterStatusTable + string.Join(", ", missing.Select(static c => "ADD COLUMN IF NOT EXISTS " + c.Column + " " + Statements.TypeName(c.Kind)));
        await using (var upgrade = new NpgsqlBatch(connection, transaction))
        {
            upgrade.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL lock_timeout = '" + UpgradeLockTimeout + "'"));
            upgrade.BatchCommands.Add(new NpgsqlBatchCommand(alter));
            try
            {
                await upgrade.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                throw new InvalidOperationException(
                    $"Could not upgrade the status table {_schemaName}.{_statusTableName} in place: its lock was not granted within {UpgradeLockTimeout} (a long transaction holds the table, perhaps of a replica of an older release). Nothing was changed; the next run tries again.",
                    e);
            }
        }

        var added = string.Join(", ", missing.Select(static c => c.Column));
        StatusTableSchema.LogUpgraded(_logger, _schemaName + "." + _statusTableName, added);
    }

    /// <inheritdoc/>
    /// <remarks>Commits the database lock's transaction, which makes the tables durable and releases the lock. Does nothing when the lock is not held.</remarks>
    public async Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        if (_dbLock is not { } held)
        {
            return;
        }

        _dbLock = null;
        try
        {
            await held.Transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await held.Transaction.DisposeAsync().ConfigureAwait(false);
            await held.Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A row has a negative order or an unknown status text; the message names the row.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var command = _dataSource.CreateCommand(_sql.List);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var statuses = new List<PersistedStatus>();
        var table = _schemaName + "." + _statusTableName;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var order = reader.GetInt64(0);
            var text = reader.IsDBNull(1) ? null : reader.GetString(1);
            statuses.Add(StatusRows.Read(table, order, text) with
            {
                BreaksOlderBuilds = reader.GetBoolean(2),
                Name = reader.IsDBNull(3) ? null : reader.GetString(3),
                Checksum = reader.IsDBNull(4) ? null : reader.GetString(4),
            });
        }

        return statuses;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Two plain reads on a pooled connection, outside any transaction (so through PgBouncer in any mode): the status
    /// table's columns from the catalog (a missing schema or table, or a table of an earlier release that the database
    /// lock upgrades, gives null), then the list as <see cref="ListStatusesAsync"/> reads it.
    /// </remarks>
    public async Task<IReadOnlyList<PersistedStatus>?> ListStatusesWithoutLocksAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var columns = await ReadStatusColumnsAsync(cancellationToken).ConfigureAwait(false);
        return StatusTableSchema.IsCurrent(columns) ? await ListStatusesAsync(cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc/>
    /// <remarks>The separate status write of a plain <see cref="IMigrationManager"/> (the runner uses <see cref="BeginMigrationAsync"/> instead).</remarks>
    public async Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(order);
        var text = MigrationStatusText.ToText(status);
        await using var command = _dataSource.CreateCommand(_sql.Persist);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = order });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = OwnerId });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan DbLockRetryDelay => _pollInterval < TimeSpan.FromMilliseconds(50) ? _pollInterval : TimeSpan.FromMilliseconds(50);

    /// <summary>Rolls back and closes a database lock still held (disposal).</summary>
    private async Task EndDbLockAsync()
    {
        if (_dbLock is not { } held)
        {
            return;
        }

        _dbLock = null;
        await held.Transaction.DisposeAsync().ConfigureAwait(false);
        await held.Connection.DisposeAsync().ConfigureAwait(false);
    }
}
