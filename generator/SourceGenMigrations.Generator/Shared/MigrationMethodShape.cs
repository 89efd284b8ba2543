using System;
using Microsoft.CodeAnalysis;

// This file is compiled into both the generator and the analyzers (linked), so the two can never disagree on what
// a valid migration is: the generator leaves out exactly the methods the analyzers report as errors.
namespace SourceGenMigrations.Shared;

/// <summary>Names of the runtime types the generator and the analyzers look for.</summary>
internal static class KnownNames
{
    public const string MigrationAttributeMetadataName = "SourceGenMigrations.MigrationAttribute";
    public const string OrderProperty = "Order";
    public const string EnabledProperty = "Enabled";
    public const string TransactionalProperty = "Transactional";
    public const string BreaksOlderBuildsProperty = "BreaksOlderBuilds";
    public const string RuntimeNamespace = "SourceGenMigrations";
    public const string MigrationContextName = "MigrationContext";
}

/// <summary>What a migration method returns.</summary>
internal enum MigrationReturnKind
{
    Task,
    ValueTask,
    Void,
}

/// <summary>The accepted parameter lists.</summary>
internal enum MigrationParameterKind
{
    /// <summary><c>()</c></summary>
    None,

    /// <summary><c>(CancellationToken)</c></summary>
    CancellationToken,

    /// <summary><c>(MigrationContext)</c></summary>
    Context,

    /// <summary><c>(MigrationContext, CancellationToken)</c></summary>
    ContextAndCancellationToken,
}

/// <summary>Why a method cannot be called from the generated table. Several can hold at once.</summary>
[Flags]
internal enum MigrationShapeProblems
{
    None = 0,

    /// <summary>A local function, lambda, accessor, operator or constructor (SGM004).</summary>
    NotOrdinaryMethod = 1 << 0,

    /// <summary>An instance or abstract method (SGM004).</summary>
    NotStatic = 1 << 1,

    /// <summary>The method has type parameters (SGM004).</summary>
    Generic = 1 << 2,

    /// <summary>Returns something other than Task, ValueTask or void (SGM004).</summary>
    UnsupportedReturnType = 1 << 3,

    /// <summary>Parameters other than the four accepted lists (SGM004).</summary>
    UnsupportedParameters = 1 << 4,

    /// <summary>The method or a containing type is private, protected, file-local or generic (SGM005).</summary>
    Unreachable = 1 << 5,

    /// <summary>Every problem that is reported as SGM004.</summary>
    UnsupportedSignature = NotOrdinaryMethod | NotStatic | Generic | UnsupportedReturnType | UnsupportedParameters,
}

/// <summary>Whether the attribute's <c>Order</c> was given and usable.</summary>
internal enum OrderState
{
    /// <summary>No <c>Order = …</c> argument (SGM003).</summary>
    Missing,

    /// <summary>A constant of type long.</summary>
    Present,

    /// <summary>The argument does not bind (the compiler reports it); neither generator nor analyzers add to that.</summary>
    Invalid,
}

/// <summary>The values of one <c>[Migration]</c> attribute.</summary>
internal readonly struct MigrationAttributeValues
{
    public MigrationAttributeValues(OrderState orderState, long order, bool enabled, bool transactional, bool breaksOlderBuilds)
    {
        OrderState = orderState;
        Order = order;
        Enabled = enabled;
        Transactional = transactional;
        BreaksOlderBuilds = breaksOlderBuilds;
    }

    public OrderState OrderState { get; }

    /// <summary>The constant value of <c>Order</c> (meaningful when <see cref="OrderState"/> is <see cref="OrderState.Present"/>).</summary>
    public long Order { get; }

    /// <summary>The constant value of <c>Enabled</c>, <see langword="true"/> when not given.</summary>
    public bool Enabled { get; }

    /// <summary>The constant value of <c>Transactional</c>, <see langword="true"/> when not given.</summary>
    public bool Transactional { get; }

    /// <summary>The constant value of <c>BreaksOlderBuilds</c>, <see langword="false"/> when not given.</summary>
    public bool BreaksOlderBuilds { get; }

    /// <summary>A usable, non-negative order: the generator may emit the method (shape permitting).</summary>
    public bool HasValidOrder => OrderState == OrderState.Present && Order >= 0;
}

