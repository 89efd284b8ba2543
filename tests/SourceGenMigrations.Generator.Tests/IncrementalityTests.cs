using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Edits that do not touch a migration leave every step cached; edits that do change the output.</summary>
public sealed class IncrementalityTests
{
    private const string MigrationsFile = SnapshotTests.Usings + """
        namespace TestProject;

        public static class Migrations
        {
            [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task Second(CancellationToken cancellationToken) => Task.CompletedTask;
            [Migration(Order = 3)] public static void Third(MigrationContext context) { }

            public static int Helper() => 1;
        }
        """;

    private const string UnrelatedFile = """
        namespace TestProject;

        public static class Unrelated
        {
            public static int Value() => 1;
        }
        """;

    [Fact]
    public void EditingAnUnrelatedFileLeavesEveryStepCached()
    {
        var (result, _) = RunTwice(static compilation => Replace(compilation, UnrelatedFile, UnrelatedFile.Replace("=> 1", "=> 2", StringComparison.Ordinal)));

        // The transform runs again against the new compilation (ForAttributeWithMetadataName combines with it), so the
        // models are Unchanged rather than Cached; everything after them is Cached.
        PipelineAssert.AllCachedOrUnchanged(result);
        Assert.All(PipelineAssert.OutputReasons(result), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
    }

    [Fact]
    public void AddingAnUnrelatedFileLeavesEveryStepCached()
    {
        var (result, _) = RunTwice(static compilation => compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace TestProject; public static class Added { }", GeneratorHarness.ParseOptions, path: "Added.cs")));

        PipelineAssert.AllCachedOrUnchanged(result);
    }

    [Fact]
    public void EditingAnUnrelatedMethodBodyInTheMigrationsFileLeavesEveryStepUnchanged()
    {
        var (result, _) = RunTwice(static compilation => Replace(compilation, MigrationsFile, MigrationsFile.Replace("Helper() => 1", "Helper() => 2", StringComparison.Ordinal)));

        PipelineAssert.AllCachedOrUnchanged(result);
    }

    [Fact]
    public void EditingAMigrationBodyLeavesEveryStepUnchanged()
    {
        var (result, _) = RunTwice(static compilation => Replace(compilation, MigrationsFile, MigrationsFile.Replace("Third(MigrationContext context) { }", "Third(MigrationContext context) { _ = context.Order; }", StringComparison.Ordinal)));

        PipelineAssert.AllCachedOrUnchanged(result);
    }

    [Fact]
    public void ChangingAnOrderModifiesTheTableAndTheOutput()
    {
        var (result, source) = RunTwice(static compilation => Replace(compilation, MigrationsFile, MigrationsFile.Replace("Order = 3", "Order = 30", StringComparison.Ordinal)));

        AssertModelTableAndOutputModified(result);
        Assert.Equal([1L, 2L, 10L, 30L], GeneratedTable.Read(source).Select(entry => entry.Order));
    }

    [Fact]
    public void EnablingAMigrationModifiesTheOutput()
    {
        // Before the edit the table holds Second as disabled (flag 1), so "all enabled" after it is the edit's doing.
        var before = GeneratedTable.Read(GeneratorHarness.Run(MigrationsFile, UnrelatedFile).Source);
        Assert.Equal([true, false, true], before.Select(entry => entry.Enabled));

        var (result, source) = RunTwice(static compilation => Replace(compilation, MigrationsFile, MigrationsFile.Replace("Enabled = false", "Enabled = true", StringComparison.Ordinal)));

        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.OutputReasons(result));
        // The three methods and RunTwice's SQL file (order 10).
        Assert.Equal([true, true, true, true], GeneratedTable.Read(source).Select(entry => entry.Enabled));
    }

    [Fact]
    public void TogglingTransactionalModifiesTheModelTheTableAndTheOutput()
    {
        var (result, source) = RunTwice(static compilation => Replace(compilation, MigrationsFile, MigrationsFile.Replace("[Migration(Order = 3)]", "[Migration(Order = 3, Transactional = false)]", StringComparison.Ordinal)));

        AssertModelTableAndOutputModified(result);
        Assert.Equal([true, true, false, true], GeneratedTable.Read(source).Select(entry => entry.Transactional));
    }

    [Fact]
    public void AddingAMigrationModifiesTheOutput()
    {
        var (result, source) = RunTwice(static compilation => compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            SnapshotTests.Usings + "namespace TestProject; public static class More { [Migration(Order = 4)] public static Task Fourth() => Task.CompletedTask; }",
            GeneratorHarness.ParseOptions,
            path: "More.cs")));

