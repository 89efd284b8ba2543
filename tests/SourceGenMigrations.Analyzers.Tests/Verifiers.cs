using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using SourceGenMigrations.Analyzers;
using SourceGenMigrations.CodeFixes;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>
/// The references every test compilation gets: the net10.0 reference assemblies (Basic.Reference.Assemblies, so no
/// download at test time) and, unless a test says otherwise, the runtime library that defines <c>[Migration]</c>.
/// </summary>
internal static class TestReferences
{
    /// <summary>A target framework without any package: the references come from <see cref="Framework"/>.</summary>
    public static readonly ReferenceAssemblies None = new("net10.0");

    public static readonly ImmutableArray<MetadataReference> Framework =
        ImmutableArray.CreateRange<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);

    public static readonly ImmutableArray<MetadataReference> Runtime = ImmutableArray.Create<MetadataReference>(
        MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location));

    public static void Apply(SolutionState state, bool withRuntime)
    {
        state.AdditionalReferences.AddRange(Framework);
        if (withRuntime)
        {
            state.AdditionalReferences.AddRange(Runtime);
        }
    }

    public const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using SourceGenMigrations;

        """;
}

internal sealed class AnalyzerTest : CSharpAnalyzerTest<MigrationAnalyzer, DefaultVerifier>
{
    public AnalyzerTest(bool withRuntime = true)
    {
        ReferenceAssemblies = TestReferences.None;
        TestReferences.Apply(TestState, withRuntime);
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

internal sealed class CodeFixTest : CSharpCodeFixTest<MigrationAnalyzer, UseNextFreeOrderCodeFixProvider, DefaultVerifier>
{
    public CodeFixTest()
    {
        ReferenceAssemblies = TestReferences.None;
        TestReferences.Apply(TestState, withRuntime: true);
        TestReferences.Apply(FixedState, withRuntime: true);

        // Fix All gives other orders than fixes one at a time (FixAllTests checks it with BatchFixedCode). SGM001 and SGM003 are
        // compilation-end (non-local) diagnostics, since they need every order in the compilation; fixing them is
        // intended (the IDE offers the fix wherever it shows the diagnostic: full solution analysis or build errors).
        CodeFixTestBehaviors = CodeFixTestBehaviors.SkipFixAllCheck | CodeFixTestBehaviors.SkipLocalDiagnosticCheck;
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

/// <summary>Short forms for the common cases.</summary>
internal static class Verify
{
    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);

    /// <summary>Checks <paramref name="source"/> (usings prepended) against its markup and <paramref name="expected"/>.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = TestReferences.Usings + source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }
}
