using System.Globalization;
using System.Text;
using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    private Session? _currentSession;

    /// <inheritdoc/>
    /// <remarks>One multi-row <c>INSERT … ON DUPLICATE KEY UPDATE</c> (autocommit): one commit for the whole list.</remarks>
    public async Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migrations);
        if (migrations.Count == 0)
        {
            return;
        }

        await OnControlAsync(
            async (connection, ct) =>
            {
                await using var command = OwnerCommand("", connection, withLease: false);
                var sql = new StringBuilder(_sql.PendingPrefix);
                for (var i = 0; i < migrations.Count; i++)
                {
                    var index = Format(i);
                    sql.Append(i == 0 ? "\n" : ",\n").AppendFormat(CultureInfo.InvariantCulture, _sql.PendingRow, index);
                    command.Parameters.Add(new MySqlParameter("@order" + index, MySqlDbType.Int64) { Value = migrations[i].Order });
                    command.Parameters.Add(new MySqlParameter("@name" + index, MySqlDbType.VarChar) { Value = migrations[i].Name });
                    command.Parameters.Add(new MySqlParameter("@applied_by" + index, MySqlDbType.VarChar) { Value = StatusTableSchema.AppliedByValue(OwnerId, migrations[i]) });
                }

                command.CommandText = sql.Append(_sql.PendingSuffix).ToString();
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <para>Opens a connection of the data source for the migration. Transactional: begins a transaction on it and, in one
    /// round trip, writes <c>STARTED</c> (committed only when the migration is not <c>COMPLETED</c> and the lease is this
    /// runner's) and sets a savepoint; <see cref="MigrationUnitOfWork.CompleteAsync"/> extends the lease and writes
    /// <c>COMPLETED</c> in the same transaction (only while the lease is still this runner's, the lease row locked until
    /// the commit), then commits. Non-transactional: <c>STARTED</c> in a commit of its own, and a connection without a
    /// transaction.</para>
    /// <para><b>What "transactional" means on MySQL and MariaDB</b>: a migration whose statements are all DML
    /// (<c>INSERT</c>, <c>UPDATE</c>, <c>DELETE</c>, …) and its <c>COMPLETED</c> status commit together, so after a crash at
    /// any moment (<c>kill -9</c> included) it has taken effect exactly once when the next run is done. DDL
    /// (<c>CREATE</c>, <c>ALTER</c>, <c>DROP</c>, <c>RENAME</c>, <c>TRUNCATE</c>, …) commits the open transaction implicitly,
    /// with everything before it: such a migration is not atomic, whatever it is marked. The manager asks the server
    /// whether that happened (the savepoint it set after <c>STARTED</c> is gone once the transaction ended: an implicit
    /// commit ends it, with its savepoints) and then does not claim atomicity: it writes <c>COMPLETED</c> (fenced) in a
    /// commit of its own and logs a warning naming the migration. A migration with DDL must be idempotent
    /// (<c>CREATE TABLE IF NOT EXISTS</c>, <c>ADD COLUMN IF NOT EXISTS</c> on MariaDB, a check of
    /// <c>information_schema</c> on MySQL): a crash or a failure after its DDL leaves what ran so far, and the next run runs
    /// it again. A <c>COMMIT</c> statement sent as SQL looks the same to the server and is treated the same way; ending the
    /// served <see cref="MySqlTransaction"/> through MySqlConnector is an error.</para>
    /// </remarks>
    public async Task<MigrationUnitOfWork?> BeginMigrationAsync(MigrationDescriptor migration, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migration);
        var session = new Session(this, migration);
        if (Interlocked.CompareExchange(ref _currentSession, session, null) is not null)
        {
            throw new InvalidOperationException("This manager is running a migration already: one unit of work at a time.");
        }

        return await ManagedUnitOfWork.BeginAsync(session, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One migration on a connection of its own.</summary>
    private sealed class Session(MySqlMigrationManager manager, MigrationDescriptor migration) : UnitOfWorkSession(migration, manager._lease)
    {
        private bool _endedImplicitly;

        // EndedImplicitlyAsync released the savepoint (the transaction was open): a later FailAsync rolls back all of it.
        private bool _savepointReleased;

        public MySqlConnection? Connection { get; private set; }

        public MySqlTransaction? Transaction { get; private set; }

        // MySqlConnector's view: the served MySqlTransaction was not committed or rolled back through it (it forgets its
        // connection then). An implicit commit by the server is not seen here: EndedImplicitlyAsync asks the server.
        public override bool IsTransactionOpen => Transaction is { Connection: not null };

        public override async Task<StatusWriteOutcome> BeginAsync(CancellationToken cancellationToken)
        {
            if (!Migration.Transactional)
            {
                var outcome = await WriteFencedOnItsOwnAsync(MigrationStatus.Started, cancellationToken).ConfigureAwait(false);
                if (outcome == StatusWriteOutcome.Written)
                {
                    Connection = await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                }

                return outcome;
            }

            Connection = await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            Transaction = await Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            // STARTED is the transaction's first write; whatever the outcome is not Written is rolled back by the disposal.
            return await WriteFencedAsync(Connection, Transaction, manager._sql.WriteStarted + ";\nSAVEPOINT " + Savepoint, MigrationStatus.Started, breaks: null, cancellationToken).ConfigureAwait(false);
        }

        public override async ValueTask<bool> EndedImplicitlyAsync(CancellationToken cancellationToken)
        {
            if (_endedImplicitly || !Migration.Transactional || !IsTransactionOpen)
            {
                return _endedImplicitly;
            }

            try
            {
                // A savepoint exists only inside the transaction that set it: RELEASE answers "does not exist" once the
                // server ended that transaction (MySQL and MariaDB alike; MariaDB's @@in_transaction says the same).
                await using var release = new MySqlCommand(manager._sql.ReleaseSavepoint, Connection, Transaction);
                await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _savepointReleased = true;
                return false;
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.StoredProcedureDoesNotExist)
            {
                _endedImplicitly = true;
                return true;
            }
            catch (Exception e) when (e is MySqlException or InvalidOperationException or ObjectDisposedException)
            {
                // The connection cannot answer: what follows on it fails with its own error.
                return false;
            }
        }

        public override async Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken)
        {
            if (!Migration.Transactional)
            {
                return await WriteFencedOnItsOwnAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            var connection = Connection!;
            var transaction = Transaction!;
            if (_endedImplicitly)
            {
                // The server committed the migration's statements (and its STARTED) at its DDL; those after the DDL ran
                // in autocommit. Only COMPLETED is left to write, in a commit of its own.
                Log.CommittedImplicitly(manager._logger, Migration.Order, Migration.Name);
                await EndTransactionAsync(commit: true).ConfigureAwait(false);
                return await WriteFencedOnItsOwnAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            await using (var complete = manager.OwnerCommand(manager._sql.CompleteInTransaction, connection, withLease: true, transaction))
            {
                complete.Parameters.Add(new MySqlParameter("@order", MySqlDbType.Int64) { Value = Migration.Order });
                complete.Parameters.Add(new MySqlParameter("@name", MySqlDbType.VarChar) { Value = Migration.Name });
                complete.Parameters.Add(new MySqlParameter("@breaks", MySqlDbType.Bool) { Value = Migration.BreaksOlderBuilds });
                complete.Parameters.Add(new MySqlParameter("@applied_by", MySqlDbType.VarChar) { Value = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration) });
                complete.Parameters.Add(new MySqlParameter("@checksum", MySqlDbType.VarChar) { Value = (object?)Migration.Checksum ?? DBNull.Value });
                if (await FirstValueAsync(complete, cancellationToken).ConfigureAwait(false) is null)
                {
                    // The lease is another runner's (or gone): the disposal rolls everything back.
                    return StatusWriteOutcome.LeaseLost;
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return StatusWriteOutcome.Written;
        }

        public override async Task<StatusWriteOutcome> FailAsync(CancellationToken cancellationToken)
        {
            // After a refused commit (a lost lease) the savepoint is released already: the whole transaction is rolled
            // back below, STARTED with it, and FAILED is written on its own.
            if (Migration.Transactional && IsTransactionOpen && !_endedImplicitly && !_savepointReleased)
            {
                try
                {
                    // Undo the migration's statements (also after one of them failed), keep STARTED, write FAILED, commit.
                    await using (var rollback = new MySqlCommand(manager._sql.RollbackToSavepoint, Connection, Transaction))
                    {
                        await rollback.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var outcome = await WriteFencedAsync(Connection!, Transaction, manager._sql.WriteFencedLocked, MigrationStatus.Failed, breaks: null, cancellationToken).ConfigureAwait(false);
                    if (outcome == StatusWriteOutcome.Written)
                    {
                        await Transaction!.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }

                    return outcome;
                }
                catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.StoredProcedureDoesNotExist && !cancellationToken.IsCancellationRequested)
                {
                    // The savepoint is gone: the server committed the transaction implicitly at a DDL statement.
                    _endedImplicitly = true;
                }
                catch (Exception e) when (e is MySqlException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
                {
                    // The transaction cannot go on (the connection broke, the commit failed): roll it back and write
                    // FAILED on its own below.
                }
            }

            if (_endedImplicitly)
            {
                Log.FailedAfterImplicitCommit(manager._logger, Migration.Order, Migration.Name);
            }

            await EndTransactionAsync(commit: false).ConfigureAwait(false);

            // What an implicit commit kept took effect, as a non-transactional migration's statements do: FAILED then
            // carries the BreaksOlderBuilds flag too.
            var breaks = _endedImplicitly && Migration.BreaksOlderBuilds ? true : StatusTableSchema.BreaksOlderBuildsToStore(Migration, MigrationStatus.Failed);
            return await WriteFencedOnItsOwnAsync(MigrationStatus.Failed, cancellationToken, breaks).ConfigureAwait(false);
        }

        protected override bool IsNestedTransactionException(Exception exception) =>
            // MySqlConnection.BeginTransaction while the manager's transaction is open.
            exception is InvalidOperationException && exception.Message.Contains("may not be nested", StringComparison.OrdinalIgnoreCase);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await EndTransactionAsync(commit: false).ConfigureAwait(false);
                if (Connection is { } connection)
                {
                    Connection = null;
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is MySqlException or InvalidOperationException or ObjectDisposedException)
            {
                // A broken connection ends its transaction on the server; the pool drops it.
            }
            finally
            {
                Interlocked.CompareExchange(ref manager._currentSession, null, this);
            }
        }

        /// <summary>Ends the served transaction: committed (only after an implicit commit, where there is nothing left in it) or rolled back.</summary>
        private async Task EndTransactionAsync(bool commit)
        {
            if (Transaction is not { } transaction)
            {
                return;
            }

            Transaction = null;
            try
            {
                if (commit && transaction.Connection is not null)
                {
                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is MySqlException or InvalidOperationException)
            {
                // Nothing was left to commit; the disposal below rolls back whatever MySqlConnector thinks is open.
            }
            finally
            {
                try
                {
                    await transaction.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is MySqlException or InvalidOperationException)
                {
                    // Rolling back a broken transaction: the connection's disposal ends it.
                }
            }
        }

        /// <summary>The fenced write in a short transaction of its own, on a pooled connection.</summary>
        private async Task<StatusWriteOutcome> WriteFencedOnItsOwnAsync(MigrationStatus status, CancellationToken cancellationToken, bool? breaks = null)
        {
            breaks ??= StatusTableSchema.BreaksOlderBuildsToStore(Migration, status);
            await using var connection = await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var outcome = await WriteFencedAsync(connection, transaction, manager._sql.WriteFencedLocked, status, breaks, cancellationToken).ConfigureAwait(false);
            if (outcome == StatusWriteOutcome.Written)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            // Otherwise the disposal rolls back what was written.
            return outcome;
        }

        /// <summary>
        /// Runs a fenced write (<see cref="Statements.WriteStarted"/> or <see cref="Statements.WriteFencedLocked"/>) in
        /// <paramref name="transaction"/> and decides from what it read: the lease row's owner and the status row after the
        /// write. The caller commits only when Written.
        /// </summary>
        private async Task<StatusWriteOutcome> WriteFencedAsync(MySqlConnection connection, MySqlTransaction? transaction, string sql, MigrationStatus status, bool? breaks, CancellationToken cancellationToken)
        {
            await using var command = manager.OwnerCommand(sql, connection, withLease: false, transaction);
            command.Parameters.Add(new MySqlParameter("@order", MySqlDbType.Int64) { Value = Migration.Order });
            command.Parameters.Add(new MySqlParameter("@status", MySqlDbType.VarChar) { Value = MigrationStatusText.ToText(status) });
            command.Parameters.Add(new MySqlParameter("@name", MySqlDbType.VarChar) { Value = Migration.Name });
            command.Parameters.Add(new MySqlParameter("@breaks", MySqlDbType.Bool) { Value = breaks is { } b ? b : DBNull.Value });
            command.Parameters.Add(new MySqlParameter("@applied_by", MySqlDbType.VarChar) { Value = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration) });
            command.Parameters.Add(new MySqlParameter("@checksum", MySqlDbType.VarChar) { Value = (object?)Migration.Checksum ?? DBNull.Value });
            string? owner = null;
            string? written = null;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                // Two result sets have columns: the lease row's owner, then the status row.
                var resultSet = 0;
                do
                {
                    if (reader.FieldCount == 0)
                    {
                        continue;
                    }

                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (resultSet == 0)
                        {
                            owner = reader.GetString(0);
                        }
                        else
                        {
                            written = reader.GetString(0);
                        }
                    }

                    resultSet++;
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            }

            if (!string.Equals(owner, manager.OwnerId, StringComparison.Ordinal))
            {
                return StatusWriteOutcome.LeaseLost;
            }

            return status != MigrationStatus.Completed && written == MigrationStatusText.Completed
                ? StatusWriteOutcome.CompletedAlready
                : StatusWriteOutcome.Written;
        }
    }

    /// <summary>The first column of the first row any result set of <paramref name="command"/> returns, or null when none returns a row.</summary>
    private static async Task<object?> FirstValueAsync(MySqlCommand command, CancellationToken cancellationToken)
    {
        object? value = null;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        do
        {
            if (value is null && reader.FieldCount > 0 && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                value = reader.GetValue(0);
            }
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

        return value;
    }
}
