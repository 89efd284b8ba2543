using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;
using SourceGenMigrations.CodeFixes;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>SQL-file migrations: SGM001 across files and methods, SGM008–SGM010, and SGM101–SGM106 against the shipped file.</summary>
public class SqlFileTests
{
    private const string GlobalConfig = "is_global = true\nbuild_property.MSBuildProjectDirectory = /0\n";

    private const string Methods = """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            [Migration({|#0:Order = 2|})] public static Task Second() => Task.CompletedTask;
        }
        """;

    private static AnalyzerTest Test(string source, params (string Path, string Text)[] files)
    {
        var test = new AnalyzerTest { TestCode = TestReferences.Usings + source };
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", GlobalConfig));
        foreach (var file in files)
        {
            test.TestState.AdditionalFiles.Add(file);
        }

        return test;
    }

    [Fact]
    public Task Valid_files_report_nothing() => Test(
        Methods.Replace("{|#0:Order = 2|}", "Order = 2", StringComparison.Ordinal),
        ("/0/Migrations/0003_create_users.sql", "CREATE TABLE users (id int);\n"),
        ("/0/Migrations/0004_add_index.postgresql.sql", "-- migration: no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n"),
        ("/0/Migrations/pg/0005_retired.SQLITE.sql", "-- migration: disabled, no-transaction\nDROP TABLE users;\n"),
        ("/0/Migrations.Shipped.txt", "1 App.Migrations.First\n")).RunAsync();

    [Fact]
    public async Task A_file_and_a_method_with_one_order_are_both_SGM001_and_the_file_is_reported_at_its_first_line()
    {
        var test = Test(
            Methods,
            ("/0/Migrations/0002_create_users.sql", "{|#1:CREATE TABLE users (id int);|}\nSELECT 1;\n"),
            ("/0/Migrations/0007_a.sql", "{|#2:SELECT 7;|}"),
            ("/0/Migrations/0007_b.mysql.sql", "{|#3:SELECT 7;|}"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.DuplicateOrder).WithLocation(0).WithArguments("2", "App.Migrations.Second", "'Migrations/0002_create_users.sql'"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.DuplicateOrder).WithLocation(1).WithArguments("2", "Migrations/0002_create_users.sql", "'App.Migrations.Second'"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.DuplicateOrder).WithLocation(2).WithArguments("7", "Migrations/0007_a.sql", "'Migrations/0007_b.mysql.sql'"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.DuplicateOrder).WithLocation(3).WithArguments("7", "Migrations/0007_b.mysql.sql", "'Migrations/0007_a.sql'"));
        await test.RunAsync();
    }

    [Fact]
    public Task A_file_with_no_statement_is_SGM008() => Test(
        Methods.Replace("{|#0:Order = 2|}", "Order = 2", StringComparison.Ordinal),
        ("/0/Migrations/0003_empty.sql", "{|SGM008:-- migration: no-transaction|}\n-- nothing yet; /* still nothing */\n")).RunAsync();

