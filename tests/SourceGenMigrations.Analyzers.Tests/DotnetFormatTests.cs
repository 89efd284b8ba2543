namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>A consumer whose analyzer references include the code fixes, as the package's <c>analyzers/dotnet/cs</c> does.</summary>
public sealed class FormattableConsumerProject : ConsumerProject
{
    public FormattableConsumerProject()
        : base(withCodeFixes: true)
    {
    }

    /// <summary><c>dotnet format analyzers</c> on the consumer, fixing only <paramref name="diagnosticIds"/>.</summary>
    public (int ExitCode, string Output) FormatAnalyzers(params string[] diagnosticIds) => Dotnet(
        ["format", "analyzers", Path.GetFileName(ProjectPath), "--no-restore", "--severity", "error", "--diagnostics", .. diagnosticIds]);
}

/// <summary>
/// "Use the next free order" applied from the command line: <c>dotnet format analyzers --diagnostics SGM001 SGM003</c>
/// on a real project runs the Fix All of both fixes, one after the other.
/// </summary>
public sealed class DotnetFormatTests(FormattableConsumerProject consumer) : IClassFixture<FormattableConsumerProject>
{
    private const string Usings = """
        using SourceGenMigrations;

        namespace App;

        """;

    [Fact]
    public void Dotnet_format_gives_consecutive_free_orders_and_keeps_one_of_each_duplicate_group_the_shipped_one_first()
    {
        var path = consumer.WriteSources(Usings + """
            public static class Migrations
            {
                [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
                [Migration(Order = 1)] public static Task AddEmail() => Task.CompletedTask;
                [Migration(Order = 2)] public static Task Backfill() => Task.CompletedTask;
                [Migration(Order = 2, Enabled = false)] public static Task AnotherTwo() => Task.CompletedTask;
                [Migration] public static Task Forgotten() => Task.CompletedTask;
                [Migration(Enabled = false)] public static Task AlsoForgotten() => Task.CompletedTask;
                [Migration(Order = 5)] public static Task Five() => Task.CompletedTask;
            }
            """);
        var other = consumer.WriteFile("MoreMigrations.cs", Usings + """
            public static class MoreMigrations
            {
                [Migration(Order = 5)] public static Task AlsoFive() => Task.CompletedTask;
            }
            """);
        // CreateUsers shipped under 1 (its name sorts after AddEmail's, which would otherwise keep 1).
        consumer.WriteFile("Migrations.Shipped.txt", "1 App.Migrations.CreateUsers\n");
        try
        {
            var (exitCode, output) = consumer.FormatAnalyzers("SGM001", "SGM003");

            Assert.True(exitCode == 0, output);
            Assert.Equal(Usings + """
                public static class Migrations
                {
                    [Migration(Order = 1)] public static Task CreateUsers() => Task.CompletedTask;
                    [Migration(Order = 6)] public static Task AddEmail() => Task.CompletedTask;
                    [Migration(Order = 7)] public static Task Backfill() => Task.CompletedTask;
                    [Migration(Order = 2, Enabled = false)] public static Task AnotherTwo() => Task.CompletedTask;
                    [Migration(Order = 9)] public static Task Forgotten() => Task.CompletedTask;
                    [Migration(Order = 10, Enabled = false)] public static Task AlsoForgotten() => Task.CompletedTask;
                    [Migration(Order = 5)] public static Task Five() => Task.CompletedTask;
                }
                """, File.ReadAllText(path).ReplaceLineEndings("\n"));
            Assert.Equal(Usings + """
                public static class MoreMigrations
                {
                    [Migration(Order = 8)] public static Task AlsoFive() => Task.CompletedTask;
                }
                """, File.ReadAllText(other).ReplaceLineEndings("\n"));

            var (buildExitCode, buildOutput) = consumer.Build();
            Assert.True(buildExitCode == 0, buildOutput);
        }
        finally
        {
            consumer.WriteFile("MoreMigrations.cs", null);
            consumer.WriteFile("Migrations.Shipped.txt", null);
        }
    }
}
