using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace SourceGenMigrations.Analyzers.Tests;

internal sealed class ShippedAnalyzerTest : CSharpAnalyzerTest<ShippedMigrationsAnalyzer, DefaultVerifier>
{
    public const string ShippedPath = "/0/Migrations.Shipped.txt";

    public ShippedAnalyzerTest(string source, string? shipped, bool withRuntime = true)
    {
        ReferenceAssemblies = TestReferences.None;
        TestReferences.Apply(TestState, withRuntime);
        TestState.Sources.Add((withRuntime ? TestReferences.Usings : string.Empty) + source);
        if (shipped is not null)
        {
            TestState.AdditionalFiles.Add((ShippedPath, shipped));
        }
    }

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

/// <summary>SGM101–SGM105 against a <c>Migrations.Shipped.txt</c> AdditionalFile (markup in the file marks file diagnostics).</summary>
public class ShippedMigrationsAnalyzerTests
{
    private static Task VerifyAsync(string source, string? shipped, params DiagnosticResult[] expected)
    {
        var test = new ShippedAnalyzerTest(source, shipped);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private const string ThreeShipped = """
        # Released with 1.0
        1 App.Migrations.CreateUsers
        2 App.Migrations.OldBackfill

        3 App.Migrations.AddIndex   # 1.1
        """;

    [Fact]
    public Task Shipped_migrations_unchanged_report_nothing() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        ThreeShipped);

