namespace SourceGenMigrations.Analyzers.Tests;

public class ValidCodeTests
{
    [Fact]
    public Task Every_accepted_shape_reports_nothing() => Verify.AnalyzerAsync("""
        namespace App
        {
            public static class Migrations
            {
                [Migration(Order = 0)] public static Task A() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task B(CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 2)] public static Task C(MigrationContext context) => Task.CompletedTask;
                [Migration(Order = 3)] public static async Task D(MigrationContext context, CancellationToken cancellationToken) => await Task.Yield();
                [Migration(Order = 4)] public static ValueTask E() => default;
                [Migration(Order = 5)] public static void F() { }
                [Migration(Order = 6, Enabled = false)] public static void G(CancellationToken cancellationToken) { }
                [Migration(Order = 7, Enabled = true)] internal static ValueTask H(MigrationContext context, CancellationToken cancellationToken) => default;
                [Migration(Order = long.MaxValue)] public static void Last() { }

                public class Nested
                {
                    [Migration(Order = 8)] protected internal static void I() { }
                }
            }

            internal sealed class Instance
            {
                [Migration(Order = 9)] public static Task J() => Task.CompletedTask;
            }

            public struct InStruct
            {
                [Migration(Order = 10)] public static Task K() => Task.CompletedTask;
            }

            public partial class Partial
            {
                [Migration(Order = 11)] public static partial Task L(CancellationToken cancellationToken);
            }

            public partial class Partial
            {
                public static partial Task L(CancellationToken cancellationToken) => Task.CompletedTask;
            }
        }

        public static class InGlobalNamespace
        {
            [Migration(Order = 12)] public static Task M() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Methods_without_the_attribute_are_ignored() => Verify.AnalyzerAsync("""
        public class Plain
        {
            private Task<int> Instance<T>(ref int x) => Task.FromResult(x);
            private static async void Handler() => await Task.Yield();
        }
        """);

    [Fact]
    public async Task Nothing_is_reported_when_the_attribute_type_is_absent()
    {
        // No runtime library: a look-alike attribute in another namespace with every mistake on it.
        var test = new AnalyzerTest(withRuntime: false)
        {
            TestCode = """
                using System;
                using System.Threading.Tasks;

                namespace Other
                {
                    [AttributeUsage(AttributeTargets.Method)]
                    public sealed class MigrationAttribute : Attribute
                    {
                        public long Order { get; set; }
                    }

                    public class Migrations
                    {
                        [Migration(Order = 1)] public static Task A() => Task.CompletedTask;
                        [Migration(Order = 1)] public static Task B() => Task.CompletedTask;
                        [Migration(Order = -1)] private Task<int> C() => Task.FromResult(1);
                        [Migration] public static async void D() => await Task.Yield();
                    }
                }
                """,
        };
        await test.RunAsync();
    }

    [Fact]
    public async Task An_order_the_compiler_rejects_gets_no_further_diagnostic()
    {
        var test = new AnalyzerTest
        {
            TestCode = TestReferences.Usings + """
                public class Migrations
                {
                    [Migration(Order = {|CS0029:"one"|})] public static Task A() => Task.CompletedTask;
                    [{|CS1729:Migration(1)|}] private Task<int> B() => Task.FromResult(1);
                    [Migration(Order = 2)] public static Task C() => Task.CompletedTask;
                }
                """,
        };
        await test.RunAsync();
    }
}
