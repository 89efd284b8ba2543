using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

public sealed partial class PostgreSqlMigrationManager
{
    // Rows of one PENDING statement: 3,000 parameters, well below PostgreSQL's 65,535.
    private const int PendingRowsPerStatement = 1000;

    private Session? _currentSession;

    /// <inheritdoc/>
    /// <remarks>One multi-row upsert per 1,000 migrations, sent as one batch (one round trip), which PostgreSQL runs as one implicit transaction: one commit.</remarks>
    public async Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migrations);
        _runOrder = null;
        if (migrations.Count == 0)
        {
            return;
        }

        // One statement per chunk of rows (a statement takes at most 65,535 parameters): PostgreSQL parses and plans it once,
        // where a statement per migration cost a parse and a plan each (none is prepared: see the package README).
        await using var batch = _dataSource.CreateBatch();
        for (var start = 0; start < migrations.Count; start += PendingRowsPerStatement)
        {
            var rows = Math.Min(PendingRowsPerStatement, migrations.Count - start);
            var command = new NpgsqlBatchCommand(_sql.Pending(rows));
            for (var i = start; i < start + rows; i++)
            {
                var migration = migrations[i];
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = migration.Order });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StatusTableSchema.AppliedByValue(OwnerId, migration) });
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        // The migrations run in this order next: the commit of one begins the transaction of the next (see CompleteAsync).
        _runOrder = migrations;
        _runPosition = -1;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Opens a connection of the data source for the migration (transactional migrations of one run share one).
    /// Transactional: begins a transaction on it and, in the same round trip, reads the migration's status and the lease
    /// (nothing is written: the migration must not be <c>COMPLETED</c> and the lease must be this runner's);
    /// <see cref="MigrationUnitOfWork.CompleteAsync"/> writes <c>COMPLETED</c> and extends the lease in that transaction
    /// (only while the lease is still this runner's and the migration not <c>COMPLETED</c>) and commits, in one round trip:
    /// one durable commit per migration. When the runner runs a transactional migration next (in the order given to
    /// <see cref="PersistPendingAsync"/>), that round trip also begins the next migration's transaction and reads its
    /// checks, which its begin then takes: two round trips per migration, its statements and its commit. <c>STARTED</c>
    /// is not written for it: inside its transaction nobody else could see it, and a crash rolls the migration back with
    /// it. Non-transactional: <c>STARTED</c> in a commit of its own, and a connection without a transaction.
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

    private IdleConnection? _idleConnection;
    private IReadOnlyList<MigrationDescriptor>? _runOrder;
    private int _runPosition;

    /// <summary>
    /// The connection the previous transactional migration committed on, and the transaction its commit began for the
    /// next migration with that migration's checks already read (<see cref="BegunTransaction"/>), if any.
    /// </summary>
    private sealed record IdleConnection(NpgsqlConnection Connection, BegunTransaction? Begun);

    /// <summary>A transaction begun for the migration <paramref name="Order"/>, with what its begin reads.</summary>
    private sealed record BegunTransaction(NpgsqlTransaction Transaction, long Order, long TransactionId, string? Status, bool LeaseIsOurs);

    /// <summary>The connection kept from the previous migration, if any (taken: the caller owns it and its transaction).</summary>
    private IdleConnection? TakeIdleConnection()
    {
        var idle = Interlocked.Exchange(ref _idleConnection, null);
        if (idle is { Connection.FullState: System.Data.ConnectionState.Open })
        {
            return idle;
        }

        idle?.Connection.Dispose();
        return null;
    }

    /// <summary>Keeps <paramref name="idle"/> for the next migration; false when the manager is disposed or keeps one already.</summary>
    private bool KeepIdleConnection(IdleConnection idle) =>
        Volatile.Read(ref _disposed) == 0 && Interlocked.CompareExchange(ref _idleConnection, idle, null) is null;

    /// <summary>Rolls back a transaction begun for a migration that did not come and closes the kept connection (the run ended, or the manager is disposed).</summary>
    private async ValueTask CloseIdleConnectionAsync()
    {
        if (Interlocked.Exchange(ref _idleConnection, null) is { } idle)
        {
            await RollBackBegunAsync(idle.Begun).ConfigureAwait(false);
            await idle.Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Rolls back a transaction begun ahead for a migration; false when that failed (the connection must go). Never throws.</summary>
    private static async ValueTask<bool> RollBackBegunAsync(BegunTransaction? begun)
    {
        if (begun is null)
        {
            return true;
        }

        try
        {
            await begun.Transaction.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Follows the runner through the list <see cref="PersistPendingAsync"/> was given. It begins them in that order; one
    /// begun out of it stops the look-ahead for the run (which only ever saves a round trip).
    /// </summary>
    private void FollowRunOrder(MigrationDescriptor migration)
    {
        if (_runOrder is { } run && _runPosition + 1 < run.Count && run[_runPosition + 1].Order == migration.Order)
        {
            _runPosition++;
        }
        else
        {
            _runOrder = null;
        }
    }

    /// <summary>The migration the runner begins next, when it is known and transactional: its transaction can begin in the round trip that commits the current one.</summary>
    private MigrationDescriptor? NextTransactional() =>
        _runOrder is { } run && _runPosition + 1 < run.Count && run[_runPosition + 1].Transactional ? run[_runPosition + 1] : null;

    /// <summary>
    /// One migration on a connection of its own. Transactional migrations of one run reuse one connection (kept by the
    /// manager between them, closed with the lease's release): no pool round trip and no session reset per migration.
    /// </summary>
    private sealed class Session(PostgreSqlMigrationManager manager, MigrationDescriptor migration) : UnitOfWorkSession(migration, manager._lease)
    {
        private long _transactionId;
        private bool _committed;
        private bool _keepConnection = true;
        private BegunTransaction? _begunForNext;

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
            manager.FollowRunOrder(Migration);
            var idle = manager.TakeIdleConnection();
            if (idle is { Begun: { } begun } && begun.Order == Migration.Order && Migration.Transactional)
            {
                // The previous migration's commit began this one's transaction and read its checks in the same round trip.
                Connection = idle.Connection;
                return Take(begun);
            }

            if (idle is not null && !await RollBackBegunAsync(idle.Begun).ConfigureAwait(false))
            {
                await idle.Connection.DisposeAsync().ConfigureAwait(false);
                idle = null;
            }

            if (!Migration.Transactional)
            {
                // Nothing of this manager's stays in a transaction beside it (the kept connection has none now).
                if (idle is not null && !manager.KeepIdleConnection(idle with { Begun = null }))
                {
                    await idle.Connection.DisposeAsync().ConfigureAwait(false);
                }

                var outcome = await WriteFencedAsync(connection: null, MigrationStatus.Started, cancellationToken).ConfigureAwait(false);
                if (outcome == StatusWriteOutcome.Written)
                {
                    Connection = await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                }

                return outcome;
            }

            Connection = idle?.Connection ?? await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            Transaction = await Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var begin = new NpgsqlBatch(Connection, Transaction);
            begin.BatchCommands.Add(ChecksOf(Migration.Order));
            await using var reader = await begin.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return Take(ReadChecks(Transaction, Migration.Order, reader));
        }

        /// <summary>The checks of a transactional migration's begin, read in its transaction: transaction id, status, whether the lease is ours.</summary>
        private NpgsqlBatchCommand ChecksOf(long order)
        {
            var check = new NpgsqlBatchCommand(manager._sql.UnitOfWork(manager._functionsCreated).Checks);
            check.Parameters.Add(new NpgsqlParameter<long> { TypedValue = order });
            check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = manager.OwnerId });
            return check;
        }

        private static BegunTransaction ReadChecks(NpgsqlTransaction transaction, long order, NpgsqlDataReader reader) =>
            new(transaction, order, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2));

        /// <summary>This migration's transaction, begun with its checks read: what they allow.</summary>
        private StatusWriteOutcome Take(BegunTransaction begun)
        {
            Transaction = begun.Transaction;
            _transactionId = begun.TransactionId;
            return Outcome(begun.Status, begun.LeaseIsOurs);
        }

        public override async Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken)
        {
            if (!Migration.Transactional)
            {
                return await WriteFencedAsync(connection: null, MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            // COMPLETED, the lease's extension (the fence) and COMMIT in one round trip: one durable commit, no waiting
            // for a reply between them. When the runner's next migration is transactional too, the same round trip begins
            // its transaction and reads its checks (what BeginAsync would read): two round trips per migration, the
            // migration's statements and this one.
            var next = manager.NextTransactional();
            await using var batch = new NpgsqlBatch(Connection!, Transaction!);
            var complete = new NpgsqlBatchCommand(manager._sql.UnitOfWork(manager._functionsCreated).Complete);
            complete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Migration.Order });
            complete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Migration.Name });
            complete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration) });
            complete.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = Migration.BreaksOlderBuilds });
            complete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = manager.OwnerId });
            complete.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = manager._leaseDuration });
            complete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _transactionId });
            complete.Parameters.Add(ChecksumParameter());
            batch.BatchCommands.Add(complete);
            var commit = new NpgsqlBatchCommand("COMMIT");
            batch.BatchCommands.Add(commit);
            if (next is not null)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
                batch.BatchCommands.Add(ChecksOf(next.Order));
            }

            try
            {
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The fence's one row; its division fails here when the fence does.
                }

                if (next is null)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    _committed = true;
                    return StatusWriteOutcome.Written;
                }

                try
                {
                    // Past COMMIT and BEGIN to the next migration's checks (an error of COMMIT's is raised on the way; once
                    // the server has answered COMMIT, Npgsql has set its statement type).
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    _begunForNext = ReadChecks(Transaction!, next.Order, reader);
                }
                catch (NpgsqlException) when (commit.StatementType != StatementType.Unknown)
                {
                    // This migration committed; only the next one's begin failed, and that one begins afresh (the
                    // connection, whose state is unknown, goes back to the pool).
                    _begunForNext = null;
                    _committed = true;
                    _keepConnection = false;
                    return StatusWriteOutcome.Written;
                }

                _committed = true;
                return StatusWriteOutcome.Written;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DivisionByZero && commit.StatementType == StatementType.Unknown)
            {
                // Only the fence divides. Which part failed is asked once the transaction is rolled back: the lease, or
                // a migration completed meanwhile; with both in order, the transaction was no longer the one begun here
                // (the migration ended it with SQL and began another).
                await EndTransactionAsync().ConfigureAwait(false);
                var outcome = await StatusAndLeaseAsync(Connection!, cancellationToken).ConfigureAwait(false);
                return outcome != StatusWriteOutcome.Written
                    ? outcome
                    : throw new TransactionMisuseException(ManagedUnitOfWork.EndedMessage(Migration), innerException: null);
            }
        }

        public override async Task<StatusWriteOutcome> FailAsync(CancellationToken cancellationToken)
        {
            if (Migration.Transactional && IsTransactionOpen)
            {
                try
                {
                    // Undo the migration's statements (also after one of them failed), then FAILED in a commit of its own
                    // on the same connection.
                    await Transaction!.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    await EndTransactionAsync().ConfigureAwait(false);
                    return await WriteFencedAsync(Connection, MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
                {
                    // The transaction cannot go on (the migration ended it with SQL, the commit failed, the connection
                    // broke): roll it back and write FAILED on its own below.
                    await EndTransactionAsync().ConfigureAwait(false);
                }
            }

            await EndTransactionAsync().ConfigureAwait(false);
            return await WriteFencedAsync(connection: null, MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
        }

        protected override bool IsNestedTransactionException(Exception exception) =>
            // NpgsqlConnection.BeginTransaction while the manager's transaction is open.
            exception is InvalidOperationException && exception.Message.Contains("transaction is already in progress", StringComparison.OrdinalIgnoreCase);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                // The transaction object now stands for the next migration's transaction when the commit began one: it
                // goes with the kept connection, and is rolled back only if that migration does not come.
                var begun = _begunForNext;
                _begunForNext = null;
                if (begun is not null)
                {
                    Transaction = null;
                }

                await EndTransactionAsync().ConfigureAwait(false);
                if (Connection is { } connection)
                {
                    Connection = null;

                    // Only a connection whose transaction committed cleanly serves the next migration; any other goes
                    // back to the pool, which resets it.
                    if (!_committed || !_keepConnection || !manager.KeepIdleConnection(new IdleConnection(connection, begun)))
                    {
                        await RollBackBegunAsync(begun).ConfigureAwait(false);
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
            command.Parameters.Add(ChecksumParameter());
            return command;
        }

        private NpgsqlParameter ChecksumParameter() => Migration.Checksum is { } checksum
            ? new NpgsqlParameter<string> { TypedValue = checksum }
            : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text };

        /// <summary>The fenced write in a commit of its own, on <paramref name="connection"/> or on a connection opened for it.</summary>
        private async Task<StatusWriteOutcome> WriteFencedAsync(NpgsqlConnection? connection, MigrationStatus status, CancellationToken cancellationToken)
        {
            var on = connection ?? await manager.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var batch = new NpgsqlBatch(on);
                batch.BatchCommands.Add(FencedWrite(status));
                if (await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long)
                {
                    return StatusWriteOutcome.Written;
                }

                var outcome = await StatusAndLeaseAsync(on, cancellationToken).ConfigureAwait(false);
                return outcome == StatusWriteOutcome.Written ? StatusWriteOutcome.LeaseLost : outcome;
            }
            finally
            {
                if (connection is null)
                {
                    await on.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>Reads the migration's status and the lease (outside any transaction of the migration's).</summary>
        private async Task<StatusWriteOutcome> StatusAndLeaseAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand(manager._sql.StatusAndLease, connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Migration.Order });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = manager.OwnerId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return Outcome(reader.IsDBNull(0) ? null : reader.GetString(0), leaseIsOurs: reader.GetBoolean(1));
        }

        /// <summary>What a migration's status and the lease allow: COMPLETED wins (nothing to do), then a lost lease.</summary>
        private static StatusWriteOutcome Outcome(string? status, bool leaseIsOurs) =>
            status == MigrationStatusText.Completed ? StatusWriteOutcome.CompletedAlready
            : !leaseIsOurs ? StatusWriteOutcome.LeaseLost
            : StatusWriteOutcome.Written;
    }
}
