using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using SourceGenMigrations.Generator;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Compiles test sources against the runtime library and runs <see cref="MigrationGenerator"/> over them.</summary>
internal static partial class GeneratorHarness
{
    public const string HintName = "GeneratedMigrations.g.cs";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location),
    ];

    public static CSharpCompilation CreateCompilation(IEnumerable<string> sources, string assemblyName = "TestProject") =>
        CSharpCompilation.Create(
            assemblyName,
            sources.Select((source, index) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"File{index}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, deterministic: true));

    public static CSharpCompilation CreateCompilationWithoutRuntime(params string[] sources) =>
        CSharpCompilation.Create(
            "NoRuntime",
            sources.Select((source, index) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"File{index}.cs")),
            Net100.References.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>
    /// MSBuild properties as the compiler sees them. By default RootNamespace is visible (as the packed props file
    /// makes it) and set to "TestProject", SourceGenMigrationsNamespace visible and empty.
    /// </summary>
    public static Dictionary<string, string> DefaultProperties() => new()
    {
        ["build_property.RootNamespace"] = "TestProject",
        ["build_property.SourceGenMigrationsNamespace"] = string.Empty,
        ["build_property.MSBuildProjectDirectory"] = "/project",
    };

    /// <param name="properties">The global options (MSBuild properties).</param>
    /// <param name="fileMetadata">Per AdditionalFile path, its item metadata as the compiler sees it (<c>build_metadata.AdditionalFiles.Link</c>).</param>
    public static GeneratorDriver CreateDriver(IReadOnlyDictionary<string, string>? properties = null, IReadOnlyDictionary<string, Dictionary<string, string>>? fileMetadata = null) =>
        CSharpGeneratorDriver.Create(
            [new MigrationGenerator().AsSourceGenerator()],
            additionalTexts: null,
            parseOptions: ParseOptions,
            optionsProvider: new TestOptionsProvider(properties ?? DefaultProperties(), fileMetadata),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator, asserts it reported nothing and that the whole output compiles with no diagnostic at all.</summary>
    public static GeneratorOutput Run(IEnumerable<string> sources, IReadOnlyDictionary<string, string>? properties = null, string assemblyName = "TestProject", bool sourcesUseGeneratedCode = false)
    {
        var compilation = CreateCompilation(sources, assemblyName);
        if (!sourcesUseGeneratedCode)
        {
            AssertNoDiagnostics(compilation.GetDiagnostics(), "the test sources themselves");
        }

        var driver = CreateDriver(properties).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);

        AssertNoDiagnostics(output.GetDiagnostics(), "the compilation with the generated source");
        PipelineAssert.ModelHoldsNoCompilerObjects(result);

        var generated = Assert.Single(result.GeneratedSources);
        Assert.Equal(HintName, generated.HintName);
        return new GeneratorOutput(generated.SourceText.ToString(), output, driver);
    }

    public static GeneratorOutput Run(params string[] sources) => Run((IEnumerable<string>)sources);

    public static void AssertNoDiagnostics(IEnumerable<Diagnostic> diagnostics, string what)
    {
        var shown = diagnostics.Where(d => d.Severity != DiagnosticSeverity.Hidden).ToList();
        Assert.True(shown.Count == 0, $"Diagnostics in {what}:\n" + string.Join("\n", shown.Select(d => d.ToString())));
    }

    /// <summary>The generated text with the generator's version inside [GeneratedCode] replaced, so snapshots survive a version bump.</summary>
    public static string Scrub(string generated) =>
        VersionPattern().Replace(generated, "$1\"SourceGenMigrations.Generator\", \"<version>\")");

    [GeneratedRegex("""(GeneratedCodeAttribute\()"SourceGenMigrations\.Generator", "[^"]*"\)""")]
    private static partial Regex VersionPattern();

    public sealed record GeneratorOutput(string Source, Compilation Compilation, GeneratorDriver Driver)
    {
        public string Scrubbed => Scrub(Source);
    }

    public static AnalyzerConfigOptionsProvider OptionsProvider(IReadOnlyDictionary<string, string> properties) => new TestOptionsProvider(properties, null);

    private sealed class TestOptionsProvider(IReadOnlyDictionary<string, string> globalOptions, IReadOnlyDictionary<string, Dictionary<string, string>>? fileMetadata) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new TestOptions(globalOptions);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => TestOptions.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            fileMetadata is not null && fileMetadata.TryGetValue(textFile.Path, out var metadata) ? new TestOptions(metadata) : TestOptions.Empty;
    }

    private sealed class TestOptions(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly TestOptions Empty = new(new Dictionary<string, string>());

        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
