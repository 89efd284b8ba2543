using System.Globalization;

namespace SourceGenMigrations.Sqlite;

/// <summary>
/// The status list as one text value: <c>{order}{code}</c> per row, comma-separated, where the code is
/// <c>c</c>, <c>s</c>, <c>f</c> or <c>p</c> (COMPLETED, STARTED, FAILED, PENDING) and <c>?</c> for anything else,
/// followed by <c>!</c> when the row is stored as breaking older builds and by <c>#</c> and the checksum when it has one
/// (a SQL-file migration; hex digits, so no comma).
/// </summary>
/// <remarks>
/// Every start lists every status. Through Microsoft.Data.Sqlite each row costs a step and several column reads, each
/// a P/Invoke on a safe handle; SQLite building the same list as one value, parsed here, costs a fraction of that
/// (figures in benchmarks/peers/results/2026-11-26-history.md). Anything this strict parser does not accept (an unknown status, a negative, NULL or non-integer
/// order in a table created by hand) sends the manager to the row-by-row read, whose error names the row.
/// </remarks>
internal static class CompactStatusList
{
    /// <summary>The SELECT that builds the list of <paramref name="statusTable"/> (a quoted identifier).</summary>
    public static string Sql(string statusTable) =>
        $"""
        SELECT group_concat(
            ifnull(migration_order, '?') ||
            CASE status
                WHEN '{MigrationStatusText.Completed}' THEN 'c'
                WHEN '{MigrationStatusText.Started}' THEN 's'
                WHEN '{MigrationStatusText.Failed}' THEN 'f'
                WHEN '{MigrationStatusText.Pending}' THEN 'p'
                ELSE '?'
            END ||
            CASE WHEN breaks_older_builds = 1 THEN '!' ELSE '' END ||
            CASE WHEN checksum IS NOT NULL THEN '#' || checksum ELSE '' END, ',')
        FROM {statusTable};
        """;

    /// <summary>Parses the list; false when any entry is not a plain order and a known code.</summary>
    /// <param name="text">The value of <see cref="Sql"/>; null (no rows) is the empty list.</param>
    /// <param name="statuses">The statuses, ascending by order (a rowid table lists them so; others are sorted here).</param>
    /// <returns>False when an entry is not a plain order, a known code and an optional <c>!</c>.</returns>
    public static bool TryParse(string? text, out List<PersistedStatus> statuses)
    {
        statuses = [];
        if (text is null)
        {
            return true;
        }

        // About one entry per 5-8 characters: enough capacity for the whole list in one allocation.
        statuses.Capacity = (text.Length / 4) + 1;
        var i = 0;
        while (true)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || i == text.Length
                || !long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var order))
            {
                return false;
            }

            MigrationStatus status;
            switch (text[i])
            {
                case 'c': status = MigrationStatus.Completed; break;
                case 's': status = MigrationStatus.Started; break;
                case 'f': status = MigrationStatus.Failed; break;
                case 'p': status = MigrationStatus.Pending; break;
                default: return false;
            }

            i++;
            var breaks = i < text.Length && text[i] == '!';
            if (breaks)
            {
                i++;
            }

            string? checksum = null;
            if (i < text.Length && text[i] == '#')
            {
                var end = ++i;
                while (end < text.Length && char.IsAsciiHexDigit(text[end]))
                {
                    end++;
                }

                checksum = text.Substring(i, end - i);
                i = end;
            }

            statuses.Add(new PersistedStatus(order, status) { BreaksOlderBuilds = breaks, Checksum = checksum });
            if (i == text.Length)
            {
                SortIfNeeded(statuses);
                return true;
            }

            if (text[i] != ',')
            {
                return false;
            }

            i++;
        }
    }

    private static void SortIfNeeded(List<PersistedStatus> statuses)
    {
        for (var i = 1; i < statuses.Count; i++)
        {
            if (statuses[i].Order < statuses[i - 1].Order)
            {
                statuses.Sort(static (left, right) => left.Order.CompareTo(right.Order));
                return;
            }
        }
    }
}