        Assert.Contains(IncrementalStepRunReason.New, PipelineAssert.Reasons(result, TrackingNames.Migrations));
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.OutputReasons(result));
        Assert.Equal("TestProject.More.Fourth", GeneratedTable.Read(source).Single(entry => entry.Order == 4).Name);
    }

    [Fact]
    public void ChangingTheNamespacePropertyModifiesOnlyTheNamespaceSteps()
    {
        var compilation = GeneratorHarness.CreateCompilation([MigrationsFile, UnrelatedFile]);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var properties = GeneratorHarness.DefaultProperties();
        properties["build_property.SourceGenMigrationsNamespace"] = "Other.Place";

        driver = driver.WithUpdatedAnalyzerConfigOptions(GeneratorHarness.OptionsProvider(properties)).RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        Assert.All(PipelineAssert.Reasons(result, TrackingNames.Migrations), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(PipelineAssert.Reasons(result, TrackingNames.MigrationTable), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.Reasons(result, TrackingNames.GeneratedNamespace));
        Assert.Contains("namespace Other.Place\n", result.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EditingTheShippedMigrationsFileLeavesEveryStepCached()
    {
        // Migrations.Shipped.txt is read by the analyzers only (SGM101-SGM105): editing it must not re-run the table.
        var compilation = GeneratorHarness.CreateCompilation([MigrationsFile, UnrelatedFile]);
        var shipped = new InMemoryAdditionalText("/project/Migrations.Shipped.txt", "1 TestProject.Migrations.First\n");
        var driver = GeneratorHarness.CreateDriver()
            .AddAdditionalTexts([shipped])
            .RunGenerators(compilation);
        var firstSource = driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();

        driver = driver
            .ReplaceAdditionalText(shipped, new InMemoryAdditionalText(shipped.Path, "1 TestProject.Migrations.First\n2 TestProject.Migrations.Second\n"))
            .RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        Assert.All(PipelineAssert.Reasons(result, TrackingNames.Migrations), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(PipelineAssert.Reasons(result, TrackingNames.MigrationTable), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(PipelineAssert.OutputReasons(result), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.Equal(firstSource, result.GeneratedSources.Single().SourceText.ToString());
    }

    internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(CancellationToken cancellationToken = default) =>
            Microsoft.CodeAnalysis.Text.SourceText.From(text);
    }

    private static void AssertModelTableAndOutputModified(GeneratorRunResult result)
    {
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.Reasons(result, TrackingNames.Migrations));
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.Reasons(result, TrackingNames.MigrationTable));
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.OutputReasons(result));
    }

    private static (GeneratorRunResult Result, string Source) RunTwice(Func<Compilation, Compilation> edit)
    {
        var compilation = GeneratorHarness.CreateCompilation([MigrationsFile, UnrelatedFile]);

        // With a SQL-file migration too: an edit of C# code leaves the SQL part (its steps and its source) cached.
        var driver = GeneratorHarness.CreateDriver()
            .AddAdditionalTexts([new InMemoryAdditionalText("/project/Migrations/0010_sql.sql", "CREATE TABLE t (x int);\n")])
            .RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        PipelineAssert.ModelHoldsNoCompilerObjects(first);

        var edited = edit(compilation);
        GeneratorHarness.AssertNoDiagnostics(edited.GetDiagnostics(), "the edited sources");
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out var output, out _);
        GeneratorHarness.AssertNoDiagnostics(output.GetDiagnostics(), "the edited compilation with the generated source");
        var second = driver.GetRunResult().Results.Single();
        PipelineAssert.ModelHoldsNoCompilerObjects(second);
        return (second, second.GeneratedSources.Single(source => source.HintName == GeneratorHarness.HintName).SourceText.ToString());
    }

    private static Compilation Replace(Compilation compilation, string oldSource, string newSource)
    {
        var oldTree = compilation.SyntaxTrees.Single(tree => tree.ToString() == oldSource);
        return compilation.ReplaceSyntaxTree(oldTree, CSharpSyntaxTree.ParseText(newSource, GeneratorHarness.ParseOptions, path: oldTree.FilePath));
    }
}
