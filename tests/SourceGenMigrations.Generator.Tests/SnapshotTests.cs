namespace SourceGenMigrations.Generator.Tests;

/// <summary>The generated source for each kind of input, against approved files in Snapshots/.</summary>
public sealed class SnapshotTests
{
    internal const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using SourceGenMigrations;

        """;

    [Fact]
    public void NoMigrations()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class NotMigrations
            {
                public static Task Helper() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void EveryReturnTypeAndParameterShape()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Shapes
            {
                [Migration(Order = 1)] public static Task TaskNone() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task TaskToken(CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 3)] public static Task TaskContext(MigrationContext context) => Task.CompletedTask;
                [Migration(Order = 4)] public static Task TaskContextToken(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 5)] public static ValueTask ValueTaskNone() => default;
                [Migration(Order = 6)] public static ValueTask ValueTaskToken(CancellationToken cancellationToken) => default;
                [Migration(Order = 7)] public static ValueTask ValueTaskContext(MigrationContext context) => default;
                [Migration(Order = 8)] public static ValueTask ValueTaskContextToken(MigrationContext context, CancellationToken cancellationToken) => default;
                [Migration(Order = 9)] public static void VoidNone() { }
                [Migration(Order = 10)] public static void VoidToken(CancellationToken cancellationToken) { }
                [Migration(Order = 11)] public static void VoidContext(MigrationContext context) { }
                [Migration(Order = 12)] public static void VoidContextToken(MigrationContext context, CancellationToken cancellationToken) { }
                [Migration(Order = 13)] public static async Task AsyncTask(CancellationToken cancellationToken) => await Task.Delay(0, cancellationToken);
                [Migration(Order = 14)] public static async ValueTask AsyncValueTask() => await Task.Yield();
                [Migration(Order = 15)] public static async void AsyncVoid() => await Task.Yield();
                [Migration(Order = 16)] internal static Task InternalMethod() => Task.CompletedTask;
                [Obsolete("superseded")]
                [Migration(Order = 18)] public static Task ObsoleteMethod() => Task.CompletedTask;
            }

            public class NotStatic
            {
                [Migration(Order = 17)] protected internal static Task ProtectedInternalMethod() => Task.CompletedTask;
            }

            public struct InAStruct
            {
                [Migration(Order = 19)] public static Task Method() => Task.CompletedTask;
            }

            public interface IInAnInterface
            {
                [Migration(Order = 20)] public static Task Method() => Task.CompletedTask;
            }

            public record InARecord
            {
                [Migration(Order = 21)] public static Task Method() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void NestedAndPartialClassesAcrossFiles()
    {
        var output = GeneratorHarness.Run(
            Usings + """
            namespace TestProject;

            public static partial class Migrations
            {
                [Migration(Order = 1)] public static Task InFirstFile() => Task.CompletedTask;

                public static partial class Nested
                {
                    internal static class Deeper
                    {
                        [Migration(Order = 4)] public static Task Deepest() => Task.CompletedTask;
                    }
                }

                [Migration(Order = 5)]
                public static partial Task PartialMethod(CancellationToken cancellationToken);
            }
            """,
            Usings + """
            namespace TestProject;

            public static partial class Migrations
            {
                [Migration(Order = 2)] public static Task InSecondFile() => Task.CompletedTask;

                public static partial class Nested
                {
                    [Migration(Order = 3)] public static Task InNested() => Task.CompletedTask;
                }

