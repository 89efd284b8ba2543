using System.Globalization;
using System.Text;

namespace SourceGenMigrations;

// The plan as text for people: the status command's table, a Verify failure's log, a debugger.
public sealed partial class MigrationPlan
{
    /// <summary>
    /// The plan as a table, one line per migration in ascending order (the registrations, and the persisted orders this
    /// build does not know), then one summary line:
    /// <code>
    /// order  status     action          name                         updated              applied by
    ///     1  COMPLETED  skip completed  App.Migrations.CreateUsers   2026-12-03 10:00:00  web-1/42/5f0c2a9e1b7d (App 1.4.2)
    ///     2  -          skip disabled   App.Migrations.OldBackfill   -                    -
    ///     3  FAILED     run             App.Migrations.AddIndex      2026-12-03 10:00:01  web-1/42/5f0c2a9e1b7d (App 1.4.2)
    /// 1 migration(s) to run, from order 3 to 3
    /// </code>
    /// <c>status</c> is the persisted status (<c>-</c>: never started); <c>action</c> is what a run would do:
    /// <c>run</c>, <c>skip completed</c>, <c>skip disabled</c>, or for a persisted order this build does not know,
    /// <c>newer</c> (tolerated, <see cref="MigrationConfig.AllowNewerMigrations"/>) or <c>unknown</c> (a run stops on it).
    /// Times are UTC. The summary line is <c>up to date</c>, <c>N migration(s) to run, from order X to Y</c>, or
    /// <c>a run would fail: …</c> with <see cref="Error"/>'s message; before it, <c>tolerated: …</c> names the newer
    /// migrations a run would start beside.
    /// </summary>
    public override string ToString()
    {
        var rows = new List<(long Order, string[] Cells)>(Entries.Count + UnknownStatuses.Count);
        foreach (var entry in Entries)
        {
            rows.Add((entry.Order, entry.Cells()));
        }

        foreach (var unknown in UnknownStatuses)
        {
            var action = NewerPersistedOrders.Contains(unknown.Order) ? "newer" : "unknown";
            rows.Add((unknown.Order, MigrationPlanEntry.Cells(unknown.Order, unknown.Status, action, unknown.Name ?? "(not in this build)", unknown.UpdatedAt, unknown.AppliedBy)));
        }

        rows.Sort(static (left, right) => left.Order.CompareTo(right.Order));
        string[] header = ["order", "status", "action", "name", "updated", "applied by"];
        var widths = header.Select(static h => h.Length).ToArray();
        foreach (var (_, cells) in rows)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                widths[i] = Math.Max(widths[i], cells[i].Length);
            }
        }

        var text = new StringBuilder();
        AppendRow(text, header, widths);
        foreach (var (_, cells) in rows)
        {
            AppendRow(text, cells, widths);
        }

        if (NewerPersistedOrders.Count > 0)
        {
            text.Append("tolerated: migration(s) ").Append(string.Join(", ", NewerPersistedOrders.Select(Format)))
                .Append(" applied by a newer build (").Append(MigrationConfig.AllowNewerMigrationsVariable).Append("=true)\n");
        }

        text.Append(Summary());
        return text.ToString();
    }

    /// <summary>The plan's last line: up to date, what would run, or why a run would fail.</summary>
    internal string Summary()
    {
        if (Error is { } error)
        {
            return "a run would fail: " + OneLine(error.Message);
        }

        if (RunCount == 0)
        {
            return "up to date";
        }

        var toRun = Entries.Where(static e => e.Action == MigrationAction.Run).ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{RunCount} migration(s) to run, from order {toRun[0].Order} to {toRun[^1].Order}");
    }

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ");

    // The order right-aligned, every other column left-aligned, two spaces apart, no trailing white space.
    private static void AppendRow(StringBuilder text, string[] cells, int[] widths)
    {
        var start = text.Length;
        text.Append(cells[0].PadLeft(widths[0]));
        for (var i = 1; i < cells.Length; i++)
        {
            text.Append("  ").Append(cells[i].PadRight(widths[i]));
        }

        var end = text.Length;
        while (end > start && text[end - 1] == ' ')
        {
            end--;
        }

        text.Length = end;
        text.Append('\n');
    }
}

public sealed partial class MigrationPlanEntry
{
    /// <summary>The entry as one line of the plan's table: order, persisted status, action, name.</summary>
    /// <returns>For example <c>3 FAILED run App.Migrations.AddIndex</c>.</returns>
    public override string ToString() => string.Join(' ', Cells().Take(4));

    internal string[] Cells() => Cells(Order, PersistedStatus, ActionText(Action), Name, UpdatedAt, AppliedBy);

    internal static string[] Cells(long order, MigrationStatus? status, string action, string name, DateTimeOffset? updatedAt, string? appliedBy) =>
    [
        order.ToString(CultureInfo.InvariantCulture),
        status is { } persisted ? MigrationStatusText.ToText(persisted) : "-",
        action,
        MigrationPlan.OneLine(name),
        updatedAt is { } time ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-",
        appliedBy is null ? "-" : MigrationPlan.OneLine(appliedBy),
    ];

    /// <summary>The action as the table shows it.</summary>
    internal static string ActionText(MigrationAction action) => action switch
    {
        MigrationAction.Run => "run",
        MigrationAction.SkipCompleted => "skip completed",
        MigrationAction.SkipDisabled => "skip disabled",
        _ => ((int)action).ToString(CultureInfo.InvariantCulture),
    };
}
