using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.Data.Sqlite;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    /// <inheritdoc/>
    /// <remarks>Completes synchronously when the data connection is free and the database is not written by another connection.</remarks>
    public Task AcquireDbLockAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!TryEnterDataGateNow(cancellationToken))
            {
                return AcquireDbLockWaitingAsync(cancellationToken);
            }
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed(exception);
        }

        return AcquireDbLockHoldingGate(cancellationToken);
    }

    private async Task AcquireDbLockWaitingAsync(CancellationToken cancellationToken)
    {
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        await AcquireDbLockHoldingGate(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The database lock taken with the data gate held; the gate is released when the task completes.</summary>
    private Task AcquireDbLockHoldingGate(CancellationToken cancellationToken)
    {
        Task acquiring;
        try
        {
            if (_holdsDbLock)
            {
                throw new InvalidOperationException("This manager already holds the database lock.");
            }

            var connection = GetDataConnection();
            if (!IsAutocommit(connection))
            {
                // A transaction a migration left open: rolled back, and the step fails.
                acquiring = RollBackAndThrowAsync(connection, "take the database lock");
            }
            else
            {
                var begin = BeginImmediateAsync(connection, cancellationToken, () => Log.WaitingForDbLock(_logger, _dataSourceName));
                acquiring = begin.IsCompletedSuccessfully ? DbLockTaken() : DbLockTakenAsync(begin);
            }
        }
        catch (Exception exception)
        {
            acquiring = CompletedTasks.Failed(exception);
        }

        return ReleasingDataGate(acquiring);
    }

    /// <summary>
    /// Enters the data gate when it is free (true; the caller goes on synchronously and releases it), or says it is taken
    /// (false; the caller waits for it asynchronously). Throws when the manager is disposed or the token cancelled.
    /// </summary>
    private bool TryEnterDataGateNow(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        return _dataGate.Wait(0, CancellationToken.None);
    }

    // Another connection was writing: BEGIN IMMEDIATE is retried until it succeeds or the token ends.
    private async Task DbLockTakenAsync(Task begin)
    {
        await begin.ConfigureAwait(false);
        await DbLockTaken().ConfigureAwait(false);
    }

    private Task DbLockTaken()
    {
        _holdsDbLock = true;
        Log.DbLockTaken(_logger, _dataSourceName);
        return Task.CompletedTask;
    }

    /// <summary><paramref name="task"/>, with the data gate the caller holds released once it completes.</summary>
    private Task ReleasingDataGate(Task task)
    {
        if (!task.IsCompleted)
        {
            return ReleasingDataGateAsync(task);
        }

        _dataGate.Release();
        return task;
    }

    /// <inheritdoc cref="ReleasingDataGate(Task)"/>
    private Task<T> ReleasingDataGate<T>(Task<T> task)
    {
        if (!task.IsCompleted)
        {
            return ReleasingDataGateAsync(task);
        }

        _dataGate.Release();
        return task;
    }

    private async Task ReleasingDataGateAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    private async Task<T> ReleasingDataGateAsync<T>(Task<T> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Inside the database lock's transaction when it is held; otherwise in a transaction of its own. Creates the two
    /// tables when missing, and adds the columns a table of the first release lacks (the migration's name, who applied
    /// it, and room for later releases; all nullable, so replicas of the first release keep writing during a rolling upgrade).
    /// </remarks>
    public Task EnsureDataStoresAsync(CancellationToken cancellationToken)
    {
        // Under the database lock (every run) the work is synchronous: the tables created, the columns counted.
        try
        {
            if (!TryEnterDataGateNow(cancellationToken))
            {
                return EnsureDataStoresCoreAsync(cancellationToken);
            }

            if (!_holdsDbLock)
            {
                _dataGate.Release();
                return EnsureDataStoresCoreAsync(cancellationToken);
            }
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed(exception);
        }

        Task ensuring;
        try
        {
            var connection = GetDataConnection();
            ExecuteAsync(connection, _sql.Create, cancellationToken).GetAwaiter().GetResult();
            ensuring = UpgradeStatusTableAsync(connection, cancellationToken);
        }
        catch (Exception exception)
        {
            ensuring = CompletedTasks.Failed(exception);
        }

        return ReleasingDataGate(ensuring);
    }

    private async Task EnsureDataStoresCoreAsync(CancellationToken cancellationToken)
    {
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            var ownTransaction = !_holdsDbLock;
            if (ownTransaction)
            {
                await ThrowIfTransactionOpenAsync(connection, "create the migration tables").ConfigureAwait(false);
                await BeginImmediateAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await ExecuteAsync(connection, _sql.Create, cancellationToken).ConfigureAwait(false);
                await UpgradeStatusTableAsync(connection, cancellationToken).ConfigureAwait(false);
                if (ownTransaction)
                {
                    Commands(connection).Commit.ExecuteNonQuery();
                }
            }
            catch when (ownTransaction)
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

    private Task UpgradeStatusTableAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // Every start: one value says whether the table has every added column (only a table of 0.1.0 lacks them).
        cancellationToken.ThrowIfCancellationRequested();
        return StatusTableIsCurrent(connection) ? Task.CompletedTask : AddMissingColumnsAsync(connection, cancellationToken);
    }

    /// <summary>Whether the status table exists with every column added since the first release (one value read).</summary>
    private bool StatusTableIsCurrent(SqliteConnection connection)
    {
        using var count = connection.CreateCommand();
        count.CommandText = _sql.AddedColumnCount;
        return count.ExecuteScalar() is long found && found == StatusTableSchema.AddedColumns.Length;
    }

    private async Task AddMissingColumnsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var existing = new List<string>();
        using (var columns = connection.CreateCommand())
        {
            columns.CommandText = _sql.StatusColumns;
            columns.Parameters.AddWithValue("$table", _statusTableName);
            using var reader = await columns.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (reader.Read())
            {
                existing.Add(reader.GetString(0));
            }
        }

        var missing = StatusTableSchema.MissingColumns(existing);
        if (missing.Count == 0)
        {
            return;
        }

        foreach (var (column, kind) in missing)
        {
            await ExecuteAsync(connection, _sql.AddColumnPrefix + column + " " + Statements.TypeName(kind) + ";", cancellationToken).ConfigureAwait(false);
        }

        var added = string.Join(", ", missing.Select(static c => c.Column));
        StatusTableSchema.LogUpgraded(_logger, _statusTableName, added);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Commits the transaction (making the tables durable). When the commit fails the transaction is rolled back; when
    /// that fails too the connection is closed and its pool cleared, which ends the transaction. Does nothing when the
    /// lock is not held.
    /// </remarks>
    public Task ReleaseDbLockAsync(CancellationToken cancellationToken)
    {
        // Not refused after disposal: disposing already ended the transaction.
        if (_disposed)
        {
            return Task.CompletedTask;
        }

        if (!_dataGate.Wait(0, CancellationToken.None))
        {
            return ReleaseDbLockWaitingAsync(cancellationToken);
        }

        return ReleaseDbLockHoldingGate(cancellationToken);
    }

    private async Task ReleaseDbLockWaitingAsync(CancellationToken cancellationToken)
    {
        await _dataGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        await ReleaseDbLockHoldingGate(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The commit with the data gate held; the gate is released when the task completes.</summary>
    private Task ReleaseDbLockHoldingGate(CancellationToken cancellationToken)
    {
        if (!_holdsDbLock)
        {
            _dataGate.Release();
            return Task.CompletedTask;
        }

        _holdsDbLock = false;
        SqliteConnection? connection = null;
        try
        {
            connection = GetDataConnection();
            cancellationToken.ThrowIfCancellationRequested();
            Commands(connection).Commit.ExecuteNonQuery();
        }
        catch (Exception exception)
        {
            return ReleasingDataGate(connection is null ? CompletedTasks.Failed(exception) : EndTransactionAndRethrowAsync(connection, exception));
        }

        _dataGate.Release();
        return Task.CompletedTask;
    }

    // A failed commit: the transaction is ended (rolled back, or the connection dropped), and the failure reported.
    private async Task EndTransactionAndRethrowAsync(SqliteConnection connection, Exception exception)
    {
        await EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
        ExceptionDispatchInfo.Throw(exception);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A row has a negative order or an unknown status text; the message names the row.</exception>
    /// <exception cref="InvalidOperationException">A migration left a transaction open on the served connection.</exception>
    public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken)
    {
        // Synchronous when the data connection is free (every run: under the migration lock, nothing else uses it).
        try
        {
            if (!TryEnterDataGateNow(cancellationToken))
            {
                return ListStatusesCoreAsync(cancellationToken);
            }
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed<IReadOnlyList<PersistedStatus>>(exception);
        }

        try
        {
            var connection = GetDataConnection();
            if (!_holdsDbLock && !IsAutocommit(connection))
            {
                _dataGate.Release();
                return ListStatusesCoreAsync(cancellationToken);
            }

            try
            {
                return Task.FromResult<IReadOnlyList<PersistedStatus>>(ListStatuses(connection, cancellationToken));
            }
            finally
            {
                _dataGate.Release();
            }
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed<IReadOnlyList<PersistedStatus>>(exception);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On the data connection, synchronously, one statement: the status table's added columns and the list. Null when
    /// the table is missing or of an older release (the database lock creates or upgrades it), when the data connection
    /// is in use or the database is busy (another runner's commit), or when the list needs the row-by-row read: the run
    /// then takes the locks and reads again, reporting whatever is wrong.
    /// </remarks>
    public Task<IReadOnlyList<PersistedStatus>?> ListStatusesWithoutLocksAsync(CancellationToken cancellationToken)
    {
        try
        {
            ThrowIfDisposed();
            if (!TryEnterDataGateNow(cancellationToken))
            {
                return Task.FromResult<IReadOnlyList<PersistedStatus>?>(null);
            }
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed<IReadOnlyList<PersistedStatus>?>(exception);
        }

        try
        {
            var connection = GetDataConnection();
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult<IReadOnlyList<PersistedStatus>?>(IsAutocommit(connection) ? ListWithoutLocks(connection) : null);
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed<IReadOnlyList<PersistedStatus>?>(exception);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <summary>
    /// The read without locks through SQLite's own API: a prepare that fails (no such table or column) or a step that
    /// does not return the row (busy) is an answer, not an error, so a first start throws nothing here; and a start with
    /// nothing to do compiles none of Microsoft.Data.Sqlite's command path for it.
    /// </summary>
    private List<PersistedStatus>? ListWithoutLocks(SqliteConnection connection)
    {
        if (SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, _sql.ListWithColumnCount, out var statement) != SQLitePCL.raw.SQLITE_OK)
        {
            statement?.Dispose();
            return null;
        }

        string? compact;
        using (statement)
        {
            if (SQLitePCL.raw.sqlite3_step(statement) != SQLitePCL.raw.SQLITE_ROW
                || SQLitePCL.raw.sqlite3_column_int64(statement, 0) != StatusTableSchema.AddedColumns.Length)
            {
                return null;
            }

            compact = SQLitePCL.raw.sqlite3_column_type(statement, 1) == SQLitePCL.raw.SQLITE_NULL
                ? null
                : SQLitePCL.raw.sqlite3_column_text(statement, 1).utf8_to_string();
        }

        return TryListCompact(connection, compact, out var statuses) ? statuses : null;
    }

    /// <summary>The statuses from the compact list (with the names of those stored as breaking older builds); false when it cannot carry them.</summary>
    private bool TryListCompact(SqliteConnection connection, string? compact, out List<PersistedStatus> statuses)
    {
        if (!CompactStatusList.TryParse(compact, out statuses))
        {
            return false;
        }

        if (compact is not null && compact.Contains('!', StringComparison.Ordinal))
        {
            AddBreakingNames(connection, statuses);
        }

        return true;
    }

    private async Task<IReadOnlyList<PersistedStatus>> ListStatusesCoreAsync(CancellationToken cancellationToken)
    {
        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            if (!_holdsDbLock)
            {
                await ThrowIfTransactionOpenAsync(connection, "read the migration statuses").ConfigureAwait(false);
            }

            return ListStatuses(connection, cancellationToken);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    private List<PersistedStatus> ListStatuses(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // Microsoft.Data.Sqlite runs its async methods synchronously anyway; the synchronous call skips a task.
        cancellationToken.ThrowIfCancellationRequested();
        var compact = Commands(connection).List.ExecuteScalar() as string;
        if (TryListCompact(connection, compact, out var statuses))
        {
            return statuses;
        }

        // Something the compact form cannot carry: read row by row, which names the bad row.
        using var rows = connection.CreateCommand();
        rows.CommandText = _sql.ListRows;
        using var reader = rows.ExecuteReader();
        statuses.Clear();
        while (reader.Read())
        {
            statuses.Add(ReadStatusRow(reader));
        }

        return statuses;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The separate status write of a plain <see cref="IMigrationManager"/> (the runner uses
    /// <see cref="BeginMigrationAsync"/> instead). Written on the connection served to migrations, in its own
    /// transaction: a transaction a migration left open there is rolled back and reported as an error before anything
    /// is written (the status would otherwise commit or roll back with the migration's work).
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

            var persist = Commands(connection).Persist;
            persist.Parameters[0].Value = order;
            persist.Parameters[1].Value = text;
            await persist.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // From STARTED until the next status a migration may be using the data connection (and after a cancelled
            // run, may still be): the lease is then released on the lease connection.
            Volatile.Write(ref _migrationMayRun, status == MigrationStatus.Started);
        }
        finally
        {
            _dataGate.Release();
        }
    }

    /// <summary>Names the migrations stored as breaking older builds (a build that does not know one says which stops it).</summary>
    private void AddBreakingNames(SqliteConnection connection, List<PersistedStatus> statuses)
    {
        using var names = connection.CreateCommand();
        names.CommandText = _sql.BreakingNames;
        using var reader = names.ExecuteReader();
        while (reader.Read())
        {
            var index = statuses.FindIndex(s => s.Order == reader.GetInt64(0));
            if (index >= 0 && !reader.IsDBNull(1))
            {
                statuses[index] = statuses[index] with { Name = reader.GetString(1) };
            }
        }
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

        return StatusRows.Read(_statusTableName, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)) with
        {
            BreaksOlderBuilds = !reader.IsDBNull(2) && reader.GetBoolean(2),
            Name = reader.IsDBNull(3) ? null : reader.GetString(3),
            Checksum = reader.IsDBNull(4) ? null : reader.GetString(4),
        };
    }
}
