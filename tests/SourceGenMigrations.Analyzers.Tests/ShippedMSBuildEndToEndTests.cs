namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>
/// <c>Migrations.Shipped.txt</c> in a real <c>dotnet build</c> (the consumer adds it as an AdditionalFile when it exists):
/// the errors at the right file and line, and a build that passes once the new migration comes after the shipped ones.
/// </summary>
public sealed class ShippedMSBuildEndToEndTests(ConsumerProject consumer) : IClassFixture<ConsumerProject>, IDisposable
{
    private const string Shipped = """
        # Released with 1.0
        1 App.Migrations.CreateUsers
        5 App.Migrations.AddIndex
        """;

    private static string Source(long newOrder) => $$"""
        using SourceGenMigrations;

        namespace App;

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static Task CreateUsers(CancellationToken cancellationToken) => Task.CompletedTask;

            [Migration(Order = 5)]
            public static Task AddIndex(CancellationToken cancellationToken) => Task.CompletedTask;

            [Migration(Order = {{newOrder}})]
            public static Task FromAMergedBranch(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    [Fact]
    public void A_new_migration_below_the_highest_shipped_order_fails_the_build_with_SGM103_at_its_order()
    {
        consumer.WriteFile("Migrations.Shipped.txt", Shipped);
        var source = Source(3);
        var path = consumer.WriteSources(source);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        var (line, column) = MSBuildEndToEndTests.PositionOf(source, "Order = 3", occurrence: 0);
        Assert.Contains(
            $"{path}({line},{column}): error SGM103: Migration 'App.Migrations.FromAMergedBranch' is not shipped but its order 3 is below the highest shipped order 5",
            output,
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_migration_above_the_highest_shipped_order_builds_without_any_shipped_diagnostic()
    {
        consumer.WriteFile("Migrations.Shipped.txt", Shipped);
        consumer.WriteSources(Source(6));

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM1", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_file_order_3_builds()
    {
        consumer.WriteFile("Migrations.Shipped.txt", null);
        consumer.WriteSources(Source(3));

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM1", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_shipped_migration_fails_the_build_with_SGM101_at_its_line_in_the_file()
    {
        var shippedPath = consumer.WriteFile("Migrations.Shipped.txt", Shipped + "\n7 App.Migrations.Deleted\n");
        consumer.WriteSources(Source(6));

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        Assert.Contains(
            $"{shippedPath}(4,1): error SGM101: Shipped migration 7 'App.Migrations.Deleted' (Migrations.Shipped.txt line 4) is no longer in source",
            output,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_line_is_a_warning_and_a_globalconfig_makes_it_an_error()
    {
        var shippedPath = consumer.WriteFile("Migrations.Shipped.txt", Shipped + "\n6\n");
        consumer.WriteSources(Source(7));

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.Contains($"{shippedPath}(4,1): warning SGM104: Migrations.Shipped.txt line 4 is ignored: the migration's name is missing", output, StringComparison.Ordinal);

        consumer.WriteFile(".globalconfig", "is_global = true\ndotnet_diagnostic.SGM104.severity = error\n");
        consumer.WriteSources(Source(7));

        (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        Assert.Contains($"{shippedPath}(4,1): error SGM104:", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        consumer.WriteFile("Migrations.Shipped.txt", null);
        consumer.WriteFile(".globalconfig", null);
    }
}
