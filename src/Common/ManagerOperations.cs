using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Internal;

/// <summary>
/// The operator side of every manager (<see cref="IMigrationOperations"/>), written once: the read-only status query
/// over whichever columns the table has, the strict reading of its rows, and the logging of a forced lease release.
/// The SQL of each statement and how a missing table is told are the manager's.
/// </summary>
internal static class ManagerOperations
{
    /// <summary>Column positions of <see cref="ReadStatusesSql"/>.</summary>
    private const int OrderColumn = 0, StatusColumn = 1, NameColumn = 2, AppliedByColumn = 3, UpdatedAtColumn = 4, BreaksColumn = 5, ChecksumColumn = 6;

    /// <summary>
    /// The SELECT of every status row with its details, over the columns <paramref name="existingColumns"/> the table has
    /// (a table of the first release lacks the added ones: they read as NULL), ordered by order. Columns: order, status,
    /// name, applied_by, updated_at, breaks_older_builds (as the dialect's true/false/NULL), checksum.
    /// </summary>
    /// <param name="statusTable">The quoted (and qualified) table.</param>
    /// <param name="existingColumns">The table's columns (compared ignoring case).</param>
    /// <param name="isTrue">The dialect's test of a boolean column, given the column: <c>{0} = 1</c>, <c>{0} IS TRUE</c>.</param>
    public static string ReadStatusesSql(string statusTable, IReadOnlyCollection<string> existingColumns, string isTrue)
    {
        var existing = new HashSet<string>(existingColumns, StringComparer.OrdinalIgnoreCase);
        string Column(string name) => existing.Contains(name) ? name : "NULL";
        var breaks = existing.Contains(StatusTableSchema.BreaksOlderBuilds)
            ? string.Format(CultureInfo.InvariantCulture, isTrue, StatusTableSchema.BreaksOlderBuilds)
            : "NULL";
        return $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Status}, {Column(StatusTableSchema.Name)}, {Column(StatusTableSchema.AppliedBy)}, {StatusTableSchema.UpdatedAt}, {breaks}, {Column(StatusTableSchema.Checksum)} FROM {statusTable} ORDER BY {StatusTableSchema.Order}";
    }

    /// <summary>Reads every row of <see cref="ReadStatusesSql"/> strictly (an invalid row is an error that names it).</summary>
    /// <param name="reader">The open reader.</param>
    /// <param name="table">The table as shown in messages.</param>
    /// <param name="readTime">Reads the dialect's <c>updated_at</c> value at a column (not NULL).</param>
    /// <exception cref="InvalidDataException">A row's order is not an integer or negative, or its status is unknown.</exception>
    public static List<PersistedStatus> ReadStatuses(DbDataReader reader, string table, Func<DbDataReader, int, DateTimeOffset?> readTime)
    {
        var statuses = new List<PersistedStatus>();
        while (reader.Read())
        {
            if (reader.IsDBNull(OrderColumn) || reader.GetFieldType(OrderColumn) != typeof(long))
            {
                var value = reader.IsDBNull(OrderColumn) ? "NULL" : "'" + Convert.ToString(reader.GetValue(OrderColumn), CultureInfo.InvariantCulture) + "'";
                throw new InvalidDataException(
                    $"The table {table} has a row with migration_order = {value}, which is not an integer. Fix or delete the row; nothing was run.");
            }

            var status = StatusRows.Read(table, reader.GetInt64(OrderColumn), reader.IsDBNull(StatusColumn) ? null : reader.GetString(StatusColumn));
            statuses.Add(status with
            {
                Name = reader.IsDBNull(NameColumn) ? null : reader.GetString(NameColumn),
                AppliedBy = reader.IsDBNull(AppliedByColumn) ? null : reader.GetString(AppliedByColumn),
                UpdatedAt = reader.IsDBNull(UpdatedAtColumn) ? null : readTime(reader, UpdatedAtColumn),
                BreaksOlderBuilds = !reader.IsDBNull(BreaksColumn) && reader.GetBoolean(BreaksColumn),
                Checksum = reader.IsDBNull(ChecksumColumn) ? null : reader.GetString(ChecksumColumn),
            });
        }

        return statuses;
    }

    /// <summary>Logs the outcome of a forced release and returns it.</summary>
    /// <param name="released">The lease as deleted, or null when nothing was deleted.</param>
    /// <param name="expectedOwnerId">The holder the release was limited to, or null.</param>
    /// <param name="table">The lease table as shown in logs.</param>
    /// <param name="ownerId">The owner id of the manager that released it.</param>
    /// <param name="logger">The manager's logger.</param>
    public static MigrationLease? LogForceRelease(MigrationLease? released, string? expectedOwnerId, string table, string ownerId, ILogger logger)
    {
        if (released is not null)
        {
            LeaseLog.LeaseReleasedByForce(logger, table, released.OwnerId, released.IsExpired ? "expired" : "live", released.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), ownerId);
        }
        else
        {
            LeaseLog.LeaseNotReleasedByForce(logger, table, expectedOwnerId is null ? "there was no lease" : "it was not held by " + expectedOwnerId);
        }

        return released;
    }
}

/// <summary>The status table's <c>applied_by</c> value.</summary>
internal static partial class StatusTableSchema
{
    /// <summary>
    /// What a manager stores in <see cref="AppliedBy"/> for a status of <paramref name="migration"/>: its owner id, then
    /// the build's version in parentheses when the runner told it (<see cref="MigrationDescriptor.BuildVersion"/>), for
    /// example <c>web-3/4711/5f0c2a9e1b7d (MyService 1.4.2+3f2a1c9)</c>. Every manager binds this one value, so the
    /// column reads the same on every database.
    /// </summary>
    public static string AppliedByValue(string ownerId, MigrationDescriptor migration) =>
        migration.BuildVersion is { Length: > 0 } build ? ownerId + " (" + build + ")" : ownerId;
}

/// <summary>The forced release's log lines (the lease's range).</summary>
internal static partial class LeaseLog
{
    [LoggerMessage(EventId = LogEventIds.Lease + 20, Level = LogLevel.Warning, Message = "Released the migration lease in {Table} by force: it was held by {HolderOwnerId} ({State}, until {ExpiresAt}); released by {OwnerId}. A runner that held it can no longer commit a migration")]
    public static partial void LeaseReleasedByForce(ILogger logger, string table, string holderOwnerId, string state, string expiresAt, string ownerId);

    [LoggerMessage(EventId = LogEventIds.Lease + 21, Level = LogLevel.Information, Message = "Did not release the migration lease in {Table} by force: {Reason}")]
    public static partial void LeaseNotReleasedByForce(ILogger logger, string table, string reason);
}
