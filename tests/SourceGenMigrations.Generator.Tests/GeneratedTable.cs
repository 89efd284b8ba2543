using System.Globalization;
using System.Text.RegularExpressions;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>
/// Reads the registration table back out of a generated source (orders, flags, names and each index's call), so that
/// tests can assert what the table holds rather than how its text looks (the snapshots show that).
/// </summary>
internal static partial class GeneratedTable
{
    public sealed record Entry(int Index, long Order, bool Enabled, bool Transactional, bool BreaksOlderBuilds, string Name, string Call);

    public static IReadOnlyList<Entry> Read(string source)
    {
        if (source.Contains("global::System.Array.Empty<global::SourceGenMigrations.MigrationRegistration>()", StringComparison.Ordinal))
        {
            Assert.DoesNotContain("CreateTable(", source, StringComparison.Ordinal);
            return [];
        }

        var orders = OrderPattern().Matches(Single(OrdersPattern(), source, "orders")).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        var flagsBlock = FlagsPattern().Match(source);
        Assert.True(flagsBlock.Success, "no flags in the generated source");
        var flags = flagsBlock.Groups["body"].Success
            ? NumberPattern().Matches(flagsBlock.Groups["body"].Value).Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).ToList()
            : [.. orders.Select(_ => 0)];
        var names = Single(NamesPattern(), source, "names").Split('\n');
        var calls = CallPattern().Matches(source).ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => m.Groups[2].Value);

        Assert.Equal(orders.Count, flags.Count);
        Assert.Equal(orders.Count, names.Length);
        Assert.Equal(Enumerable.Range(0, orders.Count), calls.Keys.Order());
        return [.. orders.Select((order, i) => new Entry(i, order, (flags[i] & 1) == 0, (flags[i] & 2) == 0, (flags[i] & 4) != 0, names[i], calls[i]))];
    }

    private static string Single(Regex pattern, string source, string what)
    {
        var matches = pattern.Matches(source);
        Assert.True(matches.Count == 1, $"expected one block of {what} in the generated source, found {matches.Count}");
        return matches[0].Groups["body"].Value;
    }

    [GeneratedRegex(@"new long\[\]\s*\{(?<body>[^}]*)\}")]
    private static partial Regex OrdersPattern();

    [GeneratedRegex(@"^\s*(-?\d+)L,$", RegexOptions.Multiline)]
    private static partial Regex OrderPattern();

    [GeneratedRegex(@"// The flags[^\n]*\n\s*(?:null|new byte\[\]\s*\{(?<body>[^}]*)\})")]
    private static partial Regex FlagsPattern();

    [GeneratedRegex(@"\d+")]
    private static partial Regex NumberPattern();

    [GeneratedRegex("@\"(?<body>[^\"]*)\"")]
    private static partial Regex NamesPattern();

    // A migration's case (a chunk's case calls __MigrateN, not a global:: method; a SQL file's calls its __Sql_ class).
    [GeneratedRegex(@"^\s*case (\d+): (?:return )?((?:global::|__Sql_)[^;]*);", RegexOptions.Multiline)]
    private static partial Regex CallPattern();
}
