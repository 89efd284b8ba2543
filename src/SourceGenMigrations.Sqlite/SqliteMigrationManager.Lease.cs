using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    /// <summary>The lease operations in SQLite's dialect (<c>ON CONFLICT … WHERE</c> and <c>RETURNING</c>, lease times in Unix milliseconds).</summary>
    private sealed class LeaseStore(SqliteMigrationManager manager) : ILeaseStore
    {
        private readonly Statements _sql = manager._sql;

        /// <remarks>
        /// On the data connection: no migration runs before the lease is taken, and a second connection would parse the
        /// whole schema again (on a cold start, the largest cost of a run that has nothing to do). A database busy for
        /// longer than a second (another runner's migration holds its write lock) is a held lease.
        /// </remarks>
        public Task<LeaseAttempt> TryTakeAsync(CancellationToken cancellationToken)
        {
            // Synchronous when the data connection is free and the lease is taken (every start but a queued replica's).
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!manager._dataGate.Wait(0, CancellationToken.None))
                {
                    return TryTakeWaitingAsync(cancellationToken);
                }
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed<LeaseAttempt>(exception);
            }

            return TryTakeHoldingGate(cancellationToken);
        }

        private async Task<LeaseAttempt> TryTakeWaitingAsync(CancellationToken cancellationToken)
        {
            await manager._dataGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await TryTakeHoldingGate(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The attempt with the data gate held; the gate is released when the task completes.</summary>
        private Task<LeaseAttempt> TryTakeHoldingGate(CancellationToken cancellationToken) =>
            manager.ReleasingDataGate(TryTakeOnDataConnection(cancellationToken));

        private Task<LeaseAttempt> TryTakeOnDataConnection(CancellationToken cancellationToken)
        {
            try
            {
                var connection = manager.GetDataConnection();
                if (!manager._holdsDbLock && !IsAutocommit(connection))
                {
                    // A transaction a migration left open: rolled back, and the attempt fails.
                    return RollBackAndThrowAsync(connection);
                }

                // Synchronous, as Microsoft.Data.Sqlite's async methods are anyway.
                cancellationToken.ThrowIfCancellationRequested();
                using (var take = manager.CreateOwnedCommand(connection, _sql.Take))
                {
                    take.CommandTimeout = 1;
                    if (take.ExecuteScalar() is long expiresAtMs)
                    {
                        return Task.FromResult(new LeaseAttempt(true, new LeaseHolder(manager.OwnerId, FromUnixMs(expiresAtMs))));
                    }
                }

                return HeldByAnotherAsync(connection, cancellationToken);
            }
            catch (SqliteException e) when (IsBusy(e))
            {
                return Task.FromResult(new LeaseAttempt(false, null, Busy: true));
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed<LeaseAttempt>(exception);
            }
        }

        private async Task<LeaseAttempt> RollBackAndThrowAsync(SqliteConnection connection)
        {
            await manager.RollBackAndThrowAsync(connection, "take the migration lease").ConfigureAwait(false);
            throw new UnreachableException();
        }

        // Not taken: the attempt says who holds the lease.
        private async Task<LeaseAttempt> HeldByAnotherAsync(SqliteConnection connection, CancellationToken cancellationToken)
        {
            try
            {
                return new LeaseAttempt(false, await manager.ReadLeaseAsync(connection, cancellationToken).ConfigureAwait(false));
            }
            catch (SqliteException e) when (IsBusy(e))
            {
                return new LeaseAttempt(false, null, Busy: true);
            }
        }

        public async Task<(LeaseExtension Outcome, DateTimeOffset ExpiresAt)> TryExtendAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref manager._migrationTransactionOpen))
            {
                return (LeaseExtension.KeptByOwnTransaction, default);
            }

            await manager._leaseGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var connection = manager.GetLeaseConnection(cancellationToken);
                manager._heartbeatCommand ??= manager.CreateOwnedCommand(connection, _sql.Extend, prepare: true);
                while (true)
                {
                    try
                    {
                        return await manager._heartbeatCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long expiresAtMs
                            ? (LeaseExtension.Extended, FromUnixMs(expiresAtMs))
                            : (LeaseExtension.Lost, default);
                    }
                    catch (SqliteException e) when (IsBusy(e))
                    {
                        // Our own migration began its transaction meanwhile: it holds the write lock, and the lease with it.
                        if (Volatile.Read(ref manager._migrationTransactionOpen))
                        {
                            return (LeaseExtension.KeptByOwnTransaction, default);
                        }

                        await Task.Delay(manager.BusyRetryDelay, manager._timeProvider, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                manager._leaseGate.Release();
            }
        }

        /// <remarks>
        /// On the data connection, unless a migration may still be using it (its unit of work has not ended, as when a
        /// cancelled run releases the lease while the migration returns): then on the lease connection, waiting while the
        /// migration's transaction holds the write lock.
        /// </remarks>
        public Task<bool> TryReleaseAsync(CancellationToken cancellationToken)
        {
            // Synchronous on the data connection when it is free and no transaction is left on it (every run that ends
            // with its migrations done).
            if (Volatile.Read(ref manager._migrationMayRun) || cancellationToken.IsCancellationRequested || !manager._dataGate.Wait(0, CancellationToken.None))
            {
                return TryReleaseCoreAsync(cancellationToken);
            }

            try
            {
                try
                {
                    var connection = manager.GetDataConnection();
                    if (manager._holdsDbLock || IsAutocommit(connection))
                    {
                        using var release = manager.CreateOwnedCommand(connection, _sql.Release);
                        release.CommandTimeout = 1;
                        return release.ExecuteNonQuery() == 1 ? CompletedTasks.True : CompletedTasks.False;
                    }
                }
                finally
                {
                    manager._dataGate.Release();
                }

                // A transaction a migration left open: the general path ends it first.
                return TryReleaseCoreAsync(cancellationToken);
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed<bool>(exception);
            }
        }

        private async Task<bool> TryReleaseCoreAsync(CancellationToken cancellationToken)
        {
            var onLeaseConnection = Volatile.Read(ref manager._migrationMayRun);
            var gate = onLeaseConnection ? manager._leaseGate : manager._dataGate;
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                SqliteConnection connection;
                if (onLeaseConnection)
                {
                    connection = manager.GetLeaseConnection(cancellationToken);
                }
                else
                {
                    connection = manager.GetDataConnection();

                    // A transaction a migration left open would swallow the delete: end it first (the status write after
                    // that migration has reported it already), so the lease is released all the same.
                    if (!manager._holdsDbLock && !IsAutocommit(connection))
                    {
                        await manager.EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
                        connection = manager.GetDataConnection();
                    }
                }

                using var release = manager.CreateOwnedCommand(connection, _sql.Release);
                release.CommandTimeout = 1;
                while (true)
                {
                    try
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        return release.ExecuteNonQuery() == 1;
                    }
                    catch (SqliteException e) when (IsBusy(e) && onLeaseConnection)
                    {
                        await Task.Delay(manager.BusyRetryDelay, manager._timeProvider, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }

        /// <remarks>On the data connection, unless a migration may be using it: then on the lease connection.</remarks>
        public async Task<LeaseHolder?> ReadAsync(CancellationToken cancellationToken)
        {
            var onLeaseConnection = Volatile.Read(ref manager._migrationMayRun);
            var gate = onLeaseConnection ? manager._leaseGate : manager._dataGate;
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var connection = onLeaseConnection ? manager.GetLeaseConnection(cancellationToken) : manager.GetDataConnection();
                return await manager.ReadLeaseAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private async Task<LeaseHolder?> ReadLeaseAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _sql.ReadLease;
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return reader.Read() ? new LeaseHolder(reader.GetString(0), FromUnixMs(reader.GetInt64(1))) : null;
    }

    private SqliteCommand CreateOwnedCommand(SqliteConnection connection, string sql, bool prepare = false)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$owner", OwnerId);
        if (sql.Contains("$lease_ms", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("$lease_ms", _sql.LeaseMilliseconds);
        }

        if (prepare)
        {
            command.Prepare();
        }

        return command;
    }

    private static DateTimeOffset FromUnixMs(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
