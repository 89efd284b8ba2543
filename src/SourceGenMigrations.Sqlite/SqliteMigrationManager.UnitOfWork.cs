using System.Diagnostics;
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
    /// that transaction one read: the migration is not <c>COMPLETED</c> and the lease is this runner's (nothing is
    /// written: <c>STARTED</c> inside the transaction would be seen by no one else). The migration's statements follow on
    /// the same connection, and <see cref="MigrationUnitOfWork.CompleteAsync"/> writes <c>COMPLETED</c>, extends the lease
    /// unless it was extended within the last tenth of its duration, and commits: one durable commit. Non-transactional: <c>STARTED</c> in a commit of its own.
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
        private long _leaseLeftMilliseconds;
        private long _began;

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

            // BEGIN IMMEDIATE takes the write lock: until the commit no other connection can complete the migration or take
            // the lease, so one read here fences the run, and COMPLETED at the end is the only write before the commit.
            await BeginTransactionAsync(connection, cancellationToken).ConfigureAwait(false);
            var check = manager.Commands(connection).BeginCheck;
            check.Parameters[0].Value = Migration.Order;
            using var reader = check.ExecuteReader();
            reader.Read();
            if (!reader.IsDBNull(0) && reader.GetString(0) == MigrationStatusText.Completed)
            {
                return StatusWriteOutcome.CompletedAlready;
            }

            if (reader.IsDBNull(1))
            {
                return StatusWriteOutcome.LeaseLost;
            }

            _leaseLeftMilliseconds = reader.GetInt64(1);
            _began = Stopwatch.GetTimestamp();
            return StatusWriteOutcome.Written;
        }

        /// <summary>
        /// Whether the commit must extend the lease: unless it was extended (taken, beaten or committed) within the last
        /// tenth of its duration. Quick migrations in a row leave the lease row alone (one page less to write and sync per
        /// commit); any other commit extends it, so that no waiting replica slips in before the next heartbeat even when
        /// that heartbeat was blocked by the migration's transaction (the heartbeat's interval stays below the lease).
        /// </summary>
        private bool LeaseNeedsExtending() =>
            _leaseLeftMilliseconds - (long)Stopwatch.GetElapsedTime(_began).TotalMilliseconds < manager._sql.LeaseMilliseconds - (manager._sql.LeaseMilliseconds / 10);

        public override async Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken)
        {
            var connection = _connection!;
            if (!Migration.Transactional)
            {
                await manager.ThrowIfTransactionOpenAsync(connection, $"write the status COMPLETED of the {Migration}").ConfigureAwait(false);
                return await WriteFencedAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
            }

            // COMPLETED over the row the run wrote PENDING (a short statement: a migration that changes the schema makes
            // SQLite parse it again every time); without that row, the fenced upsert.
            if (!CompletePendingRow(connection))
            {
                var outcome = await WriteFencedAsync(MigrationStatus.Completed, cancellationToken).ConfigureAwait(false);
                if (outcome != StatusWriteOutcome.Written)
                {
                    return outcome;
                }
            }

            // Extended in the commit unless it was extended within the last tenth of the lease: no waiting replica can slip
            // in between this commit and the next heartbeat. COMPLETED needs no fence of its own: since the begin's read
            // (not COMPLETED, the lease ours) the write lock has kept every other connection out.
            if (LeaseNeedsExtending() && !ExtendLease(connection))
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
            // Whatever the migration did is rolled back: its own transaction, or (transactional) the manager's, which holds
            // nothing else (the begin only read). FAILED then commits on its own, fenced like every status write.
            await manager.EndTransactionOrDropConnectionAsync(_connection!).ConfigureAwait(false);
            Volatile.Write(ref manager._migrationTransactionOpen, false);
            _connection = manager.GetDataConnection();
            return await WriteFencedAsync(MigrationStatus.Failed, cancellationToken).ConfigureAwait(false);
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

        /// <summary>COMPLETED over the migration's row (as the run wrote it PENDING), in the transaction its begin fenced.</summary>
        private bool CompletePendingRow(SqliteConnection connection)
        {
            var complete = manager.Commands(connection).CompleteInTransaction;
            complete.Parameters[0].Value = Migration.Order;
            complete.Parameters[1].Value = Migration.Name;
            complete.Parameters[2].Value = Migration.BreaksOlderBuilds ? 1 : 0;
            complete.Parameters[3].Value = StatusTableSchema.AppliedByValue(manager.OwnerId, Migration);
            complete.Parameters[4].Value = (object?)Migration.Checksum ?? DBNull.Value;
            return complete.ExecuteNonQuery() == 1;
        }

        private bool ExtendLease(SqliteConnection connection) => manager.Commands(connection).Extend.ExecuteScalar() is long;
    }
}
