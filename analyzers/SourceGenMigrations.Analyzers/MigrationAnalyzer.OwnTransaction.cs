using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
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
            start.RegisterOperationAction(check.AnalyzeInvocation, OperationKind.Invocation);
        }

        private void AnalyzeInvocation(OperationAnalysisContext context)
        {
            // The name first: every invocation of the compilation comes through here.
            var invocation = (IInvocationOperation)context.Operation;
            var called = invocation.TargetMethod;
            if (called.Name is not (BeginTransactionName or BeginTransactionAsyncName) || !IsConnection(called.ContainingType))
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

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OwnTransaction,
                invocation.Syntax.GetLocation(),
                MigrationMethodShape.GetFullName(method),
                called.Name));
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
