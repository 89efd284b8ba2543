using System.Globalization;
using Microsoft.Data.Sqlite;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

// The operator side (IMigrationOperations): statuses and lease read without creating anything, the lease released by
// force. On a connection of its own opened without SQLite's create flag, so a database file that does not exist stays so.
public sealed partial class SqliteMigrationManager : IMigrationOperations
{
    private const int SqliteCantOpen = 14;
    private const int SqliteReadOnly = 8;

    /// <inheritdoc/>
    public TimeSpan LeaseDuration => TimeSpan.FromMilliseconds(_sql.LeaseMilliseconds);

    /// <inheritdoc/>
    /// <remarks>
    /// On a connection opened with <c>Mode=ReadWrite</c> (or <c>ReadOnly</c> when the file cannot be written), never
    /// <c>ReadWriteCreate</c>: a database file that does not exist is not created, and means nothing was applied; so does
    /// a file without the status table. The journal mode is left as it is. A table of the first release is read as it is.
    /// </remarks>
    /// <exception cref="InvalidDataException">A row is invalid; the message names it.</exception>
    public async Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var connection = await OpenWithoutCreatingAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return [];
        }

        var columns = await ColumnsAsync(connection, _statusTableName, cancellationToken).ConfigureAwait(false);
        if (columns.Count == 0)
        {
            return [];
        }

        await using var command = connection.CreateCommand();
        command.CommandText = ManagerOperations.ReadStatusesSql(ManagerValidation.Quote(_statusTableName), columns, "{0} = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return ManagerOperations.ReadStatuses(reader, _statusTableName, static (row, column) =>
            DateTimeOffset.TryParse(row.GetString(column), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null);
    }

    /// <inheritdoc/>
    /// <remarks>Without creating the database file; expiry is judged by SQLite's clock, the one every runner on the file uses.</remarks>
    public async Task<MigrationLease?> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var connection = await OpenWithoutCreatingAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null || (await ColumnsAsync(connection, _lockTableName, cancellationToken).ConfigureAwait(false)).Count == 0)
        {
            return null;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT owner_id, acquired_at_ms, expires_at_ms, {Statements.NowMs} FROM {ManagerValidation.Quote(_lockTableName)} WHERE lock_id = 1;";
        return await ReadLeaseRowAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One <c>DELETE … RETURNING</c>. While a runner's migration is inside its transaction it holds SQLite's write lock, and
    /// the lease row cannot be written by anyone: the release waits up to five seconds for it, then fails saying so (that
    /// runner is alive; its commit extends the lease).
    /// </remarks>
    /// <exception cref="InvalidOperationException">The database stayed busy (a migration's transaction holds its write lock).</exception>
    public async Task<MigrationLease?> ForceReleaseLeaseAsync(string? expectedOwnerId, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var connection = await OpenWithoutCreatingAsync(cancellationToken).ConfigureAwait(false);
        MigrationLease? released = null;
        if (connection is not null && (await ColumnsAsync(connection, _lockTableName, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            await using var command = connection.CreateCommand();
            command.CommandText =
                $"DELETE FROM {ManagerValidation.Quote(_lockTableName)} WHERE lock_id = 1 AND ($expected IS NULL OR owner_id = $expected) RETURNING owner_id, acquired_at_ms, expires_at_ms, {Statements.NowMs};";
            command.Parameters.Add("$expected", SqliteType.Text).Value = (object?)expectedOwnerId ?? DBNull.Value;
            command.CommandTimeout = 5;
            try
            {
                released = await ReadLeaseRowAsync(command, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (IsBusy(e))
            {
                throw new InvalidOperationException(
                    $"The migration lease in {_lockTableName} of {_dataSourceName} could not be released: the database stayed busy for 5 s. A runner's migration holds its write lock inside its transaction: that runner is alive, and its commit extends the lease.",
                    e);
            }
        }

        return ManagerOperations.LogForceRelease(released, expectedOwnerId, _lockTableName, OwnerId, _logger);
    }

    private static async Task<MigrationLease?> ReadLeaseRowAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return reader.Read()
            ? new MigrationLease(reader.GetString(0), FromUnixMs(reader.GetInt64(1)), FromUnixMs(reader.GetInt64(2)), FromUnixMs(reader.GetInt64(3)))
            : null;
    }

    /// <summary>The table's column names; none when the table does not exist.</summary>
    private static async Task<List<string>> ColumnsAsync(SqliteConnection connection, string table, CancellationToken cancellationToken)
    {
        var columns = new List<string>();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info($table);";
        command.Parameters.AddWithValue("$table", table);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    /// <summary>
    /// Opens the database without creating it: <c>Mode=ReadWrite</c>, or <c>ReadOnly</c> when the file cannot be written
    /// (or the connection string asks for it); null when the file does not exist. No pragma is run (the manager's
    /// <c>journal_mode=WAL</c> would change the file). An in-memory database exists only on the manager's own connection.
    /// </summary>
    private async Task<SqliteConnection?> OpenWithoutCreatingAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var builder = new SqliteConnectionStringBuilder(_connectionString);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:")
        {
            throw new NotSupportedException(
                $"An in-memory SQLite database ({_dataSourceName}) lives on one connection: its statuses and lease cannot be read from another. Use a database file.");
        }

        if (builder.Mode == SqliteOpenMode.ReadWriteCreate)
        {
            builder.Mode = SqliteOpenMode.ReadWrite;
        }

        try
        {
            return await OpenAsync(builder.ConnectionString, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteCantOpen && !File.Exists(Path.GetFullPath(builder.DataSource)))
        {
            // No database file: nothing was ever applied here, and it stays so.
            return null;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCantOpen or SqliteReadOnly && builder.Mode == SqliteOpenMode.ReadWrite)
        {
            // The file exists but cannot be written (a read-only mount, another user's file): read it read-only.
            builder.Mode = SqliteOpenMode.ReadOnly;
            return await OpenAsync(builder.ConnectionString, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
