using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    /// <summary>
    /// The lease operations in MySQL's dialect, each one round trip on the manager's connection. Without <c>RETURNING</c>, a
    /// statement that must say what it found is followed by a read of the row in the same command (and, for the take, in
    /// the same transaction), and the decision is made from that read, never from an affected-rows count.
    /// </summary>
    private sealed class LeaseStore(MySqlMigrationManager manager) : ILeaseStore
    {
        public Task<LeaseAttempt> TryTakeAsync(CancellationToken cancellationToken) =>
            manager.OnControlAsync(TakeAsync, cancellationToken);

        public Task<(LeaseExtension Outcome, DateTimeOffset ExpiresAt)> TryExtendAsync(CancellationToken cancellationToken) =>
            manager.OnControlAsync(
                async (connection, ct) =>
                {
                    await using var extend = manager.OwnerCommand(manager._sql.ExtendLease, connection, withLease: true);
                    return await FirstValueAsync(extend, ct).ConfigureAwait(false) is DateTime extendedUntil
                        ? (LeaseExtension.Extended, ToOffset(extendedUntil))
                        : (LeaseExtension.Lost, default(DateTimeOffset));
                },
                cancellationToken);

        public Task<bool> TryReleaseAsync(CancellationToken cancellationToken) =>
            manager.OnControlAsync(
                async (connection, ct) =>
                {
                    // A DELETE's count is the rows deleted in either affected-rows mode.
                    await using var release = manager.OwnerCommand(manager._sql.ReleaseLease, connection, withLease: false);
                    return await release.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
                },
                cancellationToken);

        public Task<LeaseHolder?> ReadAsync(CancellationToken cancellationToken) =>
            manager.OnControlAsync(
                async (connection, ct) =>
                {
                    await using var command = new MySqlCommand(manager._sql.ReadLease, connection);
                    await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    return await reader.ReadAsync(ct).ConfigureAwait(false)
                        ? new LeaseHolder(reader.GetString(0), ToOffset(reader.GetDateTime(1)))
                        : (LeaseHolder?)null;
                },
                cancellationToken);

        private async Task<LeaseAttempt> TakeAsync(MySqlConnection connection, CancellationToken cancellationToken)
        {
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