/// <summary>The rules of DESIGN.md "Generator": which methods the generated table can call, and how.</summary>
internal static class MigrationMethodShape
{
    /// <summary>Reads <c>Order</c>, <c>Enabled</c>, <c>Transactional</c> and <c>BreaksOlderBuilds</c> from the attribute's constant values (so <c>Order = Base + 1</c> works).</summary>
    public static MigrationAttributeValues ReadAttribute(AttributeData attribute)
    {
        var orderState = OrderState.Missing;
        long order = 0;
        var enabled = true;
        var transactional = true;
        var breaksOlderBuilds = false;
        foreach (var argument in attribute.NamedArguments)
        {
            var value = argument.Value;
            switch (argument.Key)
            {
                case KnownNames.OrderProperty:
                    if (value.Kind == TypedConstantKind.Primitive && value.Value is long orderValue)
                    {
                        orderState = OrderState.Present;
                        order = orderValue;
                    }
                    else
                    {
                        orderState = OrderState.Invalid;
                    }

                    break;
                case KnownNames.EnabledProperty:
                    enabled = ReadBool(value, enabled);
                    break;
                case KnownNames.TransactionalProperty:
                    transactional = ReadBool(value, transactional);
                    break;
                case KnownNames.BreaksOlderBuildsProperty:
                    breaksOlderBuilds = ReadBool(value, breaksOlderBuilds);
                    break;
            }
        }

        // An attribute that does not bind (wrong argument types) is the compiler's to report.
        if (attribute.AttributeConstructor is null && orderState == OrderState.Missing)
        {
            orderState = OrderState.Invalid;
        }

        return new MigrationAttributeValues(orderState, order, enabled, transactional, breaksOlderBuilds);
    }

    // A bool argument that does not bind keeps the default: the compiler reports it.
    private static bool ReadBool(TypedConstant value, bool defaultValue) =>
        value.Kind == TypedConstantKind.Primitive && value.Value is bool boolValue ? boolValue : defaultValue;

    /// <summary>Classifies <paramref name="method"/>; the kinds are meaningful only when no signature problem is returned.</summary>
    public static MigrationShapeProblems Classify(IMethodSymbol method, out MigrationReturnKind returnKind, out MigrationParameterKind parameterKind)
    {
        var problems = MigrationShapeProblems.None;
        if (method.MethodKind != MethodKind.Ordinary)
        {
            problems |= MigrationShapeProblems.NotOrdinaryMethod;
        }

        if (!method.IsStatic || method.IsAbstract || method.IsVirtual)
        {
            problems |= MigrationShapeProblems.NotStatic;
        }

        if (method.IsGenericMethod)
        {
            problems |= MigrationShapeProblems.Generic;
        }

        if (!TryGetReturnKind(method, out returnKind))
        {
            problems |= MigrationShapeProblems.UnsupportedReturnType;
        }

        if (!TryGetParameterKind(method, out parameterKind))
        {
            problems |= MigrationShapeProblems.UnsupportedParameters;
        }

        if ((problems & MigrationShapeProblems.NotOrdinaryMethod) == 0 && !IsReachable(method))
        {
            problems |= MigrationShapeProblems.Unreachable;
        }

        return problems;
    }

    /// <summary><c>async void</c>: accepted (a warning, SGM006), but the runner cannot await it.</summary>
    public static bool IsAsyncVoid(IMethodSymbol method) => method.IsAsync && method.ReturnsVoid;

