using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenMigrations.Analyzers;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.CodeFixes;

/// <summary>
/// "Use the next free order (N)" for SGM001 (replaces the order expression) and SGM003 (adds <c>Order = N</c>), where N is
/// the highest order in the compilation + 1, handed over by the analyzer in <see cref="DiagnosticPropertyNames.NextFreeOrder"/>.
/// </summary>
/// <remarks>
/// Fix All is <see cref="UseNextFreeOrderFixAllProvider"/>: renumbering is not independent per diagnostic (every
/// diagnostic carries the same N), so it gives consecutive orders computed from the current compilation.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseNextFreeOrderCodeFixProvider)), Shared]
public sealed class UseNextFreeOrderCodeFixProvider : CodeFixProvider
{
    /// <summary>The equivalence key of the SGM001 fix.</summary>
    public const string ReplaceOrderEquivalenceKey = "SourceGenMigrations.UseNextFreeOrder.Replace";

    /// <summary>The equivalence key of the SGM003 fix.</summary>
    public const string AddOrderEquivalenceKey = "SourceGenMigrations.UseNextFreeOrder.Add";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.DuplicateOrder, DiagnosticIds.MissingOrder);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => UseNextFreeOrderFixAllProvider.Instance;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        // SGM001 on a SQL-file migration points into the file (an additional document): the order is its file name.
        if (context.TextDocument is not Document document)
        {
            return;
        }

        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(DiagnosticPropertyNames.NextFreeOrder, out var text)
                || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var nextFreeOrder))
            {
                continue;
            }

            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var title = "Use the next free order (" + nextFreeOrder.ToString(CultureInfo.InvariantCulture) + ")";
            if (diagnostic.Id == DiagnosticIds.DuplicateOrder && node.FirstAncestorOrSelf<AttributeArgumentSyntax>() is { } argument)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(title, ct => ReplaceOrderAsync(document, argument, nextFreeOrder, ct), ReplaceOrderEquivalenceKey),
                    diagnostic);
            }
            else if (diagnostic.Id == DiagnosticIds.MissingOrder && node.FirstAncestorOrSelf<AttributeSyntax>() is { } attribute)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(title, ct => AddOrderAsync(document, attribute, nextFreeOrder, ct), AddOrderEquivalenceKey),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> ReplaceOrderAsync(Document document, AttributeArgumentSyntax argument, long order, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(argument, WithOrder(argument, order)));
    }

    private static async Task<Document> AddOrderAsync(Document document, AttributeSyntax attribute, long order, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(attribute, WithOrderAdded(attribute, order)));
    }

    /// <summary><c>Order = …</c> with <paramref name="order"/> as its value (SGM001).</summary>
    internal static AttributeArgumentSyntax WithOrder(AttributeArgumentSyntax argument, long order) =>
        argument.WithExpression(OrderLiteral(order).WithTriviaFrom(argument.Expression));

    /// <summary>The attribute with <c>Order = <paramref name="order"/></c> added first (SGM003).</summary>
    internal static AttributeSyntax WithOrderAdded(AttributeSyntax attribute, long order)
    {
        var orderArgument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(
                SyntaxFactory.IdentifierName(KnownNames.OrderProperty),
                SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
            nameColon: null,
            OrderLiteral(order));

        AttributeArgumentListSyntax newList;
        if (attribute.ArgumentList is null || attribute.ArgumentList.Arguments.Count == 0)
        {
            // [Migration] or [Migration()] → [Migration(Order = N)]
            newList = (attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList())
                .WithArguments(SyntaxFactory.SingletonSeparatedList(orderArgument));
        }
        else
        {
            // [Migration(Enabled = false)] → [Migration(Order = N, Enabled = false)]: Order first, as the docs write it.
            // (The attribute has no constructor parameters, so every argument is named and the order of them is free.)
            var list = attribute.ArgumentList;
            var nodesAndTokens = list.Arguments.GetWithSeparators()
                .Insert(0, SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space))
                .Insert(0, orderArgument);
            newList = list.WithArguments(SyntaxFactory.SeparatedList<AttributeArgumentSyntax>(nodesAndTokens));
        }

        return attribute.WithArgumentList(newList);
    }

    // Parsed, so the token's value has the type the compiler gives the literal (int, uint or long), exactly as if typed.
    private static ExpressionSyntax OrderLiteral(long order) =>
        SyntaxFactory.ParseExpression(order.ToString(CultureInfo.InvariantCulture));
}
