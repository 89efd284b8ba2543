using Microsoft.CodeAnalysis;

namespace SourceGenMigrations.Analyzers;

/// <summary>The catalog of every diagnostic the SourceGenMigrations analyzers report (DESIGN.md "Diagnostics").</summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "SourceGenMigrations";

    /// <summary>Base of the help links; each diagnostic has its page <c>SGMxxx.md</c> there.</summary>
    public const string HelpLinkBase = "https://github.com/sourcegenmigrations/sourcegenmigrations/blob/main/docs/diagnostics/";

    /// <summary>Reported from a compilation end action (it needs the whole compilation); see RS1037.</summary>
    private const string CompilationEnd = "CompilationEnd";

    /// <summary>SGM001: {0} order, {1} this method, {2} the other method(s).</summary>
    public static readonly DiagnosticDescriptor DuplicateOrder = new(
        id: DiagnosticIds.DuplicateOrder,
        title: "Duplicate migration order",
        messageFormat: "Migration order {0} of '{1}' is also used by {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Every migration needs its own order, disabled migrations included: the order is the migration's identity in the database. Give one of the methods an order that no other migration uses.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.DuplicateOrder + ".md",
        customTags: CompilationEnd);

    /// <summary>SGM002: {0} method, {1} order.</summary>
    public static readonly DiagnosticDescriptor NegativeOrder = new(
        id: DiagnosticIds.NegativeOrder,
        title: "Negative migration order",
        messageFormat: "Migration '{0}' has the negative order {1}; orders must be zero or more",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Migration orders are zero or more. A migration with a negative order is left out of the generated table.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.NegativeOrder + ".md");

    /// <summary>SGM003: {0} method.</summary>
    public static readonly DiagnosticDescriptor MissingOrder = new(
        id: DiagnosticIds.MissingOrder,
        title: "Migration without an order",
        messageFormat: "Migration '{0}' has no Order; add 'Order = n' with an order no other migration uses",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "[Migration] requires 'Order': without it every migration would silently get order 0. A migration without an order is left out of the generated table.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.MissingOrder + ".md",
        customTags: CompilationEnd);

    /// <summary>SGM004: {0} method, {1} the reasons.</summary>
    public static readonly DiagnosticDescriptor UnsupportedSignature = new(
        id: DiagnosticIds.UnsupportedSignature,
        title: "Unsupported migration signature",
        messageFormat: "Migration '{0}' cannot be called by the generated table: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A migration is an ordinary static, non-generic method returning Task, ValueTask or void and taking (), (CancellationToken), (MigrationContext) or (MigrationContext, CancellationToken). Local functions and lambdas cannot be migrations. Such a method is left out of the generated table.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.UnsupportedSignature + ".md");

    /// <summary>SGM005: {0} method, {1} the reason.</summary>
    public static readonly DiagnosticDescriptor Unreachable = new(
        id: DiagnosticIds.Unreachable,
        title: "Migration not reachable from generated code",
        messageFormat: "Migration '{0}' cannot be reached from the generated table: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generated table calls each migration directly, so the method and every containing type must be public or internal, and no containing type may be generic or file-local. Such a method is left out of the generated table.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.Unreachable + ".md");

    /// <summary>SGM006: {0} method.</summary>
    public static readonly DiagnosticDescriptor AsyncVoid = new(
        id: DiagnosticIds.AsyncVoid,
        title: "Migration is async void",
        messageFormat: "Migration '{0}' is async void: the runner cannot await it and its failure is lost; return Task instead",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "An async void migration returns at its first await: the runner records it as completed while it still runs, and an exception it throws later crashes the process instead of failing the migration. Return Task (or ValueTask).",
        helpLinkUri: HelpLinkBase + DiagnosticIds.AsyncVoid + ".md");
}
