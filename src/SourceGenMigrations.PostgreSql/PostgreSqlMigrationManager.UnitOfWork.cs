using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

public sealed partial class PostgreSqlMigrationManager
{
    private Session? _currentSession;

    /// <inheritdoc/>
    /// <remarks>One batch of upserts (one round trip), which PostgreSQL runs as one implicit transaction: one commit.</remarks>
    public async Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migrations);
        if (migrations.Count == 0)
        {
            return;
        }

        await using var batch = _dataSource.CreateBatch();
        foreach (var migration in migrations)
        {
            var command = new NpgsqlBatchCommand(_sql.Pending);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = migration.Order });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StatusTableSchema.AppliedByValue(OwnerId, migration) });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Opens a connection of the data source for the migration. Transactional: begins a transaction on it and, in one round
    /// trip, writes <c>STARTED</c> (only when the migration is not <c>COMPLETED</c> and the lease is this runner's) and
    /// marks a savepoint; <see cref="MigrationUnitOfWork.CompleteAsync"/> writes <c>COMPLETED</c> and extends the lease in
    /// the same transaction (only while the lease is still this runner's), then commits: one durable commit.
    /// Non-transactional: <c>STARTED</c> in a commit of its own, and a connection without a transaction.
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

    private NpgsqlConnection? _idleConnection;

    /// <summary>The connection the previous transactional migration committed on, if any (taken: the caller owns it).</summary>
    private NpgsqlConnection? TakeIdleConnection()
    {
        var connection = Interlocked.Exchange(ref _idleConnection, null);
        if (connection is { FullState: System.Data.ConnectionState.Open })
        {
            return connection;
        }

        connection?.Dispose();
        return null;
    }

    /// <summary>Keeps <paramref name="connection"/> for the next migration; false when the manager is disposed or keeps one already.</summary>
    private bool KeepIdleConnection(NpgsqlConnection connection) =>
        Volatile.Read(ref _disposed) == 0 && Interlocked.CompareExchange(ref _idleConnection, connection, null) is null;

    /// <summary>Closes the kept connection (the run ended, or the manager is disposed).</summary>
    private async ValueTask CloseIdleConnectionAsync()
    {
        if (Interlocked.Exchange(ref _idleConnection, null) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One migration on a connection of its own. Transactional migrations of one run reuse one connection (kept by the
    /// manager between them, closed with the lease's release): no pool round trip and no session reset per migration.
    /// </summary>
    private sealed class Session(PostgreSqlMigrationManager manager, MigrationDescriptor migration) : UnitOfWorkSession(migration)
    {
        private long _transactionId;
        private bool _committed;

        public NpgsqlConnection? Connection { get; private set; }

        public NpgsqlTransaction? Transaction { get; private set; }

        // Npgsql knows when the transaction ended, through the served DbTransaction or with SQL (it reads the server's
        // transaction status), and then refuses its members; CompleteAsync's transaction id check is the server's word.
        public override bool IsTransactionOpen
        {
            get
            {
                if (Transaction is not { } transaction)
                {
                    return false;
                }

                try
                {
                    _ = transaction.IsolationLevel;
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }
        }

        public override async Task<StatusWriteOutcome> BeginAsync(CancellationToken cancellationToken)
        {
            var sql = manager._sql;
            if (!Migration.Transactional)
            {
                var outcome = await WriteFencedAsync(null, MigrationStatus.Started, cancellationToken).ConfigureAwait(false);
                if (outcome == StatusWriteOutcome.Written)
                {
                    Connection = await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                }

                return outcome;
            }

            Connection = manager.TakeIdleConnection() ?? await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            Transaction = await Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(Connection, Transaction);
            batch.BatchCommands.Add(FencedWrite(MigrationStatus.Started));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SAVEPOINT sgm_migration"));
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    _transactionId = reader.GetInt64(0);
                    return StatusWriteOutcome.Written;
                }
            }

            return await WhyNotWrittenAsync(Connection, Transaction, cancellationToken).ConfigureAwait(false);
        }

        public override async Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken)
        {
            if (!Migration.Transactional)
            {
                return await WriteFencedAsync(null, MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            // COMPLETED, the lease's extension (the fence) and COMMIT in one round trip: one durable commit, no waiting
            // for a reply between them.
            await using var batch = new NpgsqlBatch(Connection!, Transaction!);
            var complete = new NpgsqlBatchCommand(manager._sql.CompleteInTransaction);
            complete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Migration.Order });
            complete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Migration.Name });
            complete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration) });
            complete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _transactionId });
            complete.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = Migration.BreaksOlderBuilds });
            var extend = new NpgsqlBatchCommand(manager._sql.ExtendOrFailInTransaction);
            extend.Parameters.Add(new NpgsqlParameter<string> { TypedValue = manager.OwnerId });
            extend.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = manager._leaseDuration });
            extend.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _transactionId });
            batch.BatchCommands.Add(complete);
            batch.BatchCommands.Add(extend);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _committed = true;
                return StatusWriteOutcome.Written;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DivisionByZero)
            {
                // Only the fence divides: the status update and the COMMIT cannot raise it.
                // The row BeginAsync wrote in this transaction is missing only when the migration ended the transaction.
                return complete.RecordsAffected == 1
                    ? StatusWriteOutcome.LeaseLost
                    : throw new TransactionMisuseException(ManagedUnitOfWork.EndedMessage(Migration), innerException: null);
            }
        }

        public override async Task<StatusWriteOutcome> FailAsync(CancellationToken cancellationToken)
        {
            if (Migration.Transactional && IsTransactionOpen)
            {
                try
                {
                    // Undo the migration's statements (also after one of them failed), keep STARTED, write FAILED, commit.
                    await using (var rollback = new NpgsqlCommand("ROLLBACK TO SAVEPOINT sgm_migration", Connection, Transaction))
                    {
                        await rollback.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var outcome = await WriteFencedAsync(Transaction, MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
                    if (outcome == StatusWriteOutcome.LeaseLost)
                    {
                        return outcome;
                    }

                    await Transaction!.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return outcome;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
                {
                    // The transaction cannot go on (the migration ended it with SQL, the commit failed, the connection
                    // broke): roll it back and write FAILED on its own below.
                    await EndTransactionAsync().ConfigureAwait(false);
                }
            }

            await EndTransactionAsync().ConfigureAwait(false);
            return await WriteFencedAsync(null, MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
        }

        public override bool IsNestedTransactionError(Exception failure)
        {
            for (var e = failure; e is not null; e = e.InnerException)
            {
                // NpgsqlConnection.BeginTransaction while the manager's transaction is open.
                if (e is InvalidOperationException && e.Message.Contains("transaction is already in progress", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        public override async Task<string> DescribeLeaseAsync(CancellationToken cancellationToken) =>
            await manager._lease.DescribeAsync(cancellationToken).ConfigureAwait(false);

        public override string LeaseLostMessage(string lost) => manager._lease.LostMessage(lost);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await EndTransactionAsync().ConfigureAwait(false);
                if (Connection is { } connection)
                {
                    Connection = null;

                    // Only a connection whose transaction committed cleanly serves the next migration; any other goes
                    // back to the pool, which resets it.
                    if (!_committed || !manager.KeepIdleConnection(connection))
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
            {
                // A broken connection ends its transaction on the server; the pool drops it.
            }
            finally
            {
                Interlocked.CompareExchange(ref manager._currentSession, null, this);
            }
        }

        private async Task EndTransactionAsync()
        {
            // A transaction committed in CompleteAsync's round trip is done on the server; Npgsql knows it (disposing it is a no-op).
            if (Transaction is { } transaction)
            {
                Transaction = null;
                try
                {
                    await transaction.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // Rolling back a broken transaction: the connection's disposal ends it.
                }
            }
        }

        private NpgsqlBatchCommand FencedWrite(MigrationStatus status)
        {
            var command = new NpgsqlBatchCommand(manager._sql.WriteFenced);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Migration.Order });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = MigrationStatusText.ToText(status) });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Migration.Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = manager.OwnerId });
            command.Parameters.Add(StatusTableSchema.BreaksOlderBuildsToStore(Migration, status) is { } breaks
                ? new NpgsqlParameter<bool> { TypedValue = breaks }
                : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Boolean });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration) });
            return command;
        }

        /// <summary>The fenced write on <paramref name="transaction"/>'s connection, or on its own (autocommit) when null.</summary>
        private async Task<StatusWriteOutcome> WriteFencedAsync(NpgsqlTransaction? transaction, MigrationStatus status, CancellationToken cancellationToken)
        {
            var connection = transaction?.Connection ?? await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var batch = new NpgsqlBatch(connection, transaction);
                batch.BatchCommands.Add(FencedWrite(status));
                if (await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long)
                {
                    return StatusWriteOutcome.Written;
                }

                return await WhyNotWrittenAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (transaction is null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        private async Task<StatusWriteOutcome> WhyNotWrittenAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
        {
            await using var statusOf = new NpgsqlCommand(manager._sql.StatusOf, connection, transaction);
            statusOf.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Migration.Order });
            return await statusOf.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string == MigrationStatusText.Completed
                ? StatusWriteOutcome.CompletedAlready
                : StatusWriteOutcome.LeaseLost;
        }
    }
}
