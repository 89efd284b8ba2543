using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;
using SourceGenMigrations.CodeFixes;

namespace SourceGenMigrations.Analyzers.Tests;

internal sealed class MarkAsShippedTest : CSharpCodeFixTest<ShippedMigrationsAnalyzer, MarkAsShippedCodeFixProvider, DefaultVerifier>
{
    public const string ShippedPath = "/0/Migrations.Shipped.txt";

    public MarkAsShippedTest(string? source, string shipped, string fixedShipped)
    {
        ReferenceAssemblies = TestReferences.None;
        TestReferences.Apply(TestState, withRuntime: true);
        TestReferences.Apply(FixedState, withRuntime: true);
        if (source is not null)
        {
            TestState.Sources.Add(TestReferences.Usings + source);

            // The fix only edits the shipped file: the source stays as it is, without the markup.
            FixedState.Sources.Add(TestReferences.Usings + RemoveMarkup(source));
        }

        TestState.AdditionalFiles.Add((ShippedPath, shipped));
        FixedState.AdditionalFiles.Add((ShippedPath, fixedShipped));
        CodeActionEquivalenceKey = MarkAsShippedCodeFixProvider.EquivalenceKey;
    }

    public static string RemoveMarkup(string source) =>
        System.Text.RegularExpressions.Regex.Replace(source, @"\{\|(#\d+|SGM\d+):|\|\}", string.Empty);

    protected override ParseOptions CreateParseOptions() =>
        ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

public class MarkAsShippedCodeFixTests
{
    [Fact]
    public async Task Mark_as_shipped_appends_the_line_after_the_highest_shipped_order()
    {
        var test = new MarkAsShippedTest(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
                [Migration(Order = 2, Enabled = false)] public static Task OldBackfill() => Task.CompletedTask;
                [Migration(Order = 3)] public static Task {|SGM105:AddIndex|}() => Task.CompletedTask;
            }
            """,
            "# Released with 1.0\n1 App.Migrations.CreateUsers\n2 App.Migrations.OldBackfill\n",
            "# Released with 1.0\n1 App.Migrations.CreateUsers\n2 App.Migrations.OldBackfill\n3 App.Migrations.AddIndex\n");
        test.CodeActionVerifier = (CodeAction action, IVerifier verifier) => verifier.Equal("Mark as shipped", action.Title);
        await test.RunAsync();
    }

    [Fact]
    public Task Mark_as_shipped_keeps_CRLF_and_ends_an_unterminated_last_line() => new MarkAsShippedTest(
        """
        namespace App;
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
            [Migration(Order = 10)] public static Task {|SGM105:Later|}() => Task.CompletedTask;
        }
        """,
        "# header\r\n1 App.Migrations.CreateUsers",
        "# header\r\n1 App.Migrations.CreateUsers\r\n10 App.Migrations.Later\r\n").RunAsync();

    [Fact]
    public async Task Empty_file_marking_the_highest_ships_every_one_below_it_and_fix_all_too_sorted_by_order()
    {
        var test = new MarkAsShippedTest(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 10)] public static Task {|SGM105:Ten|}() => Task.CompletedTask;
                [Migration(Order = 2, Enabled = false)] public static void {|SGM105:Two|}() { }
                public static class Nested
                {
                    [Migration(Order = 3)] internal static Task {|SGM105:Three|}() => Task.CompletedTask;
                }
                [Migration(Order = 0)] public static Task {|SGM105:Zero|}() => Task.CompletedTask;
            }
            """,
            string.Empty,
            "0 App.Migrations.Zero\n2 App.Migrations.Two\n3 App.Migrations.Nested.Three\n10 App.Migrations.Ten\n");

