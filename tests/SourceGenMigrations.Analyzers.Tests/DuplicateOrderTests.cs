using Microsoft.CodeAnalysis.Testing;

namespace SourceGenMigrations.Analyzers.Tests;

public class DuplicateOrderTests
{
    private static DiagnosticResult Duplicate(int location, long order, string method, string others) =>
        Verify.Diagnostic(DiagnosticDescriptors.DuplicateOrder).WithLocation(location).WithArguments(order.ToString(System.Globalization.CultureInfo.InvariantCulture), method, others);

    [Fact]
    public Task Two_methods_in_one_class_are_both_reported_at_their_order_naming_the_other() => Verify.AnalyzerAsync(
        """
        namespace App;

        public static class Migrations
        {
            [Migration({|#0:Order = 1|})] public static Task A() => Task.CompletedTask;
            [Migration(Enabled = true, {|#1:Order = 1|})] public static Task B() => Task.CompletedTask;
            [Migration(Order = 2)] public static Task C() => Task.CompletedTask;
        }
        """,
        Duplicate(0, 1, "App.Migrations.A", "'App.Migrations.B'"),
        Duplicate(1, 1, "App.Migrations.B", "'App.Migrations.A'"));

    [Fact]
    public Task A_disabled_migration_still_holds_its_order() => Verify.AnalyzerAsync("""
        public static class Migrations
        {
            [Migration({|SGM001:Order = 3|}, Enabled = false)] public static Task Old() => Task.CompletedTask;
            [Migration({|SGM001:Order = 3|})] public static Task New() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Orders_are_compared_by_constant_value() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            public const long Base = 1;
            private const int Two = 2;

            [Migration({|#0:Order = 2|})] public static Task A() => Task.CompletedTask;
            [Migration({|#1:Order = Base + 1|})] public static Task B() => Task.CompletedTask;
            [Migration({|#2:Order = Two|})] public static Task C() => Task.CompletedTask;
            [Migration(Order = 0x10)] public static Task D() => Task.CompletedTask;
            [Migration(Order = 17)] public static Task E() => Task.CompletedTask;
        }
        """,
        Duplicate(0, 2, "Migrations.A", "'Migrations.B', 'Migrations.C'"),
        Duplicate(1, 2, "Migrations.B", "'Migrations.A', 'Migrations.C'"),
        Duplicate(2, 2, "Migrations.C", "'Migrations.A', 'Migrations.B'"));

    [Fact]
    public async Task Duplicates_across_files_namespaces_and_partial_classes_are_all_reported()
    {
        var test = new AnalyzerTest();
        test.TestState.Sources.Add(("First.cs", TestReferences.Usings + """
            namespace One
            {
                public static partial class Migrations
                {
                    [Migration({|#0:Order = 5|})] public static Task InFirstPart() => Task.CompletedTask;
                }
            }
            """));
        test.TestState.Sources.Add(("Second.cs", TestReferences.Usings + """
            namespace One
            {
                public static partial class Migrations
                {
                    [Migration({|#1:Order = 5|})] public static Task InSecondPart() => Task.CompletedTask;
                }
            }
            """));
        test.TestState.Sources.Add(("Third.cs", TestReferences.Usings + """
            namespace Two.Deeper
            {
                internal static class Outer
                {
                    public static class Inner
                    {
                        [Migration({|#2:Order = 5|})] public static void Nested() { }
                    }
                }
            }
            """));
        test.ExpectedDiagnostics.Add(Duplicate(0, 5, "One.Migrations.InFirstPart", "'One.Migrations.InSecondPart', 'Two.Deeper.Outer.Inner.Nested'"));
        test.ExpectedDiagnostics.Add(Duplicate(1, 5, "One.Migrations.InSecondPart", "'One.Migrations.InFirstPart', 'Two.Deeper.Outer.Inner.Nested'"));
        test.ExpectedDiagnostics.Add(Duplicate(2, 5, "Two.Deeper.Outer.Inner.Nested", "'One.Migrations.InFirstPart', 'One.Migrations.InSecondPart'"));
        await test.RunAsync();
    }

    [Fact]
    public Task A_partial_method_counts_once() => Verify.AnalyzerAsync("""
        public static partial class Migrations
        {
            [Migration(Order = 1)] public static partial Task Defined();
            public static partial Task Defined() => Task.CompletedTask;

            public static partial Task ImplementedWithTheAttribute();
            [Migration(Order = 2)] public static partial Task ImplementedWithTheAttribute() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task A_partial_method_and_another_method_on_one_order_are_reported_once_each() => Verify.AnalyzerAsync(
        """
        public static partial class Migrations
        {
            [Migration({|#0:Order = 1|})] public static partial Task Defined();
            public static partial Task Defined() => Task.CompletedTask;

            [Migration({|#1:Order = 1|})] public static Task Other() => Task.CompletedTask;
        }
        """,
        Duplicate(0, 1, "Migrations.Defined", "'Migrations.Other'"),
        Duplicate(1, 1, "Migrations.Other", "'Migrations.Defined'"));

    [Fact]
    public Task Methods_with_other_errors_still_hold_their_order() => Verify.AnalyzerAsync("""
        public class Migrations
        {
            [Migration({|SGM001:Order = 4|})] public static Task Good() => Task.CompletedTask;
            [Migration({|SGM001:Order = 4|})] public Task {|SGM004:Instance|}() => Task.CompletedTask;
            [Migration({|SGM001:Order = 4|})] private static Task {|SGM005:Hidden|}() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Negative_duplicates_are_reported_as_negative_only() => Verify.AnalyzerAsync("""
        public static class Migrations
        {
            [Migration({|SGM002:Order = -1|})] public static Task A() => Task.CompletedTask;
            [Migration({|SGM002:Order = -1|})] public static Task B() => Task.CompletedTask;
        }
        """);
}
