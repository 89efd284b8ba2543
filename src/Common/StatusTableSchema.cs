using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Internal;

/// <summary>The kind of a status-table column, mapped to a type by each dialect.</summary>
internal enum StatusColumnKind
{
    Text,
    Boolean,
}

/// <summary>
/// The status table every manager keeps: one row per migration. The first release had <c>migration_order</c>,
/// <c>status</c> and <c>updated_at</c>; revision 2 adds nullable columns, so that replicas of the first release keep
/// writing their rows (without them) during a rolling upgrade, and a table made by the first release is upgraded in
/// place under the database lock.
/// </summary>
internal static partial class StatusTableSchema
{
    public const string Order = "migration_order";
    public const string Status = "status";
    public const string UpdatedAt = "updated_at";

    /// <summary>The migration's name (what operators read beside the order).</summary>
    public const string Name = "name";

    /// <summary>Who wrote the status last: the runner's owner id (host/process/random).</summary>
    public const string AppliedBy = "applied_by";

    /// <summary>Room for the deployment issue: the migration breaks builds that do not know it.</summary>
    public const string BreaksOlderBuilds = "breaks_older_builds";

    /// <summary>Room for SQL-file migrations: the checksum of the file's normalised content.</summary>
    public const string Checksum = "checksum";

    /// <summary>The columns added after the first release, in the order they are added; all nullable.</summary>
    public static readonly (string Column, StatusColumnKind Kind)[] AddedColumns =
    [
        (Name, StatusColumnKind.Text),
        (AppliedBy, StatusColumnKind.Text),
        (BreaksOlderBuilds, StatusColumnKind.Boolean),
        (Checksum, StatusColumnKind.Text),
    ];

    /// <summary>
    /// The <see cref="BreaksOlderBuilds"/> value to store with <paramref name="status"/>, or null to keep the stored one.
    /// The flag is stored with the status that marks the migration's effect, so that it counts only once the migration
    /// took effect: <c>COMPLETED</c>, and for a non-transactional migration <c>STARTED</c> (its statements commit as they
    /// run; a later <c>FAILED</c> keeps the flag). A transactional migration's <c>STARTED</c> and <c>FAILED</c> never
    /// carry it: its statements roll back with them.
    /// </summary>
    public static bool? BreaksOlderBuildsToStore(MigrationDescriptor migration, MigrationStatus status) => status switch
    {
        MigrationStatus.Completed => migration.BreaksOlderBuilds,
        MigrationStatus.Started when !migration.Transactional && migration.BreaksOlderBuilds => true,
        _ => null,
    };

    /// <summary>Whether a table with <paramref name="columns"/> exists (some columns) and has every added column: one that needs no upgrade.</summary>
    public static bool IsCurrent(IReadOnlyCollection<string> columns) => columns.Count > 0 && MissingColumns(columns).Count == 0;

    /// <summary>The added columns missing from a table that has <paramref name="existingColumns"/> (compared ignoring case).</summary>
    public static List<(string Column, StatusColumnKind Kind)> MissingColumns(IEnumerable<string> existingColumns)
    {
        var existing = new HashSet<string>(existingColumns, StringComparer.OrdinalIgnoreCase);
        var missing = new List<(string, StatusColumnKind)>();
        foreach (var column in AddedColumns)
        {
            if (!existing.Contains(column.Column))
            {
                missing.Add(column);
            }
        }

        return missing;
    }

    /// <summary>The column definitions after the first three, for a CREATE TABLE: <c>, name TEXT, …</c>.</summary>
    public static string AddedColumnDefinitions(Func<StatusColumnKind, string> typeName)
    {
        var definitions = new System.Text.StringBuilder();
        foreach (var (column, kind) in AddedColumns)
        {
            definitions.Append(",\n    ").Append(column).Append(' ').Append(typeName(kind));
        }

        return definitions.ToString();
    }

    /// <summary>The names of <see cref="AddedColumns"/> as SQL string literals, for an <c>IN (…)</c> list: <c>'name', 'applied_by', …</c>.</summary>
    public static string AddedColumnNames()
    {
        var names = new System.Text.StringBuilder();
        foreach (var (column, _) in AddedColumns)
        {
            names.Append(names.Length == 0 ? "'" : ", '").Append(column).Append('\'');
        }

        return names.ToString();
    }

    /// <summary>Logs an upgrade in place.</summary>
    public static void LogUpgraded(ILogger logger, string table, string columns) => UpgradeLog.Upgraded(logger, table, columns);

    // Its own class: the source-generated line defines its formatter in a static field, which would otherwise be built
    // with this class's other statics on every start (reading AddedColumns), although a table is upgraded once.
    private static partial class UpgradeLog
    {
        [LoggerMessage(EventId = LogEventIds.StatusTable + 1, Level = LogLevel.Information, Message = "Upgraded the status table {Table} in place: added the column(s) {Columns}")]
        public static partial void Upgraded(ILogger logger, string table, string columns);
    }
}
