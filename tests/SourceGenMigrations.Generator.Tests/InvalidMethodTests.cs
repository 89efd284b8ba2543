using Microsoft.CodeAnalysis;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Methods the analyzers report are left out, and never cause a compiler error in the generated file.</summary>
public sealed class InvalidMethodTests
{
    private const string InvalidMethods = SnapshotTests.Usings + """
        namespace TestProject;

        public class Invalid
        {
            [Migration(Order = 1)] public static Task Valid() => Task.CompletedTask;

            [Migration(Order = 10)] public Task Instance() => Task.CompletedTask;
            [Migration(Order = 11)] public static Task Generic<T>() => Task.CompletedTask;
            [Migration(Order = 12)] public static Task<int> ReturnsTaskOfInt() => Task.FromResult(1);
            [Migration(Order = 13)] public static int ReturnsInt() => 1;
            [Migration(Order = 14)] public static ValueTask<int> ReturnsValueTaskOfInt() => default;
            [Migration(Order = 15)] public static Task WrongParameter(string value) => Task.CompletedTask;
            [Migration(Order = 16)] public static Task ParametersSwapped(CancellationToken cancellationToken, MigrationContext context) => Task.CompletedTask;
            [Migration(Order = 17)] public static Task RefParameter(ref CancellationToken cancellationToken) => Task.CompletedTask;
            [Migration(Order = 18)] public static Task TooManyParameters(MigrationContext context, CancellationToken cancellationToken, int extra) => Task.CompletedTask;
            [Migration(Order = 19)] private static Task Private() => Task.CompletedTask;
            [Migration(Order = 20)] protected static Task Protected() => Task.CompletedTask;
            [Migration(Order = 21)] private protected static Task PrivateProtected() => Task.CompletedTask;
            [Migration(Order = -1)] public static Task NegativeOrder() => Task.CompletedTask;
            [Migration] public static Task MissingOrder() => Task.CompletedTask;
            [Migration(Enabled = false)] public static Task MissingOrderDisabled() => Task.CompletedTask;
            [Migration(Order = long.MinValue)] public static Task MinValueOrder() => Task.CompletedTask;
            [Migration(Order = 22)] public static Task OptionalParameter(CancellationToken cancellationToken = default, int extra = 0) => Task.CompletedTask;
            [Migration(Order = 23)] public static Task ParamsParameter(params CancellationToken[] tokens) => Task.CompletedTask;

            private static class PrivateNested
            {
                [Migration(Order = 30)] public static Task InPrivateType() => Task.CompletedTask;
            }

            protected static class ProtectedNested
            {
                [Migration(Order = 31)] public static Task InProtectedType() => Task.CompletedTask;
            }

            public static void WithLocalFunction()
            {
                [Migration(Order = 32)]
                static Task Local() => Task.CompletedTask;
                _ = Local();
            }
        }

        public static class Generic<T>
        {
            [Migration(Order = 40)] public static Task InGenericType() => Task.CompletedTask;

            public static class NestedInGeneric
            {
                [Migration(Order = 41)] public static Task InNestedOfGenericType() => Task.CompletedTask;
            }
        }

        file static class FileLocal
        {
            [Migration(Order = 50)] public static Task InFileClass() => Task.CompletedTask;
        }

        public interface IStaticAbstract
        {
            [Migration(Order = 60)] static abstract Task Abstract();
            [Migration(Order = 61)] static virtual Task Virtual() => Task.CompletedTask;
        }

        public abstract class Base
        {
            [Migration(Order = 70)] public abstract Task AbstractInstance();
        }

        internal static class InternalType
        {
            [Migration(Order = 2)] internal static Task AlsoValid() => Task.CompletedTask;
        }
        """;

    [Fact]
    public void InvalidMethodsAreLeftOut()
    {
        var output = GeneratorHarness.Run(InvalidMethods);

        Snapshot.Match(output.Scrubbed);
        Assert.Equal(["TestProject.Invalid.Valid", "TestProject.InternalType.AlsoValid"], GeneratedTable.Read(output.Source).Select(entry => entry.Name));
    }

    [Fact]
    public void OnlyInvalidMethodsGiveAnEmptyTableThatCompiles()
    {
        var output = GeneratorHarness.Run(SnapshotTests.Usings + """
            namespace TestProject;

            public class OnlyInvalid
            {
                [Migration(Order = 1)] public Task Instance() => Task.CompletedTask;
                [Migration] public static Task MissingOrder() => Task.CompletedTask;
            }
            """);

        Assert.Empty(GeneratedTable.Read(output.Source));
        Assert.Contains("global::System.Array.Empty<global::SourceGenMigrations.MigrationRegistration>()", output.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOrderThatDoesNotBindIsLeftToTheCompiler()
    {
        // The user's code has an error (CS0029 or similar); the generated file must add none of its own.
        var compilation = GeneratorHarness.CreateCompilation([SnapshotTests.Usings + """
            namespace TestProject;

            public static class Broken
            {
                [Migration(Order = "one")] public static Task StringOrder() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task Fine() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task Unknown(UnknownType value) => Task.CompletedTask;
                [Migration(Order = 3)] public static UnknownTask UnknownReturn() => default!;
            }
            """]);
        Assert.NotEmpty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        var generatedTree = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(GeneratorHarness.HintName, StringComparison.Ordinal));
        GeneratorHarness.AssertNoDiagnostics(output.GetDiagnostics().Where(d => d.Location.SourceTree == generatedTree), "the generated file");
        var source = generatedTree.ToString();
        Assert.Equal(["TestProject.Broken.Fine"], GeneratedTable.Read(source).Select(entry => entry.Name));
    }

    [Fact]
    public void NothingIsGeneratedWithoutTheRuntimeLibrary()
    {
        var compilation = GeneratorHarness.CreateCompilationWithoutRuntime("""
            namespace SourceGenMigrations
            {
                [System.AttributeUsage(System.AttributeTargets.Method)]
                public sealed class MigrationAttribute : System.Attribute { public long Order { get; set; } }
            }

            public static class M
            {
                [SourceGenMigrations.Migration(Order = 1)] public static void Up() { }
            }
            """);

        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);

        Assert.Empty(diagnostics);
        Assert.Empty(driver.GetRunResult().GeneratedTrees);
        GeneratorHarness.AssertNoDiagnostics(output.GetDiagnostics(), "a compilation without the runtime library");
    }
}
