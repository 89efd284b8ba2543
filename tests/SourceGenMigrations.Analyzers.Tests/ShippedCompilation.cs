using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>Runs <see cref="ShippedMigrationsAnalyzer"/> on a plain compilation, for what the testing library does not compare.</summary>
internal static class ShippedCompilation
{
    public const string Path = "/project/Migrations.Shipped.txt";

    public static CSharpCompilation Create(string source) => CSharpCompilation.Create(
        "Consumer",
        [CSharpSyntaxTree.ParseText(TestReferences.Usings + source, new CSharpParseOptions(LanguageVersion.Latest), path: "/project/Migrations.cs")],
        [.. TestReferences.Framework, .. TestReferences.Runtime],
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    public static ImmutableArray<Diagnostic> Analyze(string source, string shipped) =>
        Analyze(Create(source), new InMemoryAdditionalText(Path, shipped));

    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation, params AdditionalText[] additionalFiles)
    {
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var withAnalyzers = compilation.WithAnalyzers(
            [new ShippedMigrationsAnalyzer()],
            new AnalyzerOptions([.. additionalFiles]));
        return withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }
}

internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}