    [Fact]
    public async Task A_sql_file_whose_name_is_no_migration_is_SGM009_naming_the_pattern()
    {
        var test = Test(
            Methods.Replace("{|#0:Order = 2|}", "Order = 2", StringComparison.Ordinal),
            ("/0/Migrations/notes.sql", "{|#0:SELECT 1;|}"),
            ("/0/Migrations/0003_add.index.sql", "{|#1:SELECT 1;|}"),
            ("/0/Migrations/99999999999999999999_big.sql", "{|#2:SELECT 1;|}"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.SqlFileNameNotMigration).WithLocation(0)
            .WithArguments("Migrations/notes.sql", "its name does not start with digits and '_'", SqlMigrationFile.ExpectedPattern));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.SqlFileNameNotMigration).WithLocation(1)
            .WithArguments("Migrations/0003_add.index.sql", "'.index' is not a database suffix (postgresql, sqlite or mysql), and a name holds no '.'", SqlMigrationFile.ExpectedPattern));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.SqlFileNameNotMigration).WithLocation(2)
            .WithArguments("Migrations/99999999999999999999_big.sql", "the order 99999999999999999999 does not fit a 64-bit integer (at most 9223372036854775807)", SqlMigrationFile.ExpectedPattern));
        await test.RunAsync();
    }

    [Fact]
    public async Task An_unknown_directive_is_SGM010_on_its_line()
    {
        var test = Test(
            Methods.Replace("{|#0:Order = 2|}", "Order = 2", StringComparison.Ordinal),
            ("/0/Migrations/0003_index.sql", "-- a comment first is no directive line\nSELECT 1;\n"),
            ("/0/Migrations/0004_index.sql", "{|#0:-- migration: no-transation|}\nSELECT 1;\n"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.UnknownSqlDirective).WithLocation(0).WithArguments("Migrations/0004_index.sql", "1", "no-transation"));
        await test.RunAsync();
    }

    private const string ShippedMethods = """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
        }
        """;

    private const string Original = "CREATE TABLE users (id int);\nINSERT INTO users VALUES (1);\n";

    private static string ShippedWith(string checksum) =>
        "1 App.Migrations.First\n2 Migrations/0002_users.sql sha256:" + checksum + "\n";

    private static ShippedAnalyzerTest Shipped(string source, string shipped, params (string Path, string Text)[] files)
    {
        var test = new ShippedAnalyzerTest(source, shipped);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", GlobalConfig));
        foreach (var file in files)
        {
            test.TestState.AdditionalFiles.Add(file);
        }

        return test;
    }

    [Fact]
    public async Task Editing_a_shipped_sql_file_is_SGM106_at_its_first_line_and_says_to_add_a_new_migration()
    {
        var test = Shipped(ShippedMethods, ShippedWith(SqlMigrationFile.Checksum(Original)), ("/0/Migrations/0002_users.sql", "{|#0:CREATE TABLE users (id bigint);|}\nINSERT INTO users VALUES (1);\n"));
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(DiagnosticDescriptors.ShippedSqlMigrationEdited).WithLocation(0).WithArguments("2", "Migrations/0002_users.sql", "Migrations.Shipped.txt", "2"));
        await test.RunAsync();
        Assert.Contains("add a new migration instead", DiagnosticDescriptors.ShippedSqlMigrationEdited.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public Task Line_endings_a_BOM_and_trailing_white_space_are_no_edit() => Shipped(
        ShippedMethods,
        ShippedWith(SqlMigrationFile.Checksum(Original)),
        ("/0/Migrations/0002_users.sql", "\uFEFFCREATE TABLE users (id int);   \r\nINSERT INTO users VALUES (1);\t\r\n\r\n")).RunAsync();

    [Fact]
    public Task A_shipped_sql_file_renamed_or_renumbered_is_SGM101_on_its_line() => Shipped(
        ShippedMethods,
        "1 App.Migrations.First\n{|SGM101:2 Migrations/0002_users.sql sha256:" + SqlMigrationFile.Checksum(Original) + "|}\n{|SGM101:3 Migrations/0003_more.sql|}\n",
        ("/0/Migrations/0002_people.sql", Original),
        ("/0/Migrations/0004_more.sql", "{|SGM105:SELECT 1;|}"))
        .RunAsync();

    [Fact]
    public Task A_new_sql_file_below_a_shipped_order_is_SGM103_and_a_malformed_checksum_SGM104() => Shipped(
        ShippedMethods.Replace("First() => Task.CompletedTask;", "First() => Task.CompletedTask;\n    [Migration(Order = 5)] public static Task Fifth() => Task.CompletedTask;", StringComparison.Ordinal),
        "1 App.Migrations.First\n{|SGM104:4 App.Migrations.Fourth sha256:abc|}\n5 App.Migrations.Fifth\n",
        ("/0/Migrations/0003_late.sql", "{|SGM103:SELECT 1;|}"))
        .RunAsync();

    // The testing library applies fixes to source documents only; this fix is for a diagnostic in an additional document,
    // so it runs here as the IDE runs it: the analyzer's diagnostic, the fix registered on the SQL file, its operation applied.
    [Fact]
    public async Task Mark_as_shipped_on_a_sql_file_writes_its_path_and_checksum()
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("App", LanguageNames.CSharp)
            .WithMetadataReferences([.. TestReferences.Framework, .. TestReferences.Runtime])
            .AddDocument("/0/Test0.cs", TestReferences.Usings + ShippedMethods, filePath: "/0/Test0.cs").Project
            .AddAdditionalDocument("Migrations.Shipped.txt", "1 App.Migrations.First\n", filePath: "/0/Migrations.Shipped.txt").Project
            .AddAdditionalDocument("0002_users.sql", Original, filePath: "/0/Migrations/0002_users.sql").Project
            .AddAnalyzerConfigDocument(".globalconfig", SourceText.From(GlobalConfig), filePath: "/.globalconfig").Project;
        var compilation = (await project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers([new ShippedMigrationsAnalyzer()], project.AnalyzerOptions).GetAnalyzerDiagnosticsAsync();
        var diagnostic = Assert.Single(diagnostics, d => d.Id == "SGM105");
        Assert.Equal("/0/Migrations/0002_users.sql", diagnostic.Location.GetLineSpan().Path);

        var sqlDocument = project.AdditionalDocuments.Single(d => d.FilePath == "/0/Migrations/0002_users.sql");
        var actions = new List<CodeAction>();
        await new MarkAsShippedCodeFixProvider().RegisterCodeFixesAsync(new CodeFixContext(sqlDocument, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var action = Assert.Single(actions);
        Assert.Equal("Mark as shipped", action.Title);
        var apply = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        var shipped = apply.ChangedSolution.GetProject(project.Id)!.AdditionalDocuments.Single(d => d.FilePath == "/0/Migrations.Shipped.txt");

        Assert.Equal(
            "1 App.Migrations.First\n2 Migrations/0002_users.sql sha256:" + SqlMigrationFile.Checksum(Original) + "\n",
            (await shipped.GetTextAsync()).ToString());
    }

    [Fact]
    public async Task Marking_a_method_ships_the_sql_files_below_it_with_their_checksums()
    {
        var test = new MarkAsShippedTest(
            ShippedMethods + "\npublic static class More { [Migration(Order = 3)] public static Task {|SGM105:Third|}() => Task.CompletedTask; }",
            "1 App.Migrations.First\n",
            "1 App.Migrations.First\n2 Migrations/0002_users.sql sha256:" + SqlMigrationFile.Checksum(Original) + "\n3 App.More.Third\n");
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", GlobalConfig));
        test.FixedState.AnalyzerConfigFiles.Add(("/.globalconfig", GlobalConfig));
        test.TestState.AdditionalFiles.Add(("/0/Migrations/0002_users.sql", "{|SGM105:CREATE TABLE users (id int);|}\nINSERT INTO users VALUES (1);\n"));
        test.FixedState.AdditionalFiles.Add(("/0/Migrations/0002_users.sql", Original));
        test.CodeActionIndex = 0;
        test.CodeActionEquivalenceKey = MarkAsShippedCodeFixProvider.EquivalenceKey;
        test.NumberOfFixAllIterations = 1;
        test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipFixAllCheck;
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        await test.RunAsync();
    }
}