    // Not escaped (@class), like method.Name: a name for people, not for the compiler.
    private static readonly SymbolDisplayFormat FullNameFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    /// <summary>The method's full name without <c>global::</c>, e.g. <c>Ns.Outer.Inner.Method</c>.</summary>
    public static string GetFullName(IMethodSymbol method)
    {
        var type = method.ContainingType;
        return type is null
            ? method.Name
            : GetTypeFullName(type) + "." + method.Name;
    }

    /// <summary>A type's full name without <c>global::</c>, the prefix of its methods' <see cref="GetFullName"/>.</summary>
    public static string GetTypeFullName(INamedTypeSymbol type) => type.ToDisplayString(FullNameFormat);

    private static bool TryGetReturnKind(IMethodSymbol method, out MigrationReturnKind kind)
    {
        kind = MigrationReturnKind.Void;
        if (method.ReturnsVoid)
        {
            return true;
        }

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return false;
        }

        if (IsNonGenericType(method.ReturnType, "System.Threading.Tasks", "Task"))
        {
            kind = MigrationReturnKind.Task;
            return true;
        }

        if (IsNonGenericType(method.ReturnType, "System.Threading.Tasks", "ValueTask"))
        {
            kind = MigrationReturnKind.ValueTask;
            return true;
        }

        return false;
    }

    private static bool TryGetParameterKind(IMethodSymbol method, out MigrationParameterKind kind)
    {
        kind = MigrationParameterKind.None;
        var parameters = method.Parameters;
        foreach (var parameter in parameters)
        {
            if (parameter.RefKind != RefKind.None || parameter.IsParams)
            {
                return false;
            }
        }

        switch (parameters.Length)
        {
            case 0:
                return true;
            case 1 when IsCancellationToken(parameters[0].Type):
                kind = MigrationParameterKind.CancellationToken;
                return true;
            case 1 when IsMigrationContext(parameters[0].Type):
                kind = MigrationParameterKind.Context;
                return true;
            case 2 when IsMigrationContext(parameters[0].Type) && IsCancellationToken(parameters[1].Type):
                kind = MigrationParameterKind.ContextAndCancellationToken;
                return true;
            default:
                return false;
        }
    }

    // Generated code lives in the same assembly: public, internal and protected internal are all callable from it.
    private static bool IsReachable(IMethodSymbol method)
    {
        if (!IsAccessibleFromAssembly(method.DeclaredAccessibility))
        {
            return false;
        }

        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (!IsAccessibleFromAssembly(type.DeclaredAccessibility) || type.IsGenericType || type.IsFileLocal)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAccessibleFromAssembly(Accessibility accessibility) =>
        accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    private static bool IsCancellationToken(ITypeSymbol type) => IsNonGenericType(type, "System.Threading", "CancellationToken");

    private static bool IsMigrationContext(ITypeSymbol type) => IsNonGenericType(type, KnownNames.RuntimeNamespace, KnownNames.MigrationContextName);

    private static bool IsNonGenericType(ITypeSymbol type, string containingNamespace, string name) =>
        type is INamedTypeSymbol { Arity: 0, ContainingType: null } named
        && named.Name == name
        && IsNamespace(named.ContainingNamespace, containingNamespace);

    // namespace.ToDisplayString() == dottedName without building the string (called for every parameter of every
    // migration, by the generator and the analyzers). The dotted names asked for contain no keywords to escape.
    private static bool IsNamespace(INamespaceSymbol? namespaceSymbol, string dottedName)
    {
        var end = dottedName.Length;
        for (var current = namespaceSymbol; current is { IsGlobalNamespace: false }; current = current.ContainingNamespace)
        {
            var part = current.Name;
            var start = end - part.Length;
            if (start < 0 || string.CompareOrdinal(dottedName, start, part, 0, part.Length) != 0)
            {
                return false;
            }

            if (current.ContainingNamespace is { IsGlobalNamespace: false })
            {
                if (start == 0 || dottedName[start - 1] != '.')
                {
                    return false;
                }

                end = start - 1;
            }
            else
            {
                return start == 0;
            }
        }

        return false;
    }
}
