namespace SourceGenMigrations.Generator.Tests;

/// <summary>The namespace of GeneratedMigrations: SourceGenMigrationsNamespace, else RootNamespace, else the assembly name.</summary>
public sealed class NamespaceTests
{
    private const string Source = SnapshotTests.Usings + """
        namespace Somewhere.Else;

        public static class Migrations
        {
            [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
        }
        """;

    public static TheoryData<string?, string?, string, string?> Cases => new()
    {
        // SourceGenMigrationsNamespace, RootNamespace, assembly name, expected namespace (null: the global namespace)
        { "Custom.Namespace", "My.Root", "Assembly", "Custom.Namespace" },
        { "  Custom  ", "My.Root", "Assembly", "Custom" },
        { string.Empty, "My.Root", "Assembly", "My.Root" },
        { null, "My.Root", "Assembly", "My.Root" },
        { string.Empty, string.Empty, "Assembly", null },
        { null, string.Empty, "Assembly", null },
        { null, null, "My-App.Tests", "My_App.Tests" },
        { string.Empty, null, "Assembly", "Assembly" },
        { "class.1abc..x y", null, "Assembly", "@class._1abc.x_y" },
        { "@event", null, "Assembly", "@event" },
        { "Ünïcødé.Namespace", null, "Assembly", "Ünïcødé.Namespace" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChoosesTheNamespace(string? overrideNamespace, string? rootNamespace, string assemblyName, string? expected)
    {
        var properties = new Dictionary<string, string>();
        if (overrideNamespace is not null)
        {
            properties["build_property.SourceGenMigrationsNamespace"] = overrideNamespace;
        }

        if (rootNamespace is not null)
        {
            properties["build_property.RootNamespace"] = rootNamespace;
        }

        // Run compiles the output with zero diagnostics, so a namespace that is not valid C# would fail here.
        var output = GeneratorHarness.Run([Source], properties, assemblyName);

        var expectedClass = expected is null ? "GeneratedMigrations" : expected.Replace("@", string.Empty, StringComparison.Ordinal) + ".GeneratedMigrations";
        Assert.NotNull(output.Compilation.GetTypeByMetadataName(expectedClass));
        if (expected is null)
        {
            Assert.DoesNotContain("namespace ", output.Source, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("namespace " + expected + "\n", output.Source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UsersCanExtendThePartialClass()
    {
        GeneratorHarness.Run([Source, SnapshotTests.Usings + """
            namespace TestProject;

            public static partial class GeneratedMigrations
            {
                public static int Count => Registrations.Count;
            }
            """], sourcesUseGeneratedCode: true);
    }
}
