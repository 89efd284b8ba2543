using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenMigrations.Analyzers;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.CodeFixes;

/// <summary>
/// Fix All for "use the next free order": SGM001 (duplicates) or SGM003 (no order), whichever the fix chosen was, in a
/// document, a project or the solution (<c>dotnet format analyzers --diagnostics SGM001 SGM003</c>).
/// </summary>
/// <remarks>
/// Every diagnostic carries the same next free order, computed once by the analyzer, so a batch of single fixes would give
/// every method that one order. This provider reads the orders of the current compilation instead (the way the analyzer
/// does, <see cref="MigrationAnalyzer.ReadOrder"/>) and hands out consecutive orders from the highest + 1, in source
/// order. The diagnostics only say which fix was chosen; the methods to change are found afresh, so a second pass (SGM003
/// after SGM001, as <c>dotnet format</c> runs them) continues after the orders the first one gave. Of each group of
/// duplicates one member keeps its order: the one listed in <c>Migrations.Shipped.txt</c> under that order (it is in
/// databases already), else the first by full name (the one the generated table lists first).
/// </remarks>
internal sealed class UseNextFreeOrderFixAllProvider : FixAllProvider
{
    public static UseNextFreeOrderFixAllProvider Instance { get; } = new();

    private UseNextFreeOrderFixAllProvider()
    {
    }

    public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() =>
        new[] { FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution };

    public override Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
    {
        var key = fixAllContext.CodeActionEquivalenceKey;
        CodeAction? action = key switch
        {
            UseNextFreeOrderCodeFixProvider.ReplaceOrderEquivalenceKey => CodeAction.Create(
                "Use the next free order for every duplicate", ct => FixAsync(fixAllContext, duplicates: true, ct), key),
            UseNextFreeOrderCodeFixProvider.AddOrderEquivalenceKey => CodeAction.Create(
                "Use the next free order for every migration without one", ct => FixAsync(fixAllContext, duplicates: false, ct), key),
            _ => null,
        };
        return Task.FromResult(action);
    }

    private static async Task<Solution> FixAsync(FixAllContext context, bool duplicates, CancellationToken cancellationToken)
    {
        var solution = context.Solution;
        var projectIds = context.Scope == FixAllScope.Solution
            ? solution.ProjectIds.ToList()
            : new List<ProjectId> { context.Project.Id };
        var onlyDocument = context.Scope == FixAllScope.Document ? context.Document?.Id : null;

        foreach (var projectId in projectIds)
        {
            if (solution.GetProject(projectId) is { Language: LanguageNames.CSharp } project)
            {
                solution = await FixProjectAsync(project, duplicates, onlyDocument, cancellationToken).ConfigureAwait(false);
            }
        }

        return solution;
    }

    private static async Task<Solution> FixProjectAsync(Project project, bool duplicates, DocumentId? onlyDocument, CancellationToken cancellationToken)
    {
        var compilation = await project.GetCompilationAsync(cancellationToken).ConfigureAwait(false);
        var attributeType = compilation?.GetTypeByMetadataName(KnownNames.MigrationAttributeMetadataName);
        if (compilation is null || attributeType is null)
        {
            return project.Solution;
        }

        var migrations = await FindMigrationsAsync(project, compilation, attributeType, cancellationToken).ConfigureAwait(false);
        var targets = duplicates
            ? DuplicatesToRenumber(migrations, await ReadShippedAsync(project, cancellationToken).ConfigureAwait(false))
            : migrations.Where(static m => m.Read.Values.OrderState == OrderState.Missing).ToList();
        if (onlyDocument is not null)
        {
            targets = targets.Where(t => t.DocumentId == onlyDocument).ToList();
        }

        // SQL-file migrations share the order space (their orders are their file names): the new orders go above them too.
        var next = migrations.Where(static m => m.Read.Values.OrderState == OrderState.Present && m.Read.Values.Order >= 0).Select(static m => m.Read.Values.Order)
            .Concat(SqlMigrationFiles.Read(project.AnalyzerOptions, cancellationToken).Where(static f => f.IsMigration).Select(static f => f.Order))
            .DefaultIfEmpty(-1).Max();
        var newOrders = new Dictionary<SyntaxNode, long>();
        foreach (var target in targets)
        {
            if (next == long.MaxValue)
            {
                // No order is left above the highest: the single fix is not offered either.
                break;
            }

            newOrders[target.Node] = ++next;
        }

        var solution = project.Solution;
        foreach (var byDocument in targets.Where(t => newOrders.ContainsKey(t.Node)).GroupBy(static t => t.DocumentId))
        {
            var document = solution.GetDocument(byDocument.Key)!;
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                continue;
            }

            var newRoot = root.ReplaceNodes(
                byDocument.Select(static t => t.Node),
                (original, rewritten) => rewritten switch
                {
                    AttributeArgumentSyntax argument => UseNextFreeOrderCodeFixProvider.WithOrder(argument, newOrders[original]),
                    AttributeSyntax attribute => UseNextFreeOrderCodeFixProvider.WithOrderAdded(attribute, newOrders[original]),
                    _ => rewritten,
                });
            solution = solution.WithDocumentSyntaxRoot(document.Id, newRoot);
        }

