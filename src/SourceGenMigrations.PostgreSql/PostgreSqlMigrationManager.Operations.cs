using Npgsql;
using NpgsqlTypes;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

// The operator side (IMigrationOperations): statuses and lease read without creating anything (no schema, no table),
// the lease released by force. Autocommit statements only, so it works behind a transaction-mode pooler too.
public sealed partial class PostgreSqlMigrationManager : IMigrationOperations
{
    /// <inheritdoc/>
    public TimeSpan LeaseDuration => _leaseDuration;

    /// <inheritdoc/>
    /// <remarks>
    /// Reads the catalog first: a schema or status table that does not exist means nothing was applied, and nothing is
    /// created. A table of the first release (without the added columns) is read as it is.
    /// </remarks>
    /// <exception cref="InvalidDataException">A row is invalid; the message names it.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var columns = await ReadStatusColumnsAsync(cancellationToken).ConfigureAwait(false);
        if (columns.Count == 0)
        {
            return [];
        }

        await using var command = _dataSource.CreateCommand(ManagerOperations.ReadStatusesSql(_sql.StatusTableRegClass, columns, "{0} IS TRUE"));
        await using var rows = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return ManagerOperations.ReadStatuses(rows, _schemaName + "." + _statusTableName, static (row, column) => ToOffset(row.GetFieldValue<DateTime>(column)));
    }

    /// <summary>The status table's column names from the catalog; none when the schema or the table does not exist.</summary>
    private async Task<List<string>> ReadStatusColumnsAsync(CancellationToken cancellationToken)
    {
        var columns = new List<string>();
        await using var catalog = _dataSource.CreateCommand(_sql.StatusColumns);
        catalog.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.StatusTableRegClass });
        await using var reader = await catalog.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    /// <inheritdoc/>
    /// <remarks>Expiry is judged by the server's clock (<c>clock_timestamp()</c>), the one every replica uses.</remarks>
    public async Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var command = _dataSource.CreateCommand($"SELECT owner_id, acquired_at, expires_at, clock_timestamp() FROM {QuotedLockTable} WHERE lock_id = 1");
        return await ReadLeaseRowAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One <c>DELETE … RETURNING</c>, in a transaction of its own.</remarks>
    public async Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var command = _dataSource.CreateCommand(
            $"DELETE FROM {QuotedLockTable} WHERE lock_id = 1 AND ($1::text IS NULL OR owner_id = $1) RETURNING owner_id, acquired_at, expires_at, clock_timestamp()");
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)expectedOwnerId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var released = await ReadLeaseRowAsync(command, cancellationToken).ConfigureAwait(false);
        return ManagerOperations.LogForceRelease(released, expectedOwnerId, _schemaName + "." + _lockTableName, OwnerId, _logger);
    }

    private string QuotedLockTable => ManagerValidation.Quote(_schemaName) + "." + ManagerValidation.Quote(_lockTableName);

    /// <summary>The lease row of <paramref name="command"/>; null when there is none, or no lease table (or schema).</summary>
    private static async Task<MigrationLease?> ReadLeaseRowAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new MigrationLease(
                    reader.GetString(0),
                    ToOffset(reader.GetFieldValue<DateTime>(1)),
                    ToOffset(reader.GetFieldValue<DateTime>(2)),
                    ToOffset(reader.GetFieldValue<DateTime>(3)))
                : null;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            // The lease table was never created: nobody holds the lease, and nothing is created to say so.
            return null;
        }
    }
}
