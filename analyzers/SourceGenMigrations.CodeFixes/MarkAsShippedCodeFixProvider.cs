using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using SourceGenMigrations.Analyzers;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.CodeFixes;

/// <summary>
/// "Mark as shipped" for SGM105: adds <c>order name</c> to the project's <c>Migrations.Shipped.txt</c> (for a SQL-file
/// migration <c>order path sha256:checksum</c>, so that its content is protected from then on), keeping it sorted by order.
/// Fix All marks every reported migration of the scope in one edit of each project's file.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MarkAsShippedCodeFixProvider)), Shared]
public sealed class MarkAsShippedCodeFixProvider : CodeFixProvider
{
    /// <summary>The equivalence key of the fix (and of its Fix All).</summary>
    public const string EquivalenceKey = "SourceGenMigrations.MarkAsShipped";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.NotShipped);

    /// <inheritdoc />
    /// <remarks>
    /// Not <see cref="WellKnownFixAllProviders.BatchFixer"/>: it merges changes of source documents only, while every fix
    /// here edits the same additional document.
    /// </remarks>
    public override FixAllProvider GetFixAllProvider() => MarkAllAsShippedFixAllProvider.Instance;

    /// <inheritdoc />
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            // The diagnostic is in a source document (a method) or in the SQL file (an additional document).
            var project = context.TextDocument.Project;
            if (TryGetMigration(diagnostic, out var migration, out var path)
                && FindShippedDocument(project, path) is not null)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Mark as shipped",
                        ct => AddToShippedFilesAsync(
                            project.Solution,
                            new[] { (project.Id, path, migration) },
                            ct),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        return Task.CompletedTask;
    }

    internal static bool TryGetMigration(Diagnostic diagnostic, out (long Order, string Name, string? Checksum) migration, out string? path)
    {
        migration = default;
        diagnostic.Properties.TryGetValue(DiagnosticPropertyNames.ShippedFilePath, out path);
        if (diagnostic.Id != DiagnosticIds.NotShipped
            || !diagnostic.Properties.TryGetValue(DiagnosticPropertyNames.Order, out var orderText)
            || !long.TryParse(orderText, NumberStyles.None, CultureInfo.InvariantCulture, out var order)
            || !diagnostic.Properties.TryGetValue(DiagnosticPropertyNames.FullName, out var name)
            || string.IsNullOrEmpty(name))
        {
            return false;
        }

        diagnostic.Properties.TryGetValue(DiagnosticPropertyNames.Checksum, out var checksum);
        migration = (order, name!, checksum);
        return true;
    }

    /// <summary>The file the analyzer read (by path), else the first one named like it, as the analyzer picks it.</summary>
    internal static TextDocument? FindShippedDocument(Project project, string? path)
    {
        TextDocument? byName = null;
        foreach (var document in project.AdditionalDocuments)
        {
            if (path is not null && string.Equals(document.FilePath, path, StringComparison.Ordinal))
            {
                return document;
            }

            if (byName is null && ShippedMigrationsFile.IsShippedFile(document.FilePath ?? document.Name))
            {
                byName = document;
            }
        }

        return byName;
    }

    /// <summary>
    /// Adds every migration to its project's shipped file, one text change per file, together with every other migration of
    /// the project that is not shipped either and has a lower order (SGM105 too): a database that runs a migration has run
    /// all those below it, so shipping one ships them. (Marking the highest first would otherwise turn the others into
    /// SGM103 errors.) Migrations below the highest shipped order (SGM103) are never swept in.
    /// </summary>
    internal static async Task<Solution> AddToShippedFilesAsync(
        Solution solution,
        IEnumerable<(ProjectId Project, string? Path, (long Order, string Name, string? Checksum) Migration)> migrations,
        CancellationToken cancellationToken)
    {
        foreach (var group in migrations.GroupBy(static m => (m.Project, m.Path)))
        {
            var project = solution.GetProject(group.Key.Project);
            if (project is null || FindShippedDocument(project, group.Key.Path) is not { } document)
            {
                continue;
            }

            var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var file = ShippedMigrationsFile.Parse(document.FilePath ?? document.Name, text);
            var requested = group.Select(static m => m.Migration).ToList();
            var highestRequested = requested.Max(static m => m.Order);
            var below = await FindNotShippedAsync(project, file, cancellationToken).ConfigureAwait(false);
            requested.AddRange(below.Where(m => m.Order < highestRequested));

            solution = solution.WithAdditionalDocumentText(document.Id, ShippedMigrationsFile.AddEntries(text, requested));
        }

        return solution;
    }

    /// <summary>The migrations the analyzer reports as SGM105 against <paramref name="file"/>, by the same rules.</summary>
    private static async Task<List<(long Order, string Name, string? Checksum)>> FindNotShippedAsync(Project project, ShippedMigrationsFile file, CancellationToken cancellationToken)
    {
        var result = new List<(long Order, string Name, string? Checksum)>();
        // The SQL files, read as the analyzer reads them (same options: project directory, each file's Link).
        foreach (var sql in SqlMigrationFiles.Read(project.AnalyzerOptions, cancellationToken))
        {
            if (sql.IsMigration && ShippedMigrationsAnalyzer.CheckSqlFile(file, sql, out _) == DiagnosticDescriptors.NotShipped)
            {
                result.Add((sql.Order, sql.Name, sql.Checksum));
            }
        }

        var compilation = await project.GetCompilationAsync(cancellationToken).ConfigureAwait(false);
        var attributeType = compilation?.GetTypeByMetadataName(KnownNames.MigrationAttributeMetadataName);
        if (compilation is null || attributeType is null)
        {
            return result;
        }

        foreach (var symbol in compilation.GetSymbolsWithName(static _ => true, SymbolFilter.Member, cancellationToken))
        {
            if (symbol is not IMethodSymbol { PartialDefinitionPart: null } method)
            {
                continue;
            }

            var attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
            if (attribute is null)
            {
                continue;
            }

            var values = MigrationMethodShape.ReadAttribute(attribute);
            var name = MigrationMethodShape.GetFullName(method);
            if (ShippedMigrationsAnalyzer.IsNotShipped(file, values, name)
                && (MigrationMethodShape.Classify(method, out _, out _) & (MigrationShapeProblems.UnsupportedSignature | MigrationShapeProblems.Unreachable)) == 0)
            {
                result.Add((values.Order, name, null));
            }
        }

        return result;
    }

    private sealed class MarkAllAsShippedFixAllProvider : FixAllProvider
    {
        public static readonly MarkAllAsShippedFixAllProvider Instance = new();

        public override async Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
        {
            if (fixAllContext.CodeActionEquivalenceKey != EquivalenceKey)
            {
                return null;
            }

            var diagnostics = new List<(ProjectId, Diagnostic)>();
            switch (fixAllContext.Scope)
            {
                case FixAllScope.Document when fixAllContext.Document is not null:
                    foreach (var diagnostic in await fixAllContext.GetDocumentDiagnosticsAsync(fixAllContext.Document).ConfigureAwait(false))
                    {
                        diagnostics.Add((fixAllContext.Project.Id, diagnostic));
                    }

                    break;
                case FixAllScope.Project:
                    foreach (var diagnostic in await fixAllContext.GetAllDiagnosticsAsync(fixAllContext.Project).ConfigureAwait(false))
                    {
                        diagnostics.Add((fixAllContext.Project.Id, diagnostic));
                    }

                    break;
                case FixAllScope.Solution:
                    foreach (var project in fixAllContext.Solution.Projects)
                    {
                        foreach (var diagnostic in await fixAllContext.GetAllDiagnosticsAsync(project).ConfigureAwait(false))
                        {
                            diagnostics.Add((project.Id, diagnostic));
                        }
                    }

                    break;
                default:
                    return null;
            }

            var migrations = new List<(ProjectId, string?, (long, string, string?))>();
            foreach (var (projectId, diagnostic) in diagnostics)
            {
                if (TryGetMigration(diagnostic, out var migration, out var path))
                {
                    migrations.Add((projectId, path, migration));
                }
            }

            return migrations.Count == 0
                ? null
                : CodeAction.Create(
                    "Mark all as shipped",
                    ct => AddToShippedFilesAsync(fixAllContext.Solution, migrations, ct),
                    EquivalenceKey);
        }
    }
}
