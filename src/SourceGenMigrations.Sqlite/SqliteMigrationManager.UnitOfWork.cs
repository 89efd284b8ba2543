using Microsoft.Data.Sqlite;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    private const int SqliteError = 1;

    /// <inheritdoc/>
    /// <remarks>One <c>BEGIN IMMEDIATE</c> transaction on the data connection for the whole list: one commit.</remarks>
    /// <exception cref="InvalidOperationException">A migration left a transaction open on the served connection.</exception>
    public async Task PersistPendingAsync(IReadOnlyList<MigrationDescriptor> migrations, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migrations);
        if (migrations.Count == 0)
        {
            return;
        }

        await _dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = GetDataConnection();
            await ThrowIfTransactionOpenAsync(connection, "write the PENDING statuses").ConfigureAwait(false);
            var commands = Commands(connection);
            await BeginImmediateAsync(connection, cancellationToken).ConfigureAwait(false);
            try
            {
                var pending = commands.Pending;
                foreach (var migration in migrations)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    pending.Parameters[0].Value = migration.Order;
                    pending.Parameters[1].Value = migration.Name;
                    pending.Parameters[2].Value = StatusTableSchema.AppliedByValue(OwnerId, migration);
                    pending.ExecuteNonQuery();
                }

                commands.Commit.ExecuteNonQuery();
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
    /// Transactional: <c>BEGIN IMMEDIATE</c> on the data connection (waiting while another connection writes), then in
    /// that transaction <c>STARTED</c> (only when the migration is not <c>COMPLETED</c> and the lease is this runner's)
    /// and the lease's extension. The migration's statements follow on the same connection, and
    /// <see cref="MigrationUnitOfWork.CompleteAsync"/> writes <c>COMPLETED</c>, extends the lease again and commits: one
    /// durable commit. Non-transactional: <c>STARTED</c> in a commit of its own.
    /// </remarks>
    public Task<MigrationUnitOfWork?> BeginMigrationAsync(MigrationDescriptor migration, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(migration);
        return ManagedUnitOfWork.BeginAsync(new Session(this, migration), _logger, cancellationToken);
    }

    /// <summary>One migration on the data connection, which the session owns (its gate held) from its begin to its end.</summary>
    private sealed class Session(SqliteMigrationManager manager, MigrationDescriptor migration) : UnitOfWorkSession(migration, manager._lease)
    {
        private SqliteConnection? _connection;
        private bool _holdsGate;

        public override bool IsTransactionOpen => _connection is { } connection && !IsAutocommit(connection);

        public override async Task<StatusWriteOutcome> BeginAsync(CancellationToken cancellationToken)
        {
            await manager._dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            _holdsGate = true;
            var connection = _connection = manager.GetDataConnection();
            await manager.ThrowIfTransactionOpenAsync(connection, $"begin {Migration}").ConfigureAwait(false);

            // From here until the unit ends the migration may be using the data connection: the lease's release after a
            // cancelled run goes through the lease connection.
            Volatile.Write(ref manager._migrationMayRun, true);
            if (!Migration.Transactional)
            {
                return await WriteFencedAsync(MigrationStatus.Started, cancellationToken).ConfigureAwait(false);
            }

            await BeginTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
            var outcome = await WriteFencedAsync(MigrationStatus.Started, cancellationToken).ConfigureAwait(false);
            if (outcome != StatusWriteOutcome.Written)
            {
                return outcome;
            }

            if (!ExtendLease(connection))
            {
                return StatusWriteOutcome.LeaseLost;
            }

            manager.Commands(connection).Savepoint.ExecuteNonQuery();
            return StatusWriteOutcome.Written;
        }

        public override async Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken)
        {
            var connection = _connection!;
            if (!Migration.Transactional)
            {
                await manager.ThrowIfTransactionOpenAsync(connection, $"write the status COMPLETED of the {Migration}").ConfigureAwait(false);
                return await WriteFencedAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            var outcome = await WriteFencedAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            if (outcome != StatusWriteOutcome.Written)
            {
                return outcome;
            }

            // Extended in the commit: no waiting replica can slip in between this commit and the next heartbeat.
            if (!ExtendLease(connection))
            {
                return StatusWriteOutcome.LeaseLost;
            }

            cancellationToken.ThrowIfCancellationRequested();
            manager.Commands(connection).Commit.ExecuteNonQuery();
            Volatile.Write(ref manager._migrationTransactionOpen, false);
            return StatusWriteOutcome.Written;
        }

        public override async Task<StatusWriteOutcome> FailAsync(CancellationToken cancellationToken)
        {
            var connection = _connection!;
            if (!Migration.Transactional)
            {
                // A transaction the migration left open is rolled back (the failure is reported already) before FAILED.
                await manager.EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
                _connection = manager.GetDataConnection();
                return await WriteFencedAsync(MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
            }

            if (IsTransactionOpen)
            {
                // Undo the migration's statements; STARTED and the lease's extension stay, and the write lock with them.
                manager.Commands(connection).RollbackToSavepoint.ExecuteNonQuery();
            }
            else
            {
                // The migration ended the manager's transaction: FAILED goes in a new one.
                await BeginTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            var outcome = await WriteFencedAsync(MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
            if (outcome == StatusWriteOutcome.LeaseLost || !ExtendLease(connection))
            {
                return StatusWriteOutcome.LeaseLost;
            }

            manager.Commands(connection).Commit.ExecuteNonQuery();
            Volatile.Write(ref manager._migrationTransactionOpen, false);
            return outcome;
        }

        protected override bool IsNestedTransactionException(Exception exception) =>
            // Microsoft.Data.Sqlite's BeginTransaction runs BEGIN, which SQLite refuses inside the manager's transaction.
            exception is SqliteException { SqliteErrorCode: SqliteError } sqlite
                && sqlite.Message.Contains("cannot start a transaction within a transaction", StringComparison.Ordinal);

        // Read on the data connection: while the unit's transaction holds SQLite's write lock, it is the one that can.
        public override async Task<string> DescribeLeaseAsync(CancellationToken cancellationToken) =>
            LeaseProtocol.Describe(await manager.ReadLeaseAsync(_connection ?? manager.GetDataConnection(), cancellationToken).ConfigureAwait(false));

        public override async ValueTask DisposeAsync()
        {
            try
            {
                if (_connection is { } connection && !IsAutocommit(connection))
                {
                    await manager.EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref manager._migrationTransactionOpen, false);
                Volatile.Write(ref manager._migrationMayRun, false);
                if (_holdsGate)
                {
                    _holdsGate = false;
                    ReleaseGate();
                }
            }
        }

        private void ReleaseGate()
        {
            try
            {
                manager._dataGate.Release();
            }
            catch (ObjectDisposedException)
            {
                // The manager was disposed while the migration ran; disposing ended the transaction too.
            }
        }

        private async Task BeginTransactionAsync(SqliteConnection connection, CancellationToken cancellationToken)
        {
            await manager.BeginImmediateAsync(connection, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref manager._migrationTransactionOpen, true);
        }

        /// <summary>The fenced status write; on zero rows, finds out whether the migration is COMPLETED or the lease is gone.</summary>
        private async Task<StatusWriteOutcome> WriteFencedAsync(MigrationStatus status, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var connection = _connection!;
            var write = manager.Commands(connection).WriteFenced;
            write.Parameters[0].Value = Migration.Order;
            write.Parameters[1].Value = MigrationStatusText.ToText(status);
            write.Parameters[2].Value = Migration.Name;
            write.Parameters[4].Value = StatusTableSchema.BreaksOlderBuildsToStore(Migration, status) is { } breaks ? (breaks ? 1 : 0) : DBNull.Value;
            write.Parameters[5].Value = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration);
            write.Parameters[6].Value = (object?)Migration.Checksum ?? DBNull.Value;
            if (write.ExecuteNonQuery() == 1)
            {
                return StatusWriteOutcome.Written;
            }

            using var statusOf = connection.CreateCommand();
            statusOf.CommandText = manager._sql.StatusOf;
            statusOf.Parameters.AddWithValue("$order", Migration.Order);
            return await statusOf.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string == MigrationStatusText.Completed
                ? StatusWriteOutcome.CompletedAlready
                : StatusWriteOutcome.LeaseLost;
        }

        private bool ExtendLease(SqliteConnection connection) => manager.Commands(connection).Extend.ExecuteScalar() is long;
    }
}
