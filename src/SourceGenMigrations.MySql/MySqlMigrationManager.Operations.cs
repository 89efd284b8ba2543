using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

// The operator side (IMigrationOperations): statuses and lease read without creating anything (no table), the lease
// released by force. On the manager's connection, one statement at a time like its other statements.
public sealed partial class MySqlMigrationManager : IMigrationOperations
{
    /// <inheritdoc/>
    public TimeSpan LeaseDuration => _leaseDuration;

    /// <inheritdoc/>
    /// <remarks>
    /// Reads <c>information_schema.COLUMNS</c> first: a status table that does not exist means nothing was applied, and
    /// nothing is created. A table of the first release (without the added columns) is read as it is.
    /// </remarks>
    /// <exception cref="InvalidDataException">A row is invalid; the message names it.</exception>
    public Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return OnControlAsync<IReadOnlyList<PersistedStatus>>(
            async (connection, ct) =>
            {
                var columns = await ReadStatusColumnsAsync(connection, ct).ConfigureAwait(false);
                if (columns.Count == 0)
                {
                    return [];
                }

                var sql = ManagerOperations.ReadStatusesSql(ManagerValidation.Quote(_statusTableName, '`'), columns, "{0} IS TRUE");
                await using var command = new MySqlCommand(sql, connection);
                await using var rows = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return ManagerOperations.ReadStatuses(rows, _statusTableName, static (row, column) => ToOffset(row.GetDateTime(column)));
            },
            cancellationToken);
    }

    /// <summary>The status table's column names from <c>information_schema.COLUMNS</c>; none when the table does not exist.</summary>
    private async Task<List<string>> ReadStatusColumnsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var columns = new List<string>();
        await using var catalog = new MySqlCommand(_sql.Columns, connection);

        // Only the status table's columns: no lock table is asked for.
        catalog.Parameters.Add(new MySqlParameter("@lock_table", MySqlDbType.VarChar) { Value = "" });
        catalog.Parameters.Add(new MySqlParameter("@status_table", MySqlDbType.VarChar) { Value = _statusTableName });
        await using var reader = await catalog.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            columns.Add(reader.GetString(1));
        }

        return columns;
    }

    /// <inheritdoc/>
    /// <remarks>Expiry is judged by the server's clock (<c>UTC_TIMESTAMP(6)</c>), the one every replica uses.</remarks>
    public Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return OnControlAsync(
            async (connection, ct) =>
            {
                await using var command = new MySqlCommand(_sql.ReadLeaseWithClock, connection);
                return await ReadLeaseRowAsync(command, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// In one short transaction: the row read locked, then deleted (MySQL has no <c>DELETE … RETURNING</c>), so what is
    /// returned is exactly what was deleted.
    /// </remarks>
    public async Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var released = await OnControlAsync(
            async (connection, ct) =>
            {
                await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using var read = new MySqlCommand(_sql.ReadLeaseWithClock + " FOR UPDATE", connection, transaction);
                var lease = await ReadLeaseRowAsync(read, ct).ConfigureAwait(false);
                if (lease is null || (expectedOwnerId is not null && !string.Equals(lease.OwnerId, expectedOwnerId, StringComparison.Ordinal)))
                {
                    return null;
                }

                await using var delete = new MySqlCommand(_sql.DeleteLeaseOf, connection, transaction);
                delete.Parameters.Add(new MySqlParameter("@owner", MySqlDbType.VarChar) { Value = lease.OwnerId });
                await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return lease;
            },
            cancellationToken).ConfigureAwait(false);
        return ManagerOperations.LogForceRelease(released, expectedOwnerId, _lockTableName, OwnerId, _logger);
    }

    /// <summary>The lease row of <paramref name="command"/>; null when there is none, or no lease table.</summary>
    private static async Task<MigrationLease?> ReadLeaseRowAsync(MySqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new MigrationLease(reader.GetString(0), ToOffset(reader.GetDateTime(1)), ToOffset(reader.GetDateTime(2)), ToOffset(reader.GetDateTime(3)))
                : null;
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.NoSuchTable)
        {
            // The lease table was never created: nobody holds the lease, and nothing is created to say so.
            return null;
        }
    }
}
