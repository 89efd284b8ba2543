using Microsoft.CodeAnalysis.Testing;
using SourceGenMigrations.CodeFixes;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>
/// Fix All of "use the next free order" (document, project and solution scopes, each checked by the testing library):
/// consecutive orders from the highest + 1, one member of each duplicate group keeps its order (a shipped one if any).
/// <c>FixedCode</c> is what single fixes give one at a time; <c>BatchFixedCode</c> what Fix All gives at once.
/// </summary>
public sealed class FixAllTests
{
    private static CodeFixTest Test(string source, string fixedOneByOne, string fixedAll, string equivalenceKey)
    {
        var test = new CodeFixTest
        {
            TestCode = TestReferences.Usings + source,
            FixedCode = TestReferences.Usings + fixedOneByOne,
            BatchFixedCode = TestReferences.Usings + fixedAll,
            CodeActionEquivalenceKey = equivalenceKey,
            NumberOfFixAllIterations = 1,
            NumberOfFixAllInDocumentIterations = 1,
        };

        // SGM001 and SGM003 are compilation-end diagnostics (see CodeFixTest); the Fix All is checked here.
        test.CodeFixTestBehaviors = CodeFixTestBehaviors.SkipLocalDiagnosticCheck;
        return test;
    }

    [Fact]
    public async Task Duplicates_get_consecutive_orders_and_the_first_of_each_group_by_name_keeps_its_own()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [Migration({|SGM001:Order = 1|})] public static Task C() => Task.CompletedTask;
                [Migration({|SGM001:Order = 1|})] public static Task A() => Task.CompletedTask;
                [Migration({|SGM001:Order = 1|})] public static Task B() => Task.CompletedTask;
                [Migration({|SGM001:Order = 4|})] public static Task D() => Task.CompletedTask;
                [Migration({|SGM001:Order = 4|}, Enabled = false)] public static Task E() => Task.CompletedTask;
                [Migration(Order = 6)] public static Task F() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 7)] public static Task C() => Task.CompletedTask;
                [Migration(Order = 8)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task B() => Task.CompletedTask;
                [Migration(Order = 9)] public static Task D() => Task.CompletedTask;
                [Migration(Order = 4, Enabled = false)] public static Task E() => Task.CompletedTask;
                [Migration(Order = 6)] public static Task F() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 7)] public static Task C() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 8)] public static Task B() => Task.CompletedTask;
                [Migration(Order = 4)] public static Task D() => Task.CompletedTask;
                [Migration(Order = 9, Enabled = false)] public static Task E() => Task.CompletedTask;
                [Migration(Order = 6)] public static Task F() => Task.CompletedTask;
            }
            """,
            UseNextFreeOrderCodeFixProvider.ReplaceOrderEquivalenceKey);

        test.NumberOfIncrementalIterations = 3;
        await test.RunAsync();
    }

    [Fact]
    public async Task New_orders_go_above_the_SQL_file_migrations_too()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [Migration({|SGM001:Order = 1|})] public static Task C() => Task.CompletedTask;
                [Migration({|SGM001:Order = 1|})] public static Task A() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task B() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 11)] public static Task C() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task B() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 11)] public static Task C() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task B() => Task.CompletedTask;
            }
            """,
            UseNextFreeOrderCodeFixProvider.ReplaceOrderEquivalenceKey);

        // A SQL-file migration at order 10 (one order space with the methods), seen by the analyzer and the Fix All alike.
        foreach (var state in new[] { test.TestState, test.FixedState, test.BatchFixedState })
        {
            state.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.MSBuildProjectDirectory = /0\n"));
            state.AdditionalFiles.Add(("/0/Migrations/0010_create_notes.sql", "CREATE TABLE notes (id int);\n"));
        }

        await test.RunAsync();
    }

    [Fact]
    public async Task The_shipped_member_of_a_duplicate_group_keeps_its_order()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [Migration({|SGM001:Order = 2|})] public static Task A() => Task.CompletedTask;
                [Migration({|SGM001:Order = 2|})] public static Task Shipped() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 3)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task Shipped() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 3)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task Shipped() => Task.CompletedTask;
            }
            """,
            UseNextFreeOrderCodeFixProvider.ReplaceOrderEquivalenceKey);

        // By name A would keep 2; the shipped list says Shipped has it (it is in databases already).
        test.TestState.AdditionalFiles.Add((MarkAsShippedTest.ShippedPath, "2 Migrations.Shipped\n"));
        test.FixedState.AdditionalFiles.Add((MarkAsShippedTest.ShippedPath, "2 Migrations.Shipped\n"));
        test.BatchFixedState.AdditionalFiles.Add((MarkAsShippedTest.ShippedPath, "2 Migrations.Shipped\n"));
        await test.RunAsync();
    }

    [Fact]
    public async Task Missing_orders_get_consecutive_orders_in_source_order()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [{|SGM003:Migration|}] public static Task B() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task Five() => Task.CompletedTask;
                [{|SGM003:Migration(Enabled = false)|}] public static Task A() => Task.CompletedTask;
                [{|SGM003:Migration()|}] public static Task C() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 6)] public static Task B() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task Five() => Task.CompletedTask;
                [Migration(Order = 7, Enabled = false)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 8)] public static Task C() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 6)] public static Task B() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task Five() => Task.CompletedTask;
                [Migration(Order = 7, Enabled = false)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 8)] public static Task C() => Task.CompletedTask;
            }
            """,
            UseNextFreeOrderCodeFixProvider.AddOrderEquivalenceKey);

        test.NumberOfIncrementalIterations = 3;
        await test.RunAsync();
    }
}
