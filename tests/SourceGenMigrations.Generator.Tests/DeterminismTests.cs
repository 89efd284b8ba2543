namespace SourceGenMigrations.Generator.Tests;

/// <summary>The output is the same byte for byte whatever the run and the order of declarations.</summary>
public sealed class DeterminismTests
{
    private static readonly string[] Methods =
    [
        "[Migration(Order = 5)] public static Task E() => Task.CompletedTask;",
        "[Migration(Order = 1)] public static ValueTask A(CancellationToken cancellationToken) => default;",
        "[Migration(Order = 3, Enabled = false)] public static void C(MigrationContext context) { }",
        "[Migration(Order = 2)] public static Task B(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;",
        "[Migration(Order = 4)] public static Task D() => Task.CompletedTask;",
        "[Migration(Order = 9223372036854775807)] public static Task Z() => Task.CompletedTask;",
    ];

    [Fact]
    public void TwoRunsGiveIdenticalOutput()
    {
        var sources = BuildSources(Methods, classesFirst: true);

        var first = GeneratorHarness.Run(sources).Source;
        var second = GeneratorHarness.Run(sources).Source;

        Assert.Equal(first, second);
    }

    [Fact]
    public void ShuffledDeclarationsGiveIdenticalOutput()
    {
        var expected = GeneratorHarness.Run(BuildSources(Methods, classesFirst: true)).Source;
        var random = new Random(1234);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var shuffled = Methods.OrderBy(_ => random.Next()).ToArray();
            var sources = BuildSources(shuffled, classesFirst: attempt % 2 == 0);
            if (attempt % 2 == 1)
            {
                Array.Reverse(sources);
            }

            Assert.Equal(expected, GeneratorHarness.Run(sources).Source);
        }
    }

    // Two classes (A and B) across two files; each method goes to the class its letter's parity picks, so a
    // shuffle changes declaration order and file order but not the set of methods.
    private static string[] BuildSources(string[] methods, bool classesFirst)
    {
        var first = methods.Where((_, i) => i % 2 == 0).ToArray();
        var second = methods.Where((_, i) => i % 2 == 1).ToArray();
        string File(string[] body) => SnapshotTests.Usings + "namespace TestProject;\npublic static partial class Migrations\n{\n" + string.Join("\n", body) + "\n}\n";
        return classesFirst ? [File(first), File(second)] : [File(second), File(first)];
    }
}
