using System.Text;
using System.Text.RegularExpressions;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Tables larger than one chunk are filled by several small methods, still sorted and compiling cleanly.</summary>
public sealed partial class LargeTableTests
{
    [Fact]
    public void ALargeTableIsSplitIntoChunksAndStaysSorted()
    {
        const int count = 250;
        var source = new StringBuilder(SnapshotTests.Usings + "namespace TestProject;\npublic static class Many\n{\n");
        foreach (var i in Enumerable.Range(1, count).Reverse())
        {
            source.Append(System.Globalization.CultureInfo.InvariantCulture, $"    [Migration(Order = {i}{(i % 7 == 0 ? ", Enabled = false" : string.Empty)})] public static Task M{i:D3}() => Task.CompletedTask;\n");
        }

        source.Append("}\n");

        var output = GeneratorHarness.Run(source.ToString());

        Assert.Equal(count, InvalidMethodTests.CountRegistrations(output.Source));
        Assert.Contains("__FillRegistrations2(registrations);", output.Source, StringComparison.Ordinal);
        Assert.DoesNotContain("__FillRegistrations3(", output.Source, StringComparison.Ordinal);
        var indexes = IndexPattern().Matches(output.Source).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var orders = OrderPattern().Matches(output.Source).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(0, count), indexes);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), orders);
    }

    [GeneratedRegex(@"registrations\[(\d+)\] = ")]
    private static partial Regex IndexPattern();

    [GeneratedRegex(@"MigrationRegistration\((\d+)L, ")]
    private static partial Regex OrderPattern();
}
