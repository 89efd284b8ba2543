using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.Text;

namespace SourceGenMigrations.Analyzers;

/// <summary>
/// <c>Migrations.Shipped.txt</c>: the migrations that have been released, one a line as <c>order name</c>, where name is
/// the method's full name as <c>MigrationMethodShape.GetFullName</c> spells it (e.g. <c>MyApp.Migrations.CreateUsers</c>).
/// <c>#</c> starts a comment that runs to the end of the line; blank lines are ignored; disabled migrations stay listed.
/// A SQL-file migration's line is <c>order path sha256:checksum</c>: its name is its path relative to the project and the
/// checksum protects its content (SGM106).
/// </summary>
/// <remarks>
/// A malformed line (see <see cref="ShippedLineProblem"/>) is reported and otherwise ignored: the first line that lists an
/// order or a name wins, a later duplicate is left out. Parsed once per compilation by <see cref="ShippedMigrationsAnalyzer"/>
/// and again by the "Mark as shipped" fix, so both agree on where a line belongs.
/// </remarks>
internal sealed class ShippedMigrationsFile
{
    /// <summary>The file name the analyzers look for among the AdditionalFiles (compared ignoring case).</summary>
    public const string FileName = "Migrations.Shipped.txt";

    private ShippedMigrationsFile(
        string path,
        ImmutableArray<ShippedEntry> entries,
        ImmutableArray<ShippedLineProblem> problems)
    {
        Path = path;
        Entries = entries;
        Problems = problems;
        var byOrder = new Dictionary<long, ShippedEntry>();
        var byName = new Dictionary<string, ShippedEntry>(StringComparer.Ordinal);
        var max = -1L;
        foreach (var entry in entries)
        {
            byOrder.Add(entry.Order, entry);
            byName.Add(entry.Name, entry);
            max = Math.Max(max, entry.Order);
        }

        ByOrder = byOrder;
        ByName = byName;
        HighestOrder = max;
    }

    /// <summary>The path of the additional file, as the compiler was given it.</summary>
    public string Path { get; }

    /// <summary>The well-formed lines, in file order; no two share an order or a name.</summary>
    public ImmutableArray<ShippedEntry> Entries { get; }

    /// <summary>The malformed lines (SGM104), in file order.</summary>
    public ImmutableArray<ShippedLineProblem> Problems { get; }

    public IReadOnlyDictionary<long, ShippedEntry> ByOrder { get; }

    public IReadOnlyDictionary<string, ShippedEntry> ByName { get; }

    /// <summary>The highest shipped order, -1 when nothing is shipped.</summary>
    public long HighestOrder { get; }

    /// <summary>Whether <paramref name="path"/> names a shipped migrations file (in any folder, ignoring case).</summary>
    public static bool IsShippedFile(string? path) =>
        path is not null && string.Equals(System.IO.Path.GetFileName(path), FileName, StringComparison.OrdinalIgnoreCase);

    /// <summary>What comes before a checksum on a line.</summary>
    public const string ChecksumPrefix = "sha256:";

    /// <summary>The text of a line for an entry, as the fix writes it: <c>order name</c>, or <c>order name sha256:checksum</c>.</summary>
    public static string FormatLine(long order, string name, string? checksum = null) =>
        order.ToString(CultureInfo.InvariantCulture) + " " + name + (checksum is null ? string.Empty : " " + ChecksumPrefix + checksum);

    /// <summary>
    /// <paramref name="text"/> with a line <c>order name</c> for each of <paramref name="migrations"/> that the file does not
    /// list yet (by order or by name), each inserted before the first listed migration with a higher order, else at the end:
    /// a file sorted by order stays sorted. Line breaks follow the file's first one (<c>\n</c> in a file without any).
    /// </summary>
    public static SourceText AddEntries(SourceText text, IEnumerable<(long Order, string Name, string? Checksum)> migrations)
    {
        var file = Parse(string.Empty, text);
        var newLine = "\n";
        if (text.Lines.Count > 1)
        {
            var first = text.Lines[0];
            newLine = text.ToString(TextSpan.FromBounds(first.End, first.EndIncludingLineBreak));
        }

        var orders = new HashSet<long>(file.ByOrder.Keys);
        var names = new HashSet<string>(file.ByName.Keys, StringComparer.Ordinal);
        var toAdd = new List<(long Order, string Name, string? Checksum)>();
        foreach (var migration in migrations)
        {
            // A second migration with an order or a name already listed would only make a malformed line (SGM104).
            if (orders.Add(migration.Order) && names.Add(migration.Name))
            {
                toAdd.Add(migration);
            }
        }

        toAdd.Sort(static (a, b) => a.Order.CompareTo(b.Order));
        var atEnd = text.Length > 0 && text[text.Length - 1] is not '\n' and not '\r' ? newLine : string.Empty;
        var inserts = new SortedDictionary<int, System.Text.StringBuilder>();
        foreach (var migration in toAdd)
        {
            var position = text.Length;
            foreach (var entry in file.Entries)
            {
                if (entry.Order > migration.Order)
                {
                    position = entry.LineStart;
                    break;
                }
            }

            if (!inserts.TryGetValue(position, out var builder))
            {
                builder = new System.Text.StringBuilder(position == text.Length ? atEnd : string.Empty);
                inserts.Add(position, builder);
            }

            builder.Append(FormatLine(migration.Order, migration.Name, migration.Checksum)).Append(newLine);
        }

        return inserts.Count == 0
            ? text
            : text.WithChanges(inserts.Select(static i => new TextChange(new TextSpan(i.Key, 0), i.Value.ToString())));
    }

