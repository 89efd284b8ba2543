using System.Text;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Tables larger than one chunk dispatch through several small methods, still sorted and compiling cleanly.</summary>
public sealed class LargeTableTests
{
    [Fact]
    public void ALargeTableDispatchesInChunksAndStaysSorted()
    {
        const int count = 250;
        var source = new StringBuilder(SnapshotTests.Usings + "namespace TestProject;\npublic static class Many\n{\n");
        foreach (var i in Enumerable.Range(1, count).Reverse())
        {
            source.Append(System.Globalization.CultureInfo.InvariantCulture, $"    [Migration(Order = {i}{(i % 7 == 0 ? ", Enabled = false" : string.Empty)})] public static Task M{i:D3}() => Task.CompletedTask;\n");
        }

        source.Append("}\n");

        var output = GeneratorHarness.Run(source.ToString());

        // One dispatcher that picks the chunk, and three chunks of at most 100 cases.
        Assert.Contains("switch (index / 100)", output.Source, StringComparison.Ordinal);
        Assert.Contains("case 2: return __Migrate2(index, context, cancellationToken);", output.Source, StringComparison.Ordinal);
        Assert.Contains("private static global::System.Threading.Tasks.Task __Migrate2(int index,", output.Source, StringComparison.Ordinal);
        Assert.DoesNotContain("__Migrate3(", output.Source, StringComparison.Ordinal);

        var table = GeneratedTable.Read(output.Source);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), table.Select(entry => entry.Order));
        Assert.All(table, entry => Assert.Equal(entry.Order % 7 != 0, entry.Enabled));
        Assert.All(table, entry => Assert.Equal($"global::TestProject.Many.M{entry.Order:D3}()", entry.Call));
        Assert.All(table, entry => Assert.Equal($"TestProject.Many.M{entry.Order:D3}", entry.Name));
    }
}