        // The first fix (on Ten, the first in the source) ships 0, 2 and 3 with it: a database that runs 10 has run them.
        test.NumberOfIncrementalIterations = 1;
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        await test.RunAsync();
    }

    [Fact]
    public async Task Fix_all_in_the_project_marks_migrations_of_every_file_in_one_edit()
    {
        var test = new MarkAsShippedTest(source: null, "1 App.First.Shipped\n", "1 App.First.Shipped\n4 App.Second.Four\n5 App.First.Five\n");
        test.TestState.Sources.Add(("/0/First.cs", TestReferences.Usings + """
            namespace App;
            public static class First
            {
                [Migration(Order = 1)] public static Task Shipped() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task {|SGM105:Five|}() => Task.CompletedTask;
            }
            """));
        test.TestState.Sources.Add(("/0/Second.cs", TestReferences.Usings + """
            namespace App;
            public static class Second
            {
                [Migration(Order = 4)] public static Task {|SGM105:Four|}() => Task.CompletedTask;
            }
            """));
        test.FixedState.Sources.Add(("/0/First.cs", TestReferences.Usings + MarkAsShippedTest.RemoveMarkup("""
            namespace App;
            public static class First
            {
                [Migration(Order = 1)] public static Task Shipped() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task {|SGM105:Five|}() => Task.CompletedTask;
            }
            """)));
        test.FixedState.Sources.Add(("/0/Second.cs", TestReferences.Usings + """
            namespace App;
            public static class Second
            {
                [Migration(Order = 4)] public static Task Four() => Task.CompletedTask;
            }
            """));

        test.NumberOfFixAllIterations = 1;

        // Marking Five (first.cs) ships Four (second.cs) with it, so one pass whatever the scope.
        test.NumberOfIncrementalIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        await test.RunAsync();
    }

    [Fact]
    public async Task Marking_a_lower_migration_ships_only_it_and_the_next_fix_ships_the_higher_one()
    {
        var test = new MarkAsShippedTest(
            """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task {|SGM105:One|}() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task {|SGM105:Two|}() => Task.CompletedTask;
            }
            """,
            "# shipped\n",
            "# shipped\n1 App.Migrations.One\n2 App.Migrations.Two\n");

        // Fix on One (adds 1 only: Two stays SGM105 above it), then on Two; Fix All does both at once.
        test.NumberOfIncrementalIterations = 2;
        test.NumberOfFixAllIterations = 1;
        await test.RunAsync();
    }

    [Fact]
    public async Task Marking_never_sweeps_in_a_migration_below_the_highest_shipped_order()
    {
        const string Source = """
            namespace App;
            public static class Migrations
            {
                [Migration(Order = 5)] public static Task Shipped() => Task.CompletedTask;
                [Migration({|SGM103:Order = 3|})] public static Task FromAMergedBranch() => Task.CompletedTask;
                [Migration(Order = 6)] public static Task {|SGM105:Next|}() => Task.CompletedTask;
            }
            """;
        var test = new MarkAsShippedTest(source: null, "5 App.Migrations.Shipped\n", "5 App.Migrations.Shipped\n6 App.Migrations.Next\n");
        test.TestState.Sources.Add(TestReferences.Usings + Source);
        test.FixedState.Sources.Add(TestReferences.Usings + Source.Replace("{|SGM105:Next|}", "Next", StringComparison.Ordinal));
        test.NumberOfFixAllIterations = 1;
        await test.RunAsync();
    }

    [Fact]
    public void AddEntries_inserts_before_the_first_higher_order_skips_listed_ones_and_keeps_comments()
    {
        var text = SourceText.From("# 1.0\n1 A.One\n# 1.1\n5 A.Five\n# end");

        var result = ShippedMigrationsFile.AddEntries(text, [(7, "A.Seven", null), (3, "A.Three", null), (1, "A.Other", null), (2, "A.One", null), (0, "A.Zero", null), (4, "A.Four", "ab")]);

        Assert.Equal("# 1.0\n0 A.Zero\n1 A.One\n# 1.1\n3 A.Three\n4 A.Four sha256:ab\n5 A.Five\n# end\n7 A.Seven\n", result.ToString());
    }

    [Fact]
    public void AddEntries_leaves_the_text_untouched_when_everything_is_listed()
    {
        var text = SourceText.From("1 A.One\n");

        Assert.Same(text, ShippedMigrationsFile.AddEntries(text, [(1, "A.One", null)]));
    }
}