    [Fact]
    public Task Without_the_file_nothing_is_reported_even_where_every_rule_would_fire() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 9)] public static Task Renumbered() => Task.CompletedTask;
            [Migration(Order = 0)] public static Task New() => Task.CompletedTask;
        }
        """,
        shipped: null);

    [Fact]
    public async Task A_file_with_another_name_is_not_read()
    {
        var test = new ShippedAnalyzerTest(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task New() => Task.CompletedTask;
            }
            """,
            shipped: null);
        test.TestState.AdditionalFiles.Add(("/0/Migrations.Unshipped.txt", "5 App.Migrations.Gone\n"));
        await test.RunAsync();
    }

    [Fact]
    public async Task The_file_name_is_matched_ignoring_case_in_any_folder()
    {
        var test = new ShippedAnalyzerTest(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task A() => Task.CompletedTask;
            }
            """,
            shipped: null);
        test.TestState.AdditionalFiles.Add(("/0/db/MIGRATIONS.shipped.TXT", "1 App.Migrations.A\n{|SGM101:2 App.Migrations.Gone|}\n"));
        await test.RunAsync();
    }

    [Fact]
    public Task Without_the_runtime_library_nothing_is_reported()
    {
        var test = new ShippedAnalyzerTest("public static class Migrations { }", "1 App.Migrations.Gone\nnot a line\n", withRuntime: false);
        return test.RunAsync();
    }

    // ---- SGM101 ----

    [Fact]
    public Task SGM101_a_deleted_shipped_migration_is_reported_at_its_line() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        """
        # Released with 1.0
        1 App.Migrations.CreateUsers
        {|#0:2 App.Migrations.OldBackfill|}

        3 App.Migrations.AddIndex   # 1.1
        """,
        new DiagnosticResult(DiagnosticDescriptors.ShippedMigrationMissing).WithLocation(0)
            .WithArguments("2", "App.Migrations.OldBackfill", "Migrations.Shipped.txt", "3", string.Empty));

    [Fact]
    public Task SGM101_a_renamed_shipped_migration_names_the_method_now_at_its_order() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task LegacyBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        ThreeShipped.Replace("2 App.Migrations.OldBackfill", "{|#0:2 App.Migrations.OldBackfill|}", StringComparison.Ordinal),
        new DiagnosticResult(DiagnosticDescriptors.ShippedMigrationMissing).WithLocation(0)
            .WithArguments("2", "App.Migrations.OldBackfill", "Migrations.Shipped.txt", "3", " (order 2 is now 'App.Migrations.LegacyBackfill': renamed?)"));

    [Fact]
    public Task SGM101_moving_a_shipped_method_to_another_class_renames_it() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
        }
        public static class Moved
        {
            [Migration(Order = 2)] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        ThreeShipped
            .Replace("2 App.Migrations.OldBackfill", "{|SGM101:2 App.Migrations.OldBackfill|}", StringComparison.Ordinal)
            .Replace("3 App.Migrations.AddIndex", "{|SGM101:3 App.Migrations.AddIndex|}", StringComparison.Ordinal));

    [Fact]
    public async Task SGM101_a_shipped_migration_in_generated_code_is_found_and_nothing_is_reported_there()
    {
        var test = new ShippedAnalyzerTest(
            """
            namespace App;
            public static partial class Migrations
            {
                [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            }
            """,
            ThreeShipped.Replace("3 App.Migrations.AddIndex", "{|SGM101:3 App.Migrations.AddIndex|}", StringComparison.Ordinal));
        test.TestState.Sources.Add(("/0/Generated.g.cs", TestReferences.Usings + """
            namespace App;
            public static partial class Migrations
            {
                [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
                [Migration(Order = 0)] public static Task BelowShippedButGenerated() => Task.CompletedTask;
            }
            """));
        await test.RunAsync();
    }

    // ---- SGM102 ----

    [Fact]
    public Task SGM102_a_shipped_migration_with_another_order_is_reported_at_its_order_naming_the_shipped_one() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            private const long Base = 5;
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Enabled = false, {|#0:Order = Base + 2|})] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        ThreeShipped,
        new DiagnosticResult(DiagnosticDescriptors.ShippedOrderChanged).WithLocation(0)
            .WithArguments("App.Migrations.OldBackfill", "2", "7"));

    [Fact]
    public Task SGM102_two_shipped_migrations_swapping_orders_are_both_reported() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration({|#0:Order = 2|})] public static Task CreateUsers() => Task.CompletedTask;
            [Migration({|#1:Order = 1|})] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        ThreeShipped,
        new DiagnosticResult(DiagnosticDescriptors.ShippedOrderChanged).WithLocation(0).WithArguments("App.Migrations.CreateUsers", "1", "2"),
        new DiagnosticResult(DiagnosticDescriptors.ShippedOrderChanged).WithLocation(1).WithArguments("App.Migrations.OldBackfill", "2", "1"));

    // ---- SGM103 ----

    [Fact]
    public Task SGM103_a_new_migration_below_the_highest_shipped_order_is_reported_at_its_order() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 5)] public static Task AddIndex() => Task.CompletedTask;
            [Migration({|#0:Order = 3|})] public static Task FromAMergedBranch() => Task.CompletedTask;
            [Migration({|#1:Order = 0|}, Enabled = false)] public static Task EvenDisabled() => Task.CompletedTask;
        }
        """,
        """
        1 App.Migrations.CreateUsers
        2 App.Migrations.OldBackfill
        5 App.Migrations.AddIndex
        """,
        new DiagnosticResult(DiagnosticDescriptors.UnshippedBelowShipped).WithLocation(0).WithArguments("App.Migrations.FromAMergedBranch", "3", "5"),
        new DiagnosticResult(DiagnosticDescriptors.UnshippedBelowShipped).WithLocation(1).WithArguments("App.Migrations.EvenDisabled", "0", "5"));

    [Fact]
    public Task SGM103_not_for_a_new_migration_above_the_highest_shipped_order() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 5)] public static Task AddIndex() => Task.CompletedTask;
            [Migration(Order = 6)] public static Task {|SGM105:Next|}() => Task.CompletedTask;
        }
        """,
        """
        1 App.Migrations.CreateUsers
        2 App.Migrations.OldBackfill
        5 App.Migrations.AddIndex
        """);

    // ---- SGM104 ----

    [Fact]
    public Task SGM104_each_malformed_line_is_reported_with_its_number_and_why_and_ignored() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2)] public static Task OldBackfill() => Task.CompletedTask;
        }
        """,
        """
        1 App.Migrations.CreateUsers
        {|#0:2|}
          {|#1:two App.Migrations.OldBackfill|}   # a comment
        {|#2:-3 App.Migrations.Negative|}
        {|#3:1 App.Migrations.SameOrder|}
        {|#4:4 App.Migrations.CreateUsers|}
        {|#5:5 App.Migrations.Five and more|}
        {|#6:99999999999999999999 App.Migrations.TooBig|}
        2 App.Migrations.OldBackfill
        """,
        Malformed(0, 2, "the migration's name is missing after the order; write 'order name'"),
        Malformed(1, 3, "the order 'two' is not a whole number from 0 to 9223372036854775807; write 'order name'"),
        Malformed(2, 4, "the order '-3' is negative; orders are zero or more"),
        Malformed(3, 5, "order 1 is already listed on line 1"),
        Malformed(4, 6, "'App.Migrations.CreateUsers' is already listed on line 1"),
        Malformed(5, 7, "unexpected text 'and more' after the name; write 'order name', or 'order path sha256:<64 hex digits>' for a SQL file (comments start with '#')"),
        Malformed(6, 8, "the order '99999999999999999999' is not a whole number from 0 to 9223372036854775807; write 'order name'"));

    [Fact]
    public Task SGM104_a_malformed_line_does_not_ship_anything() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task {|SGM105:CreateUsers|}() => Task.CompletedTask;
        }
        """,
        """
        {|SGM104:1App.Migrations.CreateUsers|}
        """);

    [Fact]
    public Task SGM104_comments_blank_lines_tabs_and_CRLF_are_fine() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2)] public static Task AddIndex() => Task.CompletedTask;
        }
        """,
        "# header\r\n\r\n   \r\n1\tApp.Migrations.CreateUsers\r\n#2 App.Migrations.Commented\r\n  2   App.Migrations.AddIndex  #x\r\n");

    private static DiagnosticResult Malformed(int location, int line, string reason) =>
        new DiagnosticResult(DiagnosticDescriptors.MalformedShippedLine).WithLocation(location)
            .WithArguments("Migrations.Shipped.txt", line.ToString(System.Globalization.CultureInfo.InvariantCulture), reason);

    // ---- SGM105 ----

    [Fact]
    public Task SGM105_an_empty_file_reports_every_migration_as_not_shipped_and_nothing_else() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 0)] public static Task {|#0:First|}() => Task.CompletedTask;
            [Migration(Order = 7, Enabled = false)] public static void {|#1:Disabled|}() { }
            public static class Nested
            {
                [Migration(Order = 3)] internal static Task {|#2:Inner|}(CancellationToken cancellationToken) => Task.CompletedTask;
            }
        }
        """,
        string.Empty,
        NotShipped(0, 0, "App.Migrations.First"),
        NotShipped(1, 7, "App.Migrations.Disabled"),
        NotShipped(2, 3, "App.Migrations.Nested.Inner"));

    [Fact]
    public Task SGM105_not_for_shipped_ones_nor_for_methods_the_table_leaves_out() => VerifyAsync(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task AddIndex() => Task.CompletedTask;
            [Migration(Order = 4)] public static int WrongShape() => 0;
            [Migration(Order = 5)] private static Task Unreachable() => Task.CompletedTask;
            [Migration(Order = -1)] public static Task Negative() => Task.CompletedTask;
            [Migration] public static Task NoOrder() => Task.CompletedTask;
            [Migration(Order = 6)] public static Task {|#0:Next|}() => Task.CompletedTask;
        }
        """,
        ThreeShipped,
        NotShipped(0, 6, "App.Migrations.Next"));

    [Fact]
    public void SGM105_properties_hold_order_name_and_file()
    {
        // The fix reads these; checked on a real compilation, since the testing library does not compare properties.
        var diagnostics = ShippedCompilation.Analyze(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 4)] public static Task Next() => Task.CompletedTask;
            }
            """,
            "1 App.Migrations.Gone\n");
        var notShipped = Assert.Single(diagnostics, d => d.Id == "SGM105");
        Assert.Equal("4", notShipped.Properties[DiagnosticPropertyNames.Order]);
        Assert.Equal("App.Migrations.Next", notShipped.Properties[DiagnosticPropertyNames.FullName]);
        Assert.Equal(ShippedCompilation.Path, notShipped.Properties[DiagnosticPropertyNames.ShippedFilePath]);
        var missing = Assert.Single(diagnostics, d => d.Id == "SGM101");
        Assert.Equal(ShippedCompilation.Path, missing.Location.GetLineSpan().Path);
        Assert.Equal(0, missing.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal(2, diagnostics.Length);
    }

    private static DiagnosticResult NotShipped(int location, long order, string name) =>
        new DiagnosticResult(DiagnosticDescriptors.NotShipped).WithLocation(location)
            .WithArguments(order.ToString(System.Globalization.CultureInfo.InvariantCulture), name, "Migrations.Shipped.txt");
}
