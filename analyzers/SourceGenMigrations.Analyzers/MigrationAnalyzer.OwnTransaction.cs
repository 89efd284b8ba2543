using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers;

public sealed partial class MigrationAnalyzer
{
    /// <summary>
    /// SGM007: a transactional migration calls <c>BeginTransaction</c> or <c>BeginTransactionAsync</c> on an ADO.NET
    /// connection (<c>DbConnection</c> or a type derived from it, <c>IDbConnection</c> or a type implementing it), in its
    /// own body or in a lambda or local function declared there. The manager serves the connection with its transaction
    /// already active, so the call fails at run time.
    /// </summary>
    /// <remarks>
    /// A syntax node action, not an operation action: an operation action makes the driver build the operation tree of
    /// every method body of the compilation, although only a call named <c>BeginTransaction</c> or
    /// <c>BeginTransactionAsync</c> in a migration can matter. The name is read from the syntax, then the enclosing
    /// migration from the symbols the driver already has, and only then is the call bound.
    /// </remarks>
    private sealed class OwnTransactionCheck
    {
        private const string DbConnectionMetadataName = "System.Data.Common.DbConnection";
        private const string IDbConnectionMetadataName = "System.Data.IDbConnection";
        private const string BeginTransactionName = "BeginTransaction";
        private const string BeginTransactionAsyncName = "BeginTransactionAsync";

        private readonly INamedTypeSymbol _attributeType;
        private readonly INamedTypeSymbol? _dbConnectionType;
        private readonly INamedTypeSymbol? _idbConnectionType;

        private OwnTransactionCheck(INamedTypeSymbol attributeType, INamedTypeSymbol? dbConnectionType, INamedTypeSymbol? idbConnectionType)
        {
            _attributeType = attributeType;
            _dbConnectionType = dbConnectionType;
            _idbConnectionType = idbConnectionType;
        }

        /// <summary>Registers the check, unless the compilation has no ADO.NET connection type to call.</summary>
        public static void Register(CompilationStartAnalysisContext start, INamedTypeSymbol attributeType)
        {
            var dbConnectionType = start.Compilation.GetTypeByMetadataName(DbConnectionMetadataName);
            var idbConnectionType = start.Compilation.GetTypeByMetadataName(IDbConnectionMetadataName);
            if (dbConnectionType is null && idbConnectionType is null)
            {
                return;
            }

            var check = new OwnTransactionCheck(attributeType, dbConnectionType, idbConnectionType);
            start.RegisterSyntaxNodeAction(check.AnalyzeInvocation, SyntaxKind.InvocationExpression);
        }

        private void AnalyzeInvocation(SyntaxNodeAnalysisContext context)
        {
            // The name first, from the syntax alone: every invocation of the compilation comes through here.
            var invocation = (InvocationExpressionSyntax)context.Node;
            if (GetInvokedName(invocation.Expression) is not (BeginTransactionName or BeginTransactionAsyncName))
            {
                return;
            }

            if (GetDeclaringMethod(context.ContainingSymbol) is not { } method
                || FindMigrationAttribute(method, _attributeType) is not { } attribute)
            {
                return;
            }

            var values = MigrationMethodShape.ReadAttribute(attribute);
            if (values.OrderState == OrderState.Invalid || !values.Transactional)
            {
                // A broken attribute is the compiler's to report; a non-transactional migration manages its own.
                return;
            }

            // The symbol only (no candidates): a call the compiler cannot resolve is the compiler's to report. A delegate
            // named BeginTransaction binds to its Invoke; an extension method is its static class's.
            if (context.SemanticModel.GetSymbolInfo(invocation, context.CancellationToken).Symbol is not IMethodSymbol called
                || called.Name is not (BeginTransactionName or BeginTransactionAsyncName)
                || !IsConnection(called.ContainingType))
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OwnTransaction,
                invocation.GetLocation(),
                MigrationMethodShape.GetFullName(method),
                called.Name));
        }

        /// <summary>
        /// The name a call is written with: <c>x.Name(…)</c>, <c>x?.Name(…)</c>, <c>Name(…)</c>, <c>x.Name&lt;T&gt;(…)</c>;
        /// null for anything else (a delegate returned by a call, an indexer's element, …).
        /// </summary>
        private static string? GetInvokedName(ExpressionSyntax expression)
        {
            var name = expression switch
            {
                MemberAccessExpressionSyntax memberAccess => memberAccess.Name,
                MemberBindingExpressionSyntax memberBinding => memberBinding.Name,
                SimpleNameSyntax simpleName => simpleName,
                _ => null,
            };
            return name?.Identifier.ValueText;
        }

        private bool IsConnection(INamedTypeSymbol? type)
        {
            for (var current = type; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current, _dbConnectionType))
                {
                    return true;
                }
            }

            return type is not null
                && _idbConnectionType is not null
                && (SymbolEqualityComparer.Default.Equals(type, _idbConnectionType) || type.AllInterfaces.Contains(_idbConnectionType, SymbolEqualityComparer.Default));
        }

        /// <summary>
        /// The method whose body holds the invocation: out of lambdas and local functions to the member that declares
        /// them; the definition of a partial method (it carries the attributes of both parts).
        /// </summary>
        private static IMethodSymbol? GetDeclaringMethod(ISymbol? symbol)
        {
            while (symbol is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction })
            {
                symbol = symbol.ContainingSymbol;
            }

            return symbol is IMethodSymbol method ? method.PartialDefinitionPart ?? method : null;
        }
    }
}
