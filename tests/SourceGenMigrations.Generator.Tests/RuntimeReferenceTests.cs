using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SourceGenMigrations.Generator;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>
/// The runtime library is found among the metadata references (which stay the same objects while the user types), as a
/// file or as a project reference, not by looking a type up on every new compilation.
/// </summary>
public sealed class RuntimeReferenceTests
{
    [Fact]
    public void TheRuntimeIsRecognisedAsAFileAndAsAProjectReference()
    {
        Assert.True(MigrationGenerator.IsRuntimeReference(MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location)));
        Assert.True(MigrationGenerator.IsRuntimeReference(CSharpCompilation.Create("SourceGenMigrations").ToMetadataReference()));
    }

    [Fact]
    public void OtherReferencesAreNotTheRuntime()
    {
        Assert.False(MigrationGenerator.IsRuntimeReference(MetadataReference.CreateFromFile(typeof(object).Assembly.Location)));
        Assert.False(MigrationGenerator.IsRuntimeReference(CSharpCompilation.Create("SourceGenMigrations.Sqlite").ToMetadataReference()));
        Assert.False(MigrationGenerator.IsRuntimeReference(CSharpCompilation.Create("MyApp").ToMetadataReference()));
    }

    [Fact]
    public void AnEditLeavesTheRuntimeCheckCached()
    {
        var compilation = GeneratorHarness.CreateCompilation([SnapshotTests.Usings + "namespace TestProject; public static class M { [Migration(Order = 1)] public static Task A() => Task.CompletedTask; }"]);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace TestProject; public static class Other { }", GeneratorHarness.ParseOptions)));
        var result = driver.GetRunResult().Results.Single();

        Assert.All(PipelineAssert.Reasons(result, TrackingNames.RuntimeReference), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(PipelineAssert.Reasons(result, TrackingNames.HasRuntime), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
    }
}