        return solution;
    }

    /// <summary>Every <c>[Migration]</c> method of the project's own documents with a readable order, in source order.</summary>
    private static async Task<List<Found>> FindMigrationsAsync(Project project, Compilation compilation, INamedTypeSymbol attributeType, CancellationToken cancellationToken)
    {
        var found = new List<Found>();
        foreach (var document in project.Documents.OrderBy(static d => d.FilePath ?? d.Name, StringComparer.Ordinal))
        {
            var tree = await document.GetSyntaxTreeAsync(cancellationToken).ConfigureAwait(false);
            if (tree is null || !compilation.ContainsSyntaxTree(tree))
            {
                continue;
            }

            var model = compilation.GetSemanticModel(tree);
            var root = await tree.GetRootAsync(cancellationToken).ConfigureAwait(false);
            foreach (var declaration in root.DescendantNodes().OfType<MethodDeclarationSyntax>())
            {
                if (declaration.AttributeLists.Count == 0
                    || model.GetDeclaredSymbol(declaration, cancellationToken) is not IMethodSymbol method
                    || MigrationAnalyzer.ReadOrder(method, attributeType, cancellationToken) is not { Syntax: { } syntax } read
                    || syntax.SyntaxTree != tree)
                {
                    continue;
                }

                SyntaxNode? node = read.Values.OrderState == OrderState.Missing ? syntax : MigrationAnalyzer.GetOrderArgument(syntax);
                if (node is not null)
                {
                    found.Add(new Found(document.Id, node, read));
                }
            }
        }

        return found;
    }

    /// <summary>Of each group sharing an order, every member but the one that keeps it (shipped under that order, else first by full name).</summary>
    private static List<Found> DuplicatesToRenumber(List<Found> migrations, ShippedMigrationsFile? shipped)
    {
        var renumber = new List<Found>();
        var groups = migrations
            .Where(static m => m.Read.Values.OrderState == OrderState.Present && m.Read.Values.Order >= 0)
            .GroupBy(static m => m.Read.Values.Order)
            .Where(static g => g.Count() > 1)
            .OrderBy(static g => g.Key);
        foreach (var group in groups)
        {
            var keep = group.FirstOrDefault(m => shipped is not null && shipped.ByOrder.TryGetValue(group.Key, out var entry) && entry.Name == m.Read.FullName)
                ?? group.OrderBy(static m => m.Read.FullName, StringComparer.Ordinal).First();
            renumber.AddRange(group.Where(m => !ReferenceEquals(m, keep)));
        }

        return renumber;
    }

    /// <summary>The project's <c>Migrations.Shipped.txt</c>, picked as the analyzer picks it, or null.</summary>
    private static async Task<ShippedMigrationsFile?> ReadShippedAsync(Project project, CancellationToken cancellationToken)
    {
        if (MarkAsShippedCodeFixProvider.FindShippedDocument(project, path: null) is not { } document)
        {
            return null;
        }

        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        return ShippedMigrationsFile.Parse(document.FilePath ?? document.Name, text);
    }

    private sealed class Found
    {
        public Found(DocumentId documentId, SyntaxNode node, MigrationAnalyzer.MigrationOrder read)
        {
            DocumentId = documentId;
            Node = node;
            Read = read;
        }

        public DocumentId DocumentId { get; }

        /// <summary>The <c>Order = …</c> argument (SGM001) or the attribute without one (SGM003).</summary>
        public SyntaxNode Node { get; }

        public MigrationAnalyzer.MigrationOrder Read { get; }
    }
}
