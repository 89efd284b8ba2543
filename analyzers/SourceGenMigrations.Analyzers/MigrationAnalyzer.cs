using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers;

/// <summary>
/// Reports every mistake in a <c>[Migration]</c> method that can be seen in source (SGM001–SGM007). The shape rules are
/// <see cref="MigrationMethodShape"/>, the very code the generator uses, so a method is reported here (SGM001–SGM005)
/// exactly when the generator leaves it out of the table.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed partial class MigrationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DuplicateOrder,
        DiagnosticDescriptors.NegativeOrder,
        DiagnosticDescriptors.MissingOrder,
        DiagnosticDescriptors.UnsupportedSignature,
        DiagnosticDescriptors.Unreachable,
        DiagnosticDescriptors.AsyncVoid,
        DiagnosticDescriptors.OwnTransaction,
        DiagnosticDescriptors.EmptySqlMigration,
        DiagnosticDescriptors.SqlFileNameNotMigration,
        DiagnosticDescriptors.UnknownSqlDirective);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(KnownNames.MigrationAttributeMetadataName);
            if (attributeType is null)
            {
                // The runtime library is not referenced: nothing can carry [Migration].
                return;
            }

            var state = new CompilationState(attributeType, SqlMigrationFiles.Read(start.Options, start.CancellationToken));
            start.RegisterSymbolAction(state.AnalyzeMethod, SymbolKind.Method);
            start.RegisterAdditionalFileAction(state.AnalyzeSqlFile);
            start.RegisterSyntaxNodeAction(
                state.AnalyzeLocalFunctionOrLambda,
                SyntaxKind.LocalFunctionStatement,
                SyntaxKind.ParenthesizedLambdaExpression,
                SyntaxKind.SimpleLambdaExpression);
            start.RegisterCompilationEndAction(state.ReportCompilationEnd);
            OwnTransactionCheck.Register(start, attributeType);
        });
    }

    /// <summary>What one compilation collects for the end action; every member is safe for concurrent use.</summary>
    private sealed class CompilationState
    {
        private readonly INamedTypeSymbol _attributeType;

        // Keyed by the method so that a symbol seen twice (e.g. both parts of a partial method) counts once.
        private readonly ConcurrentDictionary<IMethodSymbol, OrderedMigration> _ordered = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IMethodSymbol, MissingOrder> _missing = new(SymbolEqualityComparer.Default);

        // The .sql AdditionalFiles, read once: SQL-file migrations share the methods' order space.
        private readonly ImmutableArray<SqlFileInfo> _sqlFiles;

        public CompilationState(INamedTypeSymbol attributeType, ImmutableArray<SqlFileInfo> sqlFiles)
        {
            _attributeType = attributeType;
            _sqlFiles = sqlFiles;
        }

        /// <summary>SGM008–SGM010: what makes one <c>.sql</c> AdditionalFile no migration, or a doubtful one.</summary>
        public void AnalyzeSqlFile(AdditionalFileAnalysisContext context)
        {
            foreach (var file in _sqlFiles)
            {
                if (file.Path != context.AdditionalFile.Path)
                {
                    continue;
                }

                if (!file.NameMatches)
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.SqlFileNameNotMigration, file.FirstLine, file.Name, file.NameProblem, SqlMigrationFile.ExpectedPattern));
                    return;
                }

                if (!file.HasStatements)
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EmptySqlMigration, file.FirstLine, file.Name));
                }

                foreach (var word in file.UnknownDirectives)
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.UnknownSqlDirective,
                        SqlFileInfo.LineLocation(file.Path, file.Text, file.DirectiveLine),
                        file.Name,
                        (file.DirectiveLine + 1).ToString(CultureInfo.InvariantCulture),
                        word));
                }

                return;
            }
        }

        public void AnalyzeMethod(SymbolAnalysisContext context)
        {
            var method = (IMethodSymbol)context.Symbol;
            if (ReadOrder(method, _attributeType, context.CancellationToken) is not { } read)
            {
                return;
            }

            // read.FullName is built only where a diagnostic needs it: most migrations are reported nowhere.
            var (values, attributeSyntax) = (read.Values, read.Syntax);
            var attributeLocation = attributeSyntax?.GetLocation() ?? GetNameLocation(method);

            if (values.OrderState == OrderState.Missing)
            {
                _missing.TryAdd(method, new MissingOrder(read.FullName, attributeLocation));
            }
            else if (values.Order < 0)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.NegativeOrder,
                    GetOrderArgumentLocation(attributeSyntax) ?? attributeLocation,
                    read.FullName,
                    values.Order.ToString(CultureInfo.InvariantCulture)));
            }
            else
            {
                _ordered.TryAdd(method, new OrderedMigration(values.Order, read, GetOrderArgumentLocation(attributeSyntax) ?? attributeLocation));
            }

            var problems = MigrationMethodShape.Classify(method, out _, out _);
            var nameLocation = GetNameLocation(method);
            if ((problems & MigrationShapeProblems.UnsupportedSignature) != 0)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.UnsupportedSignature, nameLocation, read.FullName, DescribeSignatureProblems(method, problems)));
            }
            else if (MigrationMethodShape.IsAsyncVoid(method))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AsyncVoid, nameLocation, read.FullName));
            }

            if ((problems & MigrationShapeProblems.Unreachable) != 0)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.Unreachable, nameLocation, read.FullName, DescribeUnreachable(method)));
            }
        }

        /// <summary>
        /// <c>[Migration]</c> on a local function or a lambda: never in the table (SGM004). Reported at the local function's
        /// name, or at the attribute of a lambda (a lambda has no name). These count neither as duplicates nor for the next
        /// free order.
        /// </summary>
        public void AnalyzeLocalFunctionOrLambda(SyntaxNodeAnalysisContext context)
        {
            SyntaxList<AttributeListSyntax> attributeLists;
            string kind;
            switch (context.Node)
            {
                case LocalFunctionStatementSyntax localFunction:
                    attributeLists = localFunction.AttributeLists;
                    kind = "a local function";
                    break;
                case LambdaExpressionSyntax lambda:
                    attributeLists = lambda.AttributeLists;
                    kind = "a lambda";
                    break;
                default:
                    return;
            }

            if (attributeLists.Count == 0)
            {
                return;
            }

            var symbol = context.Node is LocalFunctionStatementSyntax
                ? context.SemanticModel.GetDeclaredSymbol(context.Node, context.CancellationToken)
                : context.SemanticModel.GetSymbolInfo(context.Node, context.CancellationToken).Symbol;
            if (symbol is not IMethodSymbol method)
            {
                return;
            }

            var attribute = FindMigrationAttribute(method);
            if (attribute is null || MigrationMethodShape.ReadAttribute(attribute).OrderState == OrderState.Invalid)
            {
                return;
            }

            Location location;
            string name;
            if (context.Node is LocalFunctionStatementSyntax function)
            {
                location = function.Identifier.GetLocation();
                name = method.Name;
            }
            else
            {
                location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? context.Node.GetLocation();
                name = "lambda";
            }

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.UnsupportedSignature,
                location,
                name,
                "[Migration] is supported on ordinary methods only, not on " + kind));
        }

        public void ReportCompilationEnd(CompilationAnalysisContext context)
        {
            var ordered = _ordered.Values.ToList();
            foreach (var file in _sqlFiles)
            {
                if (file.IsMigration)
                {
                    ordered.Add(new OrderedMigration(file.Order, file.Name, file.FirstLine));
                }
            }

            // The next free order: the highest order in the compilation + 1 (0 when there is none; none past long.MaxValue).
            var properties = ImmutableDictionary<string, string?>.Empty;
            var max = ordered.Count == 0 ? -1 : ordered.Max(static m => m.Order);
            if (max < long.MaxValue)
            {
                properties = properties.Add(DiagnosticPropertyNames.NextFreeOrder, (max + 1).ToString(CultureInfo.InvariantCulture));
            }

            foreach (var group in ordered.GroupBy(static m => m.Order))
            {
                var members = group.ToList();
                if (members.Count < 2)
                {
                    continue;
                }

                var migrations = members.OrderBy(static m => m.FullName, System.StringComparer.Ordinal).ToList();

                foreach (var migration in migrations)
                {
                    context.CancellationToken.ThrowIfCancellationRequested();
                    var others = string.Join(", ", migrations.Where(m => !ReferenceEquals(m, migration)).Select(static m => "'" + m.FullName + "'"));
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DuplicateOrder,
                        migration.OrderLocation,
                        properties,
                        migration.Order.ToString(CultureInfo.InvariantCulture),
                        migration.FullName,
                        others));
                }
            }

            foreach (var missing in _missing.Values)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MissingOrder, missing.AttributeLocation, properties, missing.FullName));
            }
        }

        private AttributeData? FindMigrationAttribute(IMethodSymbol method) => MigrationAnalyzer.FindMigrationAttribute(method, _attributeType);
    }

    /// <summary>
    /// The order of a <c>[Migration]</c> method as the analyzer counts it (SGM001, SGM003, the next free order) and the
    /// Fix All of "use the next free order" renumbers it: null when the method has no <c>[Migration]</c>, is the
    /// implementing part of a partial method (the definition carries the attributes of both parts and counts once), or has
    /// an order the compiler already reports as invalid.
    /// </summary>
    internal static MigrationOrder? ReadOrder(IMethodSymbol method, INamedTypeSymbol attributeType, CancellationToken cancellationToken)
    {
        if (method.PartialDefinitionPart is not null || FindMigrationAttribute(method, attributeType) is not { } attribute)
        {
            return null;
        }

        var values = MigrationMethodShape.ReadAttribute(attribute);
        if (values.OrderState == OrderState.Invalid)
        {
            // The compiler already reports the attribute; anything more would be noise.
            return null;
        }

        return new MigrationOrder(values, attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax, method);
    }

    /// <summary>The method's <c>[Migration]</c> attribute, if it has one.</summary>
    internal static AttributeData? FindMigrationAttribute(IMethodSymbol method, INamedTypeSymbol attributeType)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeType))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>The location of the <c>Order = …</c> argument of the attribute, if written.</summary>
    internal static Location? GetOrderArgumentLocation(AttributeSyntax? attribute) => GetOrderArgument(attribute)?.GetLocation();

    /// <summary>The <c>Order = …</c> argument of the attribute, if written.</summary>
    internal static AttributeArgumentSyntax? GetOrderArgument(AttributeSyntax? attribute)
    {
        if (attribute?.ArgumentList is { } arguments)
        {
            foreach (var argument in arguments.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == KnownNames.OrderProperty)
                {
                    return argument;
                }
            }
        }

        return null;
    }

    /// <summary>The method's name in its (first) declaration.</summary>
    internal static Location GetNameLocation(IMethodSymbol method) =>
        method.Locations.Length > 0 ? method.Locations[0] : Location.None;

    private static string DescribeSignatureProblems(IMethodSymbol method, MigrationShapeProblems problems)
    {
        var reasons = new List<string>();
        if ((problems & MigrationShapeProblems.NotOrdinaryMethod) != 0)
        {
            reasons.Add("[Migration] is supported on ordinary methods only, not on " + DescribeMethodKind(method.MethodKind));
        }

        if ((problems & MigrationShapeProblems.NotStatic) != 0)
        {
            reasons.Add(method.IsAbstract || method.IsVirtual ? "it must be static and neither abstract nor virtual" : "it must be static");
        }

        if ((problems & MigrationShapeProblems.Generic) != 0)
        {
            reasons.Add("it must not be generic");
        }

        if ((problems & MigrationShapeProblems.UnsupportedReturnType) != 0)
        {
            reasons.Add("it must return Task, ValueTask or void, not " + method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + (method.ReturnsByRef || method.ReturnsByRefReadonly ? " by reference" : string.Empty));
        }

        if ((problems & MigrationShapeProblems.UnsupportedParameters) != 0)
        {
            reasons.Add("it must take (), (CancellationToken), (MigrationContext) or (MigrationContext, CancellationToken), without ref, in, out or params");
        }

        return string.Join("; ", reasons);
    }

    private static string DescribeMethodKind(MethodKind kind) => kind switch
    {
        MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove or MethodKind.EventRaise => "an accessor",
        MethodKind.UserDefinedOperator or MethodKind.Conversion => "an operator",
        MethodKind.Destructor => "a finalizer",
        MethodKind.LocalFunction => "a local function",
        MethodKind.AnonymousFunction => "a lambda",
        MethodKind.ExplicitInterfaceImplementation => "an explicit interface implementation",
        _ => "this kind of method",
    };

    private static string DescribeUnreachable(IMethodSymbol method)
    {
        if (!IsAccessibleFromAssembly(method.DeclaredAccessibility))
        {
            return "the method is " + DescribeAccessibility(method.DeclaredAccessibility) + "; make it public or internal";
        }

        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            var typeName = type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
            if (type.IsFileLocal)
            {
                return "the containing type '" + typeName + "' is file-local";
            }

            if (type.IsGenericType)
            {
                return "the containing type '" + typeName + "' is generic";
            }

            if (!IsAccessibleFromAssembly(type.DeclaredAccessibility))
            {
                return "the containing type '" + typeName + "' is " + DescribeAccessibility(type.DeclaredAccessibility) + "; make it public or internal";
            }
        }

        return "it is not accessible";
    }

    private static bool IsAccessibleFromAssembly(Accessibility accessibility) =>
        accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    private static string DescribeAccessibility(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "not accessible",
    };

    /// <summary>What <see cref="ReadOrder"/> found: the attribute's values, its syntax (null from metadata) and the method's full name.</summary>
    internal sealed class MigrationOrder
    {
        private readonly IMethodSymbol _method;
        private string? _fullName;

        public MigrationOrder(MigrationAttributeValues values, AttributeSyntax? syntax, IMethodSymbol method)
        {
            Values = values;
            Syntax = syntax;
            _method = method;
        }

        public MigrationAttributeValues Values { get; }

        public AttributeSyntax? Syntax { get; }

        /// <summary>
        /// Built on first use: a display string for each of a project's migrations costs tens of milliseconds at 10,000,
        /// and only the reported ones need it. (Two threads may both build it; they build the same string.)
        /// </summary>
        public string FullName => _fullName ??= MigrationMethodShape.GetFullName(_method);
    }

    /// <summary>A migration with a usable order, a method's (its name built only when a diagnostic needs it) or a SQL file's.</summary>
    private sealed class OrderedMigration
    {
        private readonly MigrationOrder? _read;
        private readonly string? _name;

        public OrderedMigration(long order, MigrationOrder read, Location orderLocation)
        {
            Order = order;
            _read = read;
            OrderLocation = orderLocation;
        }

        public OrderedMigration(long order, string name, Location orderLocation)
        {
            Order = order;
            _name = name;
            OrderLocation = orderLocation;
        }

        public long Order { get; }

        public string FullName => _name ?? _read!.FullName;

        public Location OrderLocation { get; }
    }

    private sealed class MissingOrder
    {
        public MissingOrder(string fullName, Location attributeLocation)
        {
            FullName = fullName;
            AttributeLocation = attributeLocation;
        }

        public string FullName { get; }

        public Location AttributeLocation { get; }
    }
}
