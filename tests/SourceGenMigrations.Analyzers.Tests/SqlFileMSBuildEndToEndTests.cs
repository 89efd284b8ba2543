using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>
/// SQL-file migrations in a real <c>dotnet build</c>: <c>Migrations/*.sql</c> picked up by the package's targets, a shipped
/// file's checksum in <c>Migrations.Shipped.txt</c>, the edit that fails the build at the file, and the line-ending change
/// that does not.
/// </summary>
public sealed class SqlFileMSBuildEndToEndTests(ConsumerProject consumer) : IClassFixture<ConsumerProject>, IDisposable
{
    private const string Released = "CREATE TABLE users (id int, email text);\nINSERT INTO users VALUES (1, 'a@example.com');\n";

    private const string Source = """
        using SourceGenMigrations;

        namespace App;

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static Task CreateSchema(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    private static readonly string Shipped =
        "1 App.Migrations.CreateSchema\n2 Migrations/0002_users.sql " + ShippedMigrationsFile.ChecksumPrefix + SqlMigrationFile.Checksum(Released) + "\n";

    [Fact]
    public void The_released_file_builds_and_is_in_the_table()
    {
        consumer.WriteSources(Source);
        consumer.WriteFile("Migrations.Shipped.txt", Shipped);
        consumer.WriteFile("Migrations/0002_users.sql", Released);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM", output, StringComparison.Ordinal);

        // The consumer's in-memory manager serves no connection, so running the file fails after the table is printed.
        Assert.Contains("registered: 1=App.Migrations.CreateSchema, 2=Migrations/0002_users.sql\n", consumer.Run().Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_the_project_also_lists_itself_counts_once()
    {
        consumer.WriteSources(Source);
        consumer.WriteFile("Migrations.Shipped.txt", null);
        consumer.WriteFile("Migrations/0002_users.sql", Released);
        consumer.WriteFile("Directory.Build.props", "<Project><ItemGroup><AdditionalFiles Include=\"Migrations/0002_users.sql\" /></ItemGroup></Project>");

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM001", output, StringComparison.Ordinal);
        Assert.Contains("registered: 1=App.Migrations.CreateSchema, 2=Migrations/0002_users.sql\n", consumer.Run().Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_the_shipped_file_fails_the_build_with_SGM106_at_the_file()
    {
        consumer.WriteSources(Source);
        consumer.WriteFile("Migrations.Shipped.txt", Shipped);
        var path = consumer.WriteFile("Migrations/0002_users.sql", Released.Replace("email text", "email text NOT NULL", StringComparison.Ordinal));

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        Assert.Contains(
            $"{path}(1,1): error SGM106: Shipped SQL migration 2 'Migrations/0002_users.sql' was edited: its content no longer matches the checksum in Migrations.Shipped.txt line 2.",
            output,
            StringComparison.Ordinal);
        Assert.Contains("add a new migration instead", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Changing_only_line_endings_a_BOM_and_trailing_blanks_builds()
    {
        consumer.WriteSources(Source);
        consumer.WriteFile("Migrations.Shipped.txt", Shipped);
        consumer.WriteFile("Migrations/0002_users.sql", "\uFEFF" + Released.Replace("\n", "  \r\n", StringComparison.Ordinal) + "\r\n");

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sql_file_named_without_an_order_is_a_warning_naming_the_pattern()
    {
        consumer.WriteSources(Source);
        consumer.WriteFile("Migrations.Shipped.txt", null);
        consumer.WriteFile("Migrations/0002_users.sql", Released);
        var path = consumer.WriteFile("Migrations/cleanup.sql", "DELETE FROM users;\n");

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.Contains($"{path}(1,1): warning SGM009: 'Migrations/cleanup.sql' is not a migration: its name does not start with digits and '_'. Name a SQL migration <digits>_<name>.sql", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        consumer.WriteFile("Migrations/cleanup.sql", null);
        consumer.WriteFile("Migrations.Shipped.txt", null);
        consumer.WriteFile("Directory.Build.props", null);
    }
}
