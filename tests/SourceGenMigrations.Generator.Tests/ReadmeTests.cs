using System.Collections.Immutable;
using System.Reflection;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>
/// Every C# block of README.md that claims to be complete compiles as written.
/// </summary>
/// <remarks>
/// The convention (README.md says it too, before the quick start): a block fenced <c>```csharp</c> is a complete file of
/// a console app (<c>dotnet new console</c>: implicit usings on, root namespace <c>MyService</c>) that references
/// SourceGenMigrations and SourceGenMigrations.Sqlite; a fragment is fenced <c>```cs</c> and is not compiled. Each
/// complete block is compiled on its own, with the generator run over it (so <c>GeneratedMigrations</c> exists), against
/// the real assemblies; a block with top-level statements is a program, any other a library. A failure names the
/// block's line in README.md.
/// </remarks>
public sealed class ReadmeTests
{
    private const string CompleteFence = "```csharp";

    /// <summary>What <c>&lt;ImplicitUsings&gt;enable&lt;/ImplicitUsings&gt;</c> adds to a console app.</summary>
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    private static readonly string ReadmePath = typeof(ReadmeTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "ReadmePath").Value!;

    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(MigrationAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(SqliteMigrationManager).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location),
    ];

    /// <summary>The SDK's default NoWarn (CS1701, CS1702: a reference built against an older framework's assemblies).</summary>
    private static readonly ImmutableDictionary<string, ReportDiagnostic> SdkNoWarn = ImmutableDictionary<string, ReportDiagnostic>.Empty
        .Add("CS1701", ReportDiagnostic.Suppress)
        .Add("CS1702", ReportDiagnostic.Suppress);

    [Fact]
    public void Every_complete_csharp_block_of_the_README_compiles()
    {
        var blocks = CompleteBlocks(File.ReadAllLines(ReadmePath));

        // At least the quick start's Migrations.cs and Program.cs.
        Assert.True(blocks.Count >= 2, $"expected the quick start's complete blocks in {ReadmePath}, found {blocks.Count}");
        var failures = blocks
            .Select(block => (block.Line, Errors: Compile(block.Code)))
            .Where(result => result.Errors.Count > 0)
            .Select(result => $"README.md:{result.Line} (the {CompleteFence} block starting there) does not compile:\n  " + string.Join("\n  ", result.Errors))
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void A_block_that_does_not_compile_is_reported_at_its_line()
    {
        var blocks = CompleteBlocks(["text", CompleteFence, "await GeneratedMigrations.RunAsync(manager, new MigrationOptions { Logger = logger });", "```", "```cs", "fragment(", "```"]);

        var block = Assert.Single(blocks);
        Assert.Equal(2, block.Line);
        Assert.Contains(Compile(block.Code), error => error.Contains("CS0103", StringComparison.Ordinal)); // 'manager', 'logger' do not exist
    }

    /// <summary>The <c>```csharp</c> blocks, each with the 1-based line of its opening fence.</summary>
    private static List<(int Line, string Code)> CompleteBlocks(string[] lines)
    {
        var blocks = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != CompleteFence)
            {
                continue;
            }

            var start = i;
            var end = i + 1;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            blocks.Add((start + 1, string.Join("\n", lines.Skip(start + 1).Take(end - start - 1))));
            i = end;
        }

        return blocks;
    }

    /// <summary>The errors and warnings of the block compiled with the generator's output.</summary>
    private static List<string> Compile(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(code, GeneratorHarness.ParseOptions, path: "Block.cs");
        var isProgram = tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "MyService",
            [tree, CSharpSyntaxTree.ParseText(ImplicitUsings, GeneratorHarness.ParseOptions, path: "ImplicitUsings.cs")],
            References,
            new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(SdkNoWarn));

        var properties = GeneratorHarness.DefaultProperties();
        properties["build_property.RootNamespace"] = "MyService";
        GeneratorHarness.CreateDriver(properties).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString())
            .ToList();
    }
}