                public static partial Task PartialMethod(CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void FileScopedBlockAndGlobalNamespaces()
    {
        var output = GeneratorHarness.Run(
            Usings + """
            namespace FileScoped.Namespace;

            public static class Migrations
            {
                [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            }
            """,
            Usings + """
            namespace Block
            {
                namespace Inner
                {
                    public static class Migrations
                    {
                        [Migration(Order = 2)] public static Task Second() => Task.CompletedTask;
                    }
                }
            }

            namespace Block.Dotted
            {
                public static class Migrations
                {
                    [Migration(Order = 3)] public static Task Third() => Task.CompletedTask;
                }
            }
            """,
            Usings + """
            public static class GlobalMigrations
            {
                [Migration(Order = 4)] public static Task Fourth() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void QualifiedAndAliasedAttributes()
    {
        var output = GeneratorHarness.Run(
            """
            using System.Threading.Tasks;
            using M = SourceGenMigrations.MigrationAttribute;
            using Mig = SourceGenMigrations;

            namespace TestProject;

            public static class Spellings
            {
                [M(Order = 1)] public static Task Alias() => Task.CompletedTask;
                [global::SourceGenMigrations.Migration(Order = 2)] public static Task GlobalQualified() => Task.CompletedTask;
                [SourceGenMigrations.MigrationAttribute(Order = 3)] public static Task QualifiedWithSuffix() => Task.CompletedTask;
                [Mig::Migration(Order = 4)] public static Task NamespaceAlias() => Task.CompletedTask;
            }
            """,
            """
            global using GlobalM = SourceGenMigrations.MigrationAttribute;
            """,
            """
            using System.Threading.Tasks;

            namespace TestProject;

            public static class GlobalAlias
            {
                [GlobalM(Order = 5)] public static Task ThroughGlobalUsing() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void ConstantExpressionOrdersAndLongMaxValue()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Orders
            {
                public const long Base = 100;
                internal const int Small = 7;

                [Migration(Order = Base + 1)] public static Task BasePlusOne() => Task.CompletedTask;
                [Migration(Order = 1L)] public static Task LongLiteral() => Task.CompletedTask;
                [Migration(Order = 0)] public static Task Zero() => Task.CompletedTask;
                [Migration(Order = Small * 2)] public static Task IntConstantTimesTwo() => Task.CompletedTask;
                [Migration(Order = OtherConstants.Far)] public static Task FromAnotherType() => Task.CompletedTask;
                [Migration(Order = long.MaxValue)] public static Task Last() => Task.CompletedTask;
                [Migration(Order = 0x10)] public static Task Hex() => Task.CompletedTask;
                [Migration(Order = 1_000_000_000_000)] public static Task Big() => Task.CompletedTask;
            }

            public static class OtherConstants
            {
                public const long Far = 4_000_000_000;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void DisabledMigrations()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Toggles
            {
                private const bool Off = false;

                [Migration(Order = 1, Enabled = true)] public static Task ExplicitlyEnabled() => Task.CompletedTask;
                [Migration(Order = 2, Enabled = false)] public static Task Disabled() => Task.CompletedTask;
                [Migration(Enabled = false, Order = 3)] public static Task DisabledFirstArgument() => Task.CompletedTask;
                [Migration(Order = 4, Enabled = Off)] public static Task DisabledByConstant() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task EnabledByDefault() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void NonTransactionalMigrations()
    {
        // Only a non-transactional migration gets the fifth argument: the others stay exactly as before Transactional existed.
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Transactions
            {
                private const bool Concurrently = false;

                [Migration(Order = 1, Transactional = true)] public static Task ExplicitlyTransactional(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 2, Transactional = false)] public static Task NotTransactional(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Transactional = false, Order = 3)] public static void NotTransactionalFirstArgument() { }
                [Migration(Order = 4, Transactional = Concurrently, Enabled = false)] public static Task DisabledAndNotTransactionalByConstant(CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 5)] public static Task TransactionalByDefault() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void MigrationsThatBreakOlderBuilds()
    {
        // BreaksOlderBuilds is the sixth argument: a breaking transactional migration spells out the fifth, `true`.
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Deployments
            {
                [Migration(Order = 1)] public static Task Additive() => Task.CompletedTask;
                [Migration(Order = 2, BreaksOlderBuilds = true)] public static Task DropLegacyColumn(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 3, BreaksOlderBuilds = true, Transactional = false)] public static Task RenameConcurrently(CancellationToken cancellationToken) => Task.CompletedTask;
                [Migration(Order = 4, BreaksOlderBuilds = false)] public static Task NotBreakingSaidAloud() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void KeywordNamedIdentifiers()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace @class.@namespace;

            public static class @event
            {
                [Migration(Order = 1)] public static Task @for() => Task.CompletedTask;

                public static class @static
                {
                    [Migration(Order = 2)] public static void @return(MigrationContext @context, CancellationToken @cancellationToken) { }
                }

                [Migration(Order = 3)] public static Task async() => Task.CompletedTask;
                [Migration(Order = 4)] public static Task @await() => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void SortsByOrderThenFullNameOrdinal()
    {
        var output = GeneratorHarness.Run(Usings + """
            namespace TestProject;

            public static class Zeta
            {
                [Migration(Order = 2)] public static Task Same() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            }

            public static class alpha
            {
                [Migration(Order = 2)] public static Task Same() => Task.CompletedTask;
            }

            public static class Alpha
            {
                [Migration(Order = 2)] public static Task Same() => Task.CompletedTask;
                [Migration(Order = 3)] public static Task Overload() => Task.CompletedTask;
                [Migration(Order = 3)] public static Task Overload(CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Snapshot.Match(output.Scrubbed);
    }

    [Fact]
    public void GlobalNamespaceWhenBothPropertiesAreEmpty()
    {
        var properties = new Dictionary<string, string>
        {
            ["build_property.RootNamespace"] = string.Empty,
            ["build_property.SourceGenMigrationsNamespace"] = string.Empty,
        };
        var output = GeneratorHarness.Run([Usings + """
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            }
            """], properties);

        Snapshot.Match(output.Scrubbed);
    }
}
