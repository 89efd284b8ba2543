using BenchmarkDotNet.Attributes;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SourceGenMigrations.Generator;

namespace SourceGenMigrations.Benchmarks.Generator;

/// <summary>
/// What the generator adds to a whole compile, in process: a fresh compilation (new symbols, same parsed trees)
/// emitted without the generator, and with it (generator run, then the generated table compiled too). The
/// difference is the generator's whole cost to a build, including compiling the code it generates.
/// </summary>
[MemoryDiagnoser]
public class BuildShareBenchmarks
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private SyntaxTree[] _trees = null!;
    private MetadataReference[] _references = null!;

    [Params(10_000)]
    public int Migrations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _trees = SyntheticProject.Files(Migrations)
            .Select(file => CSharpSyntaxTree.ParseText(file.Text, ParseOptions, path: file.Name))
            .ToArray();
        _references = [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location)];
    }

    [Benchmark(Baseline = true)]
    public bool EmitWithoutGenerator() => Emit(CreateCompilation());

    [Benchmark]
    public bool EmitWithGenerator()
    {
        CSharpGeneratorDriver.Create([new MigrationGenerator().AsSourceGenerator()], parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(CreateCompilation(), out var output, out _);
        return Emit(output);
    }

    private CSharpCompilation CreateCompilation() => CSharpCompilation.Create(
        "Synthetic",
        _trees,
        _references,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));

    private static bool Emit(Compilation compilation)
    {
        var result = compilation.Emit(Stream.Null);
        return result.Success ? true : throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Take(5)));
    }
}