    public static ShippedMigrationsFile Parse(string path, SourceText text)
    {
        var entries = ImmutableArray.CreateBuilder<ShippedEntry>();
        var problems = ImmutableArray.CreateBuilder<ShippedLineProblem>();
        var byOrder = new Dictionary<long, ShippedEntry>();
        var byName = new Dictionary<string, ShippedEntry>(StringComparer.Ordinal);

        foreach (var line in text.Lines)
        {
            var content = line.ToString();
            var comment = content.IndexOf('#');
            if (comment >= 0)
            {
                content = content.Substring(0, comment);
            }

            var start = 0;
            while (start < content.Length && char.IsWhiteSpace(content[start]))
            {
                start++;
            }

            var end = content.Length;
            while (end > start && char.IsWhiteSpace(content[end - 1]))
            {
                end--;
            }

            if (start == end)
            {
                continue;
            }

            // The span of the line's content (without the comment and surrounding blanks): where SGM101/SGM104 point.
            var span = TextSpan.FromBounds(line.Start + start, line.Start + end);
            var lineNumber = line.LineNumber + 1;
            var parts = content.Substring(start, end - start).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

            string? reason = null;
            long order = 0;
            if (parts[0].StartsWith("-", StringComparison.Ordinal)
                && long.TryParse(parts[0].Substring(1), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                reason = "the order '" + parts[0] + "' is negative; orders are zero or more";
            }
            else if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out order))
            {
                reason = "the order '" + parts[0] + "' is not a whole number from 0 to " + long.MaxValue.ToString(CultureInfo.InvariantCulture) + "; write 'order name'";
            }
            else if (parts.Length == 1)
            {
                reason = "the migration's name is missing after the order; write 'order name'";
            }
            else if (parts.Length > 2 && !(parts.Length == 3 && IsChecksum(parts[2])))
            {
                reason = "unexpected text '" + string.Join(" ", parts, 2, parts.Length - 2) + "' after the name; write 'order name', or 'order path " + ChecksumPrefix + "<64 hex digits>' for a SQL file (comments start with '#')";
            }
            else if (byOrder.TryGetValue(order, out var sameOrder))
            {
                reason = "order " + order.ToString(CultureInfo.InvariantCulture) + " is already listed on line " + sameOrder.LineNumber.ToString(CultureInfo.InvariantCulture);
            }
            else if (byName.TryGetValue(parts[1], out var sameName))
            {
                reason = "'" + parts[1] + "' is already listed on line " + sameName.LineNumber.ToString(CultureInfo.InvariantCulture);
            }

            if (reason is not null)
            {
                problems.Add(new ShippedLineProblem(lineNumber, reason, span, text.Lines.GetLinePositionSpan(span)));
                continue;
            }

            var entry = new ShippedEntry(order, parts[1], lineNumber, line.Start, span, text.Lines.GetLinePositionSpan(span))
            {
                Checksum = parts.Length == 3 ? parts[2].Substring(ChecksumPrefix.Length).ToLowerInvariant() : null,
            };
            byOrder.Add(order, entry);
            byName.Add(entry.Name, entry);
            entries.Add(entry);
        }

        return new ShippedMigrationsFile(path, entries.ToImmutable(), problems.ToImmutable());
    }

    private static bool IsChecksum(string text)
    {
        if (!text.StartsWith(ChecksumPrefix, StringComparison.OrdinalIgnoreCase) || text.Length != ChecksumPrefix.Length + 64)
        {
            return false;
        }

        for (var i = ChecksumPrefix.Length; i < text.Length; i++)
        {
            if (!Uri.IsHexDigit(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A well-formed line of the shipped file.</summary>
internal sealed class ShippedEntry
{
    public ShippedEntry(long order, string name, int lineNumber, int lineStart, TextSpan span, LinePositionSpan lineSpan)
    {
        Order = order;
        Name = name;
        LineNumber = lineNumber;
        LineStart = lineStart;
        Span = span;
        LineSpan = lineSpan;
    }

    public long Order { get; }

    public string Name { get; }

    /// <summary>1-based, as editors and the diagnostic messages count.</summary>
    public int LineNumber { get; }

    /// <summary>Where the line starts in the text (the fix inserts new lines there).</summary>
    public int LineStart { get; }

    public TextSpan Span { get; }

    public LinePositionSpan LineSpan { get; }

    /// <summary>A SQL-file migration's checksum (lower-case hex, without <c>sha256:</c>), or null for a method.</summary>
    public string? Checksum { get; init; }
}

/// <summary>A malformed line: its 1-based number and why (SGM104).</summary>
internal sealed class ShippedLineProblem
{
    public ShippedLineProblem(int lineNumber, string reason, TextSpan span, LinePositionSpan lineSpan)
    {
        LineNumber = lineNumber;
        Reason = reason;
        Span = span;
        LineSpan = lineSpan;
    }

    public int LineNumber { get; }

    public string Reason { get; }

    public TextSpan Span { get; }

    public LinePositionSpan LineSpan { get; }
}
