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
        description: "Every migration needs its own order, disabled migrations included: the order is the migration's identity in the database. SQL-file migrations share the order space with the methods (a file is reported at its first line), database-specific files included. Give one of them an order that no other migration uses.",
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
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An async void migration returns at its first await: the runner records it as completed while it still runs, and an exception it throws later crashes the process instead of failing the migration. Return Task (or ValueTask).",
        helpLinkUri: HelpLinkBase + DiagnosticIds.AsyncVoid + ".md");

    /// <summary>SGM007: {0} method, {1} the method called (BeginTransaction or BeginTransactionAsync).</summary>
    public static readonly DiagnosticDescriptor OwnTransaction = new(
        id: DiagnosticIds.OwnTransaction,
        title: "Transactional migration begins a transaction of its own",
        messageFormat: "Migration '{0}' begins a transaction of its own, but it already runs inside the manager's transaction (its statements and its COMPLETED status commit together): remove the {1} call, or mark it [Migration(..., Transactional = false)]",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A migration is transactional unless it says Transactional = false: the manager serves its connection with a transaction already active and commits the migration's statements together with its COMPLETED status, so the migration takes effect exactly once. Beginning a transaction of its own on that connection fails at run time (neither SQLite nor PostgreSQL nests transactions) and the migration is recorded as FAILED. Run the statements on the served connection without a transaction of your own or, for statements that cannot run in a transaction, mark the migration Transactional = false and make it idempotent.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.OwnTransaction + ".md");

    /// <summary>SGM008: {0} the file's name.</summary>
    public static readonly DiagnosticDescriptor EmptySqlMigration = new(
        id: DiagnosticIds.EmptySqlMigration,
        title: "Empty SQL migration",
        messageFormat: "SQL migration '{0}' holds no statement; write its SQL, or delete the file",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A SQL-file migration must hold at least one statement: white space, comments and directives alone would record the migration as completed without doing anything. An empty file is left out of the generated table.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.EmptySqlMigration + ".md");

    /// <summary>SGM009: {0} the file's name, {1} why, {2} the expected pattern.</summary>
    public static readonly DiagnosticDescriptor SqlFileNameNotMigration = new(
        id: DiagnosticIds.SqlFileNameNotMigration,
        title: "SQL file is not a migration",
        messageFormat: "'{0}' is not a migration: {1}. Name a SQL migration {2}, or remove the file from AdditionalFiles.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Every .sql AdditionalFile (the package adds Migrations/**/*.sql) is meant to be a migration, so one whose name does not give an order is reported rather than silently ignored. The order is the digits before '_', which must fit a 64-bit integer; an optional database suffix (.postgresql, .sqlite or .mysql) comes before .sql.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.SqlFileNameNotMigration + ".md");

    /// <summary>SGM010: {0} the file's name, {1} line, {2} the word.</summary>
    public static readonly DiagnosticDescriptor UnknownSqlDirective = new(
        id: DiagnosticIds.UnknownSqlDirective,
        title: "Unknown SQL migration directive",
        messageFormat: "SQL migration '{0}' line {1}: unknown directive '{2}'; the directives are 'no-transaction' and 'disabled'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The first lines of a SQL-file migration may be directives: '-- migration: no-transaction' (the file runs outside a transaction, statement by statement) and '-- migration: disabled' (the file does not run; its order stays reserved). A word the generator does not know is ignored, which usually means a misspelt directive.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.UnknownSqlDirective + ".md");

    /// <summary>SGM101: {0} order, {1} name, {2} file name, {3} line, {4} what is there now.</summary>
    public static readonly DiagnosticDescriptor ShippedMigrationMissing = new(
        id: DiagnosticIds.ShippedMigrationMissing,
        title: "Shipped migration is gone",
        messageFormat: "Shipped migration {0} '{1}' ({2} line {3}) is no longer in source{4}; databases that ran it would not know the order. Restore it, or keep it with Enabled = false.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Migrations.Shipped.txt lists the migrations that have been released. Each must stay in source with the same order and full name: a database that ran it has its order recorded, and the runner refuses a database whose recorded orders are unknown. Renaming a shipped method or deleting it is caught here, at build time, instead of in production. To retire a migration, keep it with Enabled = false.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.ShippedMigrationMissing + ".md",
        customTags: CompilationEnd);

    /// <summary>SGM102: {0} name, {1} shipped order, {2} current order.</summary>
    public static readonly DiagnosticDescriptor ShippedOrderChanged = new(
        id: DiagnosticIds.ShippedOrderChanged,
        title: "Shipped migration's order changed",
        messageFormat: "Migration '{0}' was shipped with order {1} but now has order {2}; the order of a shipped migration must never change",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The order is a migration's identity in the database. A shipped migration that gets another order would run a second time under the new order, and its old order would be unknown to the registry. Put the shipped order back.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.ShippedOrderChanged + ".md");

    /// <summary>SGM103: {0} name, {1} order, {2} highest shipped order.</summary>
    public static readonly DiagnosticDescriptor UnshippedBelowShipped = new(
        id: DiagnosticIds.UnshippedBelowShipped,
        title: "New migration ordered before a shipped one",
        messageFormat: "Migration '{0}' is not shipped but its order {1} is below the highest shipped order {2}; it would run out of order in every database that ran the shipped migrations. Use an order above {2}.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Migrations run in order. A new migration placed below a shipped one (typically after a branch merge) cannot run in a database that already ran the shipped migrations: the runner refuses it as out of order. Give it an order above the highest order in Migrations.Shipped.txt.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.UnshippedBelowShipped + ".md");

    /// <summary>SGM104: {0} file name, {1} line, {2} why.</summary>
    public static readonly DiagnosticDescriptor MalformedShippedLine = new(
        id: DiagnosticIds.MalformedShippedLine,
        title: "Malformed line in Migrations.Shipped.txt",
        messageFormat: "{0} line {1} is ignored: {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Each line of Migrations.Shipped.txt is 'order name': a whole number of zero or more, then the migration method's full name, e.g. '3 MyApp.Migrations.CreateUsers'; a SQL-file migration's line is 'order path sha256:checksum' (64 hex digits), e.g. '4 Migrations/0004_add_index.sql sha256:…'. '#' starts a comment and blank lines are ignored. Every order and every name is listed once. A malformed line is ignored, so the migration it meant to protect is not protected.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.MalformedShippedLine + ".md");

    /// <summary>SGM105: {0} order, {1} name, {2} file name.</summary>
    public static readonly DiagnosticDescriptor NotShipped = new(
        id: DiagnosticIds.NotShipped,
        title: "Migration not yet shipped",
        messageFormat: "Migration {0} '{1}' is not in {2} yet; mark it as shipped when you release it",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Hidden,
        isEnabledByDefault: true,
        description: "A migration that is not listed in Migrations.Shipped.txt may still be renamed, renumbered or deleted. When you release it, mark it as shipped (the code fix adds its line, keeping the file sorted by order); from then on SGM101 and SGM102 protect it.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.NotShipped + ".md");

    /// <summary>SGM106: {0} order, {1} name, {2} file name, {3} line.</summary>
    public static readonly DiagnosticDescriptor ShippedSqlMigrationEdited = new(
        id: DiagnosticIds.ShippedSqlMigrationEdited,
        title: "Shipped SQL migration edited",
        messageFormat: "Shipped SQL migration {0} '{1}' was edited: its content no longer matches the checksum in {2} line {3}. Databases that ran it will never run it again: put the file back as it was, and add a new migration instead.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Migrations.Shipped.txt records a checksum of each shipped SQL-file migration (its content without a byte order mark, with LF line endings and without trailing white space, so a checkout that changes line endings does not count). A completed migration never runs again, so an edit reaches only new databases and leaves the others different. Revert the edit, and add a new migration instead. At run time, a COMPLETED file whose stored checksum differs stops the run as well.",
        helpLinkUri: HelpLinkBase + DiagnosticIds.ShippedSqlMigrationEdited + ".md");
}
