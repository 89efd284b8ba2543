using Microsoft.CodeAnalysis.Testing;

namespace SourceGenMigrations.Analyzers.Tests;

public class NegativeAndMissingOrderTests
{
    [Fact]
    public Task A_negative_order_is_reported_at_the_order_argument() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            private const long Start = 1;
            [Migration(Enabled = false, {|#0:Order = -5|})] public static Task A() => Task.CompletedTask;
            [Migration({|SGM002:Order = Start - 2|})] public static Task B() => Task.CompletedTask;
            [Migration(Order = 0)] public static Task Zero() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.NegativeOrder).WithLocation(0).WithArguments("Migrations.A", "-5"));

    [Fact]
    public Task A_missing_order_is_reported_at_the_attribute() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            [{|#0:Migration|}] public static Task A() => Task.CompletedTask;
            [{|SGM003:Migration(Enabled = false)|}] public static Task B() => Task.CompletedTask;
            [{|SGM003:MigrationAttribute()|}] public static Task C() => Task.CompletedTask;
            [Obsolete, {|SGM003:SourceGenMigrations.Migration|}] public static Task D() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.MissingOrder).WithLocation(0).WithArguments("Migrations.A"));
}

public class UnsupportedSignatureTests
{
    [Fact]
    public Task Instance_abstract_and_virtual_methods_are_reported_at_the_name() => Verify.AnalyzerAsync(
        """
        public abstract class Migrations
        {
            [Migration(Order = 1)] public Task {|#0:Instance|}() => Task.CompletedTask;
            [Migration(Order = 2)] public abstract Task {|SGM004:Abstract|}();
            [Migration(Order = 3)] public virtual Task {|SGM004:Virtual|}() => Task.CompletedTask;
        }

        public interface IMigrations
        {
            [Migration(Order = 4)] static abstract Task {|SGM004:StaticAbstract|}();
            [Migration(Order = 5)] static Task InterfaceStatic() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(0).WithArguments("Migrations.Instance", "it must be static"));

    [Fact]
    public Task Generic_methods_are_reported() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task {|#0:Generic|}<T>() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(0).WithArguments("Migrations.Generic", "it must not be generic"));

    [Fact]
    public Task Wrong_return_types_are_reported() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task<int> {|#0:ReturnsTaskOfInt|}() => Task.FromResult(1);
            [Migration(Order = 2)] public static int {|SGM004:ReturnsInt|}() => 1;
            [Migration(Order = 3)] public static ValueTask<bool> {|SGM004:ReturnsValueTaskOfBool|}() => default;
            [Migration(Order = 4)] public static async System.Collections.Generic.IAsyncEnumerable<int> {|SGM004:ReturnsAsyncEnumerable|}() { await Task.Yield(); yield return 1; }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(0).WithArguments("Migrations.ReturnsTaskOfInt", "it must return Task, ValueTask or void, not Task<int>"));

    [Fact]
    public Task Wrong_parameters_are_reported() => Verify.AnalyzerAsync("""
        public static class Migrations
        {
            [Migration(Order = 1)] public static Task {|SGM004:TakesString|}(string name) => Task.CompletedTask;
            [Migration(Order = 2)] public static Task {|SGM004:Reversed|}(CancellationToken cancellationToken, MigrationContext context) => Task.CompletedTask;
            [Migration(Order = 3)] public static Task {|SGM004:ByRef|}(ref CancellationToken cancellationToken) => Task.CompletedTask;
            [Migration(Order = 4)] public static Task {|SGM004:ByIn|}(in CancellationToken cancellationToken) => Task.CompletedTask;
            [Migration(Order = 5)] public static Task {|SGM004:Params|}(params MigrationContext[] contexts) => Task.CompletedTask;
            [Migration(Order = 6)] public static Task {|SGM004:TwoTokens|}(CancellationToken a, CancellationToken b) => Task.CompletedTask;
            [Migration(Order = 7)] public static Task {|SGM004:Three|}(MigrationContext context, CancellationToken cancellationToken, int extra) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Several_problems_are_listed_in_one_diagnostic() => Verify.AnalyzerAsync(
        """
        public class Migrations
        {
            [Migration(Order = 1)] public Task<int> {|#0:Everything|}<T>(string s) => Task.FromResult(1);
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(0).WithArguments(
            "Migrations.Everything",
            "it must be static; it must not be generic; it must return Task, ValueTask or void, not Task<int>; it must take (), (CancellationToken), (MigrationContext) or (MigrationContext, CancellationToken), without ref, in, out or params"));

    [Fact]
    public Task A_local_function_is_reported_at_its_name_and_a_lambda_at_its_attribute() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            [Migration(Order = 1)]
            public static Task Outer()
            {
                [Migration(Order = 2)] static Task {|#0:Local|}() => Task.CompletedTask;
                Func<Task> lambda = [{|#1:Migration(Order = 3)|}] () => Task.CompletedTask;
                Func<CancellationToken, Task> simple = [{|SGM004:Migration|}] (cancellationToken) => Task.CompletedTask;
                Func<Task> plain = [Obsolete] () => Task.CompletedTask;
                return Local();
            }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(0).WithArguments("Local", "[Migration] is supported on ordinary methods only, not on a local function"),
        Verify.Diagnostic(DiagnosticDescriptors.UnsupportedSignature).WithLocation(1).WithArguments("lambda", "[Migration] is supported on ordinary methods only, not on a lambda"));

    [Fact]
    public Task Local_functions_and_lambdas_take_part_in_no_order_check() => Verify.AnalyzerAsync("""
        public static class Migrations
        {
            [Migration(Order = 1)]
            public static Task Outer()
            {
                [Migration(Order = 1)] static Task {|SGM004:Local|}() => Task.CompletedTask;
                Func<Task> lambda = [{|SGM004:Migration(Order = 1)|}] () => Task.CompletedTask;
                return Local();
            }
        }
        """);

    [Fact]
    public Task An_accessor_is_reported() => Verify.AnalyzerAsync("""
        public static class Migrations
        {
            public static Task Property { [Migration(Order = 1)] {|SGM004:get|} => Task.CompletedTask; }
        }
        """);
}

public class UnreachableTests
{
    private static DiagnosticResult Unreachable(int location, string method, string reason) =>
        Verify.Diagnostic(DiagnosticDescriptors.Unreachable).WithLocation(location).WithArguments(method, reason);

    [Fact]
    public Task Private_and_protected_methods_are_reported_at_the_name() => Verify.AnalyzerAsync(
        """
        public class Migrations
        {
            [Migration(Order = 1)] private static Task {|#0:Private|}() => Task.CompletedTask;
            [Migration(Order = 2)] protected static Task {|#1:Protected|}() => Task.CompletedTask;
            [Migration(Order = 3)] private protected static Task {|SGM005:PrivateProtected|}() => Task.CompletedTask;
            [Migration(Order = 4)] static Task {|SGM005:DefaultAccess|}() => Task.CompletedTask;
            [Migration(Order = 5)] protected internal static Task ProtectedInternal() => Task.CompletedTask;
        }
        """,
        Unreachable(0, "Migrations.Private", "the method is private; make it public or internal"),
        Unreachable(1, "Migrations.Protected", "the method is protected; make it public or internal"));

    [Fact]
    public Task Private_protected_file_and_generic_containing_types_are_reported() => Verify.AnalyzerAsync(
        """
        public class Outer
        {
            private static class PrivateNested
            {
                [Migration(Order = 1)] public static Task {|#0:A|}() => Task.CompletedTask;
            }

            protected static class ProtectedNested
            {
                [Migration(Order = 2)] public static Task {|SGM005:B|}() => Task.CompletedTask;
            }

            internal static class Reachable
            {
                private class DeeplyPrivate
                {
                    [Migration(Order = 3)] public static Task {|SGM005:C|}() => Task.CompletedTask;
                }
            }
        }

        file static class FileLocal
        {
            [Migration(Order = 4)] public static Task {|#1:D|}() => Task.CompletedTask;
        }

        public static class Generic<T>
        {
            [Migration(Order = 5)] public static Task {|#2:E|}() => Task.CompletedTask;

            public static class NestedInGeneric
            {
                [Migration(Order = 6)] public static Task {|SGM005:F|}() => Task.CompletedTask;
            }
        }
        """,
        Unreachable(0, "Outer.PrivateNested.A", "the containing type 'Outer.PrivateNested' is private; make it public or internal"),
        Unreachable(1, "FileLocal.D", "the containing type 'FileLocal' is file-local"),
        Unreachable(2, "Generic<T>.E", "the containing type 'Generic<T>' is generic"));

    [Fact]
    public Task An_unsupported_and_unreachable_method_gets_both() => Verify.AnalyzerAsync("""
        public class Migrations
        {
            [Migration(Order = 1)] private Task {|SGM004:{|SGM005:Both|}|}() => Task.CompletedTask;
        }
        """);
}

public class AsyncVoidTests
{
    [Fact]
    public Task Async_void_is_a_warning_at_the_name() => Verify.AnalyzerAsync(
        """
        public static class Migrations
        {
            [Migration(Order = 1)] public static async void {|#0:FireAndForget|}() => await Task.Yield();
            [Migration(Order = 2)] public static async Task Awaited() => await Task.Yield();
            [Migration(Order = 3)] public static void Synchronous() { }
            [Migration(Order = 4)] public static async ValueTask AwaitedValueTask() => await Task.Yield();
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.AsyncVoid).WithLocation(0).WithArguments("Migrations.FireAndForget"));

    [Fact]
    public Task Async_void_with_an_unsupported_signature_gets_only_the_error() => Verify.AnalyzerAsync("""
        public class Migrations
        {
            [Migration(Order = 1)] public async void {|SGM004:Instance|}() => await Task.Yield();
        }
        """);
}
