using BenchmarkDotNet.Attributes;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SourceGenMigrations.Generator;

namespace SourceGenMigrations.Benchmarks.Generator;

/// <summary>
/// The generator in process over synthetic projects. <see cref="FullRun"/>: a fresh driver on a fresh compilation
/// (what a command-line build does; binding the attributes is included, parsing is not).
/// <see cref="UnrelatedEdit"/> and <see cref="OrderChange"/>: one more run of a warm driver after an edit (what the IDE does on a keystroke).
/// <see cref="EmptyGeneratorFullRun"/> and <see cref="EmptyGeneratorUnrelatedEdit"/>: the same for a generator that only
/// finds the methods with <c>ForAttributeWithMetadataName</c> and does nothing with them, the floor any generator keyed
/// on the attribute pays (DESIGN.md: an unrelated edit costs ours at most twice that).
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _unrelatedEdit = null!;
    private CSharpCompilation _orderChange = null!;
    private GeneratorDriver _warmDriver = null!;
    private GeneratorDriver _warmEmptyDriver = null!;

    [Params(1_000, 10_000)]
    public int Migrations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var trees = SyntheticProject.Files(Migrations)
            .Select(file => CSharpSyntaxTree.ParseText(file.Text, ParseOptions, path: file.Name))
            .ToArray();
        _compilation = CSharpCompilation.Create(
            "Synthetic",
            trees,
            [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var unrelated = trees.Single(tree => tree.FilePath == "Unrelated.cs");
        _unrelatedEdit = _compilation.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(unrelated.ToString().Replace("=> 1", "=> 2", StringComparison.Ordinal), ParseOptions, path: unrelated.FilePath));
        var first = trees[0];
        _orderChange = _compilation.ReplaceSyntaxTree(first, CSharpSyntaxTree.ParseText(first.ToString().Replace("Order = 2)", "Order = 2000000)", StringComparison.Ordinal), ParseOptions, path: first.FilePath));

        _warmDriver = CreateDriver().RunGenerators(_compilation);
        _warmEmptyDriver = CreateEmptyDriver().RunGenerators(_compilation);
        var generated = _warmDriver.GetRunResult().GeneratedTrees.Single().ToString();
        var registrations = System.Text.RegularExpressions.Regex.Count(generated, @"^\s+\d+L,$", System.Text.RegularExpressions.RegexOptions.Multiline);
        if (registrations != Migrations)
        {
            throw new InvalidOperationException($"Expected {Migrations} registrations, generated {registrations}.");
        }
    }

    [Benchmark]
    public GeneratorDriver FullRun() => CreateDriver().RunGenerators((CSharpCompilation)_compilation.Clone());

    [Benchmark]
    public GeneratorDriver UnrelatedEdit() => _warmDriver.RunGenerators(_unrelatedEdit);

    [Benchmark]
    public GeneratorDriver OrderChange() => _warmDriver.RunGenerators(_orderChange);

    [Benchmark]
    public GeneratorDriver EmptyGeneratorFullRun() => CreateEmptyDriver().RunGenerators((CSharpCompilation)_compilation.Clone());

    [Benchmark]
    public GeneratorDriver EmptyGeneratorUnrelatedEdit() => _warmEmptyDriver.RunGenerators(_unrelatedEdit);

    private static CSharpGeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create([new MigrationGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    private static CSharpGeneratorDriver CreateEmptyDriver() =>
        CSharpGeneratorDriver.Create([new EmptyAttributeGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    /// <summary>Finds the [Migration] methods as ours does, keeps nothing of them and writes nothing.</summary>
    private sealed class EmptyAttributeGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var methods = context.SyntaxProvider.ForAttributeWithMetadataName(
                "SourceGenMigrations.MigrationAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                static (_, _) => 0);
            context.RegisterSourceOutput(methods.Collect(), static (_, _) => { });
        }
    }
}
