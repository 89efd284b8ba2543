using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.Testing;
using SourceGenMigrations.CodeFixes;

namespace SourceGenMigrations.Analyzers.Tests;

public class CodeFixTests
{
    private static CodeFixTest Test(string source, string fixedSource, string? expectedTitle = null, string? equivalenceKey = null)
    {
        var test = new CodeFixTest
        {
            TestCode = TestReferences.Usings + source,
            FixedCode = TestReferences.Usings + fixedSource,
            CodeActionEquivalenceKey = equivalenceKey,
        };
        if (expectedTitle is not null)
        {
            test.CodeActionVerifier = (CodeAction action, IVerifier verifier) => verifier.Equal(expectedTitle, action.Title);
        }

        return test;
    }

    [Fact]
    public Task Duplicate_order_is_replaced_by_the_next_free_order() => Test(
        """
        public static class Migrations
        {
            private const long Base = 6;
            [Migration({|SGM001:Order = Base + 1|}, Enabled = false)] public static Task A() => Task.CompletedTask;
            [Migration({|SGM001:Order = 7|})] public static Task B() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task C() => Task.CompletedTask;
        }
        """,
        """
        public static class Migrations
        {
            private const long Base = 6;
            [Migration(Order = 8, Enabled = false)] public static Task A() => Task.CompletedTask;
            [Migration(Order = 7)] public static Task B() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task C() => Task.CompletedTask;
        }
        """,
        expectedTitle: "Use the next free order (8)",
        equivalenceKey: UseNextFreeOrderCodeFixProvider.ReplaceOrderEquivalenceKey).RunAsync();

    [Fact]
    public async Task A_three_way_duplicate_is_renumbered_one_fix_at_a_time()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [Migration({|SGM001:Order = 1|})] public static Task A() => Task.CompletedTask;
                [Migration({|SGM001:Order = 1|})] public static Task B() => Task.CompletedTask;
                [Migration({|SGM001:Order = 1|})] public static Task C() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = 2)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 3)] public static Task B() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task C() => Task.CompletedTask;
            }
            """);

        // First fix: A → 2 (B and C still collide); second fix: B → 3; then nothing is left to fix.
        test.NumberOfIncrementalIterations = 2;
        await test.RunAsync();
    }

    [Fact]
    public Task The_next_free_order_spans_files()
    {
        var test = new CodeFixTest();
        test.TestState.Sources.Add(("A.cs", TestReferences.Usings + """
            public static class A
            {
                [Migration({|SGM001:Order = 5|})] public static Task One() => Task.CompletedTask;
                [Migration({|SGM001:Order = 5|})] public static Task Two() => Task.CompletedTask;
            }
            """));
        test.TestState.Sources.Add(("B.cs", TestReferences.Usings + """
            namespace Elsewhere;
            internal static class B
            {
                [Migration(Order = 41)] public static void Far() { }
            }
            """));
        test.FixedState.Sources.Add(("A.cs", TestReferences.Usings + """
            public static class A
            {
                [Migration(Order = 42)] public static Task One() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task Two() => Task.CompletedTask;
            }
            """));
        test.FixedState.Sources.Add(("B.cs", TestReferences.Usings + """
            namespace Elsewhere;
            internal static class B
            {
                [Migration(Order = 41)] public static void Far() { }
            }
            """));
        return test.RunAsync();
    }

    [Fact]
    public Task Missing_order_is_added_to_an_attribute_without_arguments() => Test(
        """
        public static class Migrations
        {
            [Migration(Order = 2)] public static Task A() => Task.CompletedTask;
            [{|SGM003:Migration|}] public static Task B() => Task.CompletedTask;
        }
        """,
        """
        public static class Migrations
        {
            [Migration(Order = 2)] public static Task A() => Task.CompletedTask;
            [Migration(Order = 3)] public static Task B() => Task.CompletedTask;
        }
        """,
        expectedTitle: "Use the next free order (3)",
        equivalenceKey: UseNextFreeOrderCodeFixProvider.AddOrderEquivalenceKey).RunAsync();

    [Fact]
    public Task Missing_order_is_added_before_other_arguments_and_into_empty_parentheses() => Test(
        """
        public static class Migrations
        {
            [{|SGM003:Migration(Enabled = false)|}] public static Task A() => Task.CompletedTask;
            [{|SGM003:MigrationAttribute()|}] public static Task B() => Task.CompletedTask;
        }
        """,
        """
        public static class Migrations
        {
            [Migration(Order = 0, Enabled = false)] public static Task A() => Task.CompletedTask;
            [MigrationAttribute(Order = 1)] public static Task B() => Task.CompletedTask;
        }
        """).RunAsync();

    [Fact]
    public Task No_fix_is_offered_when_no_order_is_left()
    {
        var test = Test(
            """
            public static class Migrations
            {
                [Migration(Order = long.MaxValue)] public static Task A() => Task.CompletedTask;
                [{|SGM003:Migration|}] public static Task B() => Task.CompletedTask;
            }
            """,
            """
            public static class Migrations
            {
                [Migration(Order = long.MaxValue)] public static Task A() => Task.CompletedTask;
                [{|SGM003:Migration|}] public static Task B() => Task.CompletedTask;
            }
            """);
        return test.RunAsync();
    }
}
