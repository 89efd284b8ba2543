using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    /// <summary>
    /// The lease operations in MySQL's dialect, each one round trip on a pooled connection. Without <c>RETURNING</c>, a
    /// statement that must say what it found is followed by a read of the row in the same command (and, for the take, in
    /// the same transaction), and the decision is made from that read, never from an affected-rows count.
    /// </summary>
    private sealed class LeaseStore(MySqlMigrationManager manager) : ILeaseStore
    {
        public async Task<LeaseAttempt> TryTakeAsync(CancellationToken cancellationToken)
        {
            await using var connection = await manager._dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var take = manager.OwnerCommand(manager._sql.TakeLease, connection, withLease: true);
            LeaseHolder? holder = null;
            try
            {
                await using var reader = await take.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);

                // The INSERT's result comes first; the row read back is the SELECT's.
                do
                {
                    if (reader.FieldCount == 2 && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        holder = new LeaseHolder(reader.GetString(0), ToOffset(reader.GetDateTime(1)));
                    }
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is MySqlException or OperationCanceledException)
            {
                // The transaction the statement began may still be open: end it before the connection goes back to the
                // pool (a data source with ConnectionReset=false would hand it on as it is).
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }

            return new LeaseAttempt(holder?.OwnerId == manager.OwnerId, holder);
        }

        public async Task<(LeaseExtension Outcome, DateTimeOffset ExpiresAt)> TryExtendAsync(CancellationToken cancellationToken)
        {
            await using var connection = await manager._dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var extend = manager.OwnerCommand(manager._sql.ExtendLease, connection, withLease: true);
            return await FirstValueAsync(extend, cancellationToken).ConfigureAwait(false) is DateTime extendedUntil
                ? (LeaseExtension.Extended, ToOffset(extendedUntil))
                : (LeaseExtension.Lost, default);
        }

        public async Task<bool> TryReleaseAsync(CancellationToken cancellationToken)
        {
            await using var connection = await manager._dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var release = manager.OwnerCommand(manager._sql.ReleaseLease, connection, withLease: false);

            // A DELETE's count is the rows deleted in either affected-rows mode.
            return await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        public async Task<LeaseHolder?> ReadAsync(CancellationToken cancellationToken)
        {
            await using var connection = await manager._dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new MySqlCommand(manager._sql.ReadLease, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new LeaseHolder(reader.GetString(0), ToOffset(reader.GetDateTime(1)))
                : null;
        }
    }

    /// <summary>Sends <c>ROLLBACK</c>; a connection that cannot take it is broken, and the pool drops it.</summary>
    private static async Task RollbackQuietlyAsync(MySqlConnection connection)
    {
        try
        {
            await using var rollback = new MySqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException)
        {
        }
    }

    /// <summary>A command on <paramref name="connection"/> with <c>@owner</c> and, when asked, <c>@lease_us</c> (the lease in microseconds).</summary>
    private MySqlCommand OwnerCommand(string sql, MySqlConnection connection, bool withLease, MySqlTransaction? transaction = null)
    {
        var command = new MySqlCommand(sql, connection, transaction);
        command.Parameters.Add(new MySqlParameter("@owner", MySqlDbType.VarChar) { Value = OwnerId });
        if (withLease)
        {
            command.Parameters.Add(new MySqlParameter("@lease_us", MySqlDbType.Int64) { Value = _leaseDuration.Ticks / TimeSpan.TicksPerMicrosecond });
        }

        return command;
    }
}
