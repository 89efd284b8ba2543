using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentTestGroup
{
    public const string Name = "Process environment";
}

/// <summary>The public <see cref="MigrationConfig.FromEnvironment"/> and the default config provider, with real environment variables.</summary>
[Collection(EnvironmentTestGroup.Name)]
public sealed class EnvironmentConfigTests : IDisposable
{
    private static readonly string[] Names =
    [
        "MIGRATION_DEADLINE_MILLISECONDS",
        "MIGRATION_UNLOCK_DEADLINE_MILLISECONDS",
        "MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS",
        "MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT",
        "MIGRATION_ALLOW_NEWER_MIGRATIONS",
    ];

    private readonly Dictionary<string, string?> _saved = Names.ToDictionary(n => n, Environment.GetEnvironmentVariable);

    public EnvironmentConfigTests()
    {
        foreach (var name in Names)
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact]
    public void FromEnvironment_with_nothing_set_gives_the_defaults()
    {
        var config = MigrationConfig.FromEnvironment();

        Assert.Equal(3_600_000, config.DeadlineMilliseconds);
        Assert.Equal(120_000, config.UnlockDeadlineMilliseconds);
        Assert.Equal(10_000, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(1, config.HeartbeatFailureRetryCount);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData(" TRUE ", true)]
    [InlineData("False", false)]
    public void FromEnvironment_reads_allow_newer_migrations_as_true_or_false_ignoring_case(string raw, bool expected)
    {
        Environment.SetEnvironmentVariable("MIGRATION_ALLOW_NEWER_MIGRATIONS", raw);

        Assert.Equal(expected, MigrationConfig.FromEnvironment().AllowNewerMigrations);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData("")]
    [InlineData("truee")]
    public void FromEnvironment_refuses_anything_else_for_allow_newer_migrations_naming_the_variable_and_value(string raw)
    {
        Environment.SetEnvironmentVariable("MIGRATION_ALLOW_NEWER_MIGRATIONS", raw);

        var error = Assert.Throws<FormatException>(MigrationConfig.FromEnvironment);

        Assert.Equal($"The environment variable MIGRATION_ALLOW_NEWER_MIGRATIONS must be true or false, but was '{raw}'.", error.Message);
    }

    [Fact]
    public void Allow_newer_migrations_is_off_by_default()
    {
        Assert.False(MigrationConfig.FromEnvironment().AllowNewerMigrations);
        Assert.False(new MigrationConfig().AllowNewerMigrations);
    }

    [Fact]
    public void FromEnvironment_reads_every_variable()
    {
        Environment.SetEnvironmentVariable("MIGRATION_DEADLINE_MILLISECONDS", " 5000 ");
        Environment.SetEnvironmentVariable("MIGRATION_UNLOCK_DEADLINE_MILLISECONDS", "+700");
        Environment.SetEnvironmentVariable("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", "25");
        Environment.SetEnvironmentVariable("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", "0");

        var config = MigrationConfig.FromEnvironment();

        Assert.Equal(5000, config.DeadlineMilliseconds);
        Assert.Equal(700, config.UnlockDeadlineMilliseconds);
        Assert.Equal(25, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(0, config.HeartbeatFailureRetryCount);
    }

    [Fact]
    public void FromEnvironment_rejects_a_non_integer_naming_the_variable()
    {
        Environment.SetEnvironmentVariable("MIGRATION_UNLOCK_DEADLINE_MILLISECONDS", "two minutes");

        var ex = Assert.Throws<FormatException>(MigrationConfig.FromEnvironment);

        Assert.Contains("MIGRATION_UNLOCK_DEADLINE_MILLISECONDS", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'two minutes'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_rejects_an_out_of_range_value_naming_the_variable()
    {
        Environment.SetEnvironmentVariable("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", "0");

        var ex = Assert.Throws<ArgumentOutOfRangeException>(MigrationConfig.FromEnvironment);

        Assert.Contains("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_config_provider_reads_the_environment_and_a_bad_value_stops_before_any_call()
    {
        Environment.SetEnvironmentVariable("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", "-2");
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, ran)], new MigrationOptions { TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() }));

        Assert.Equal("failed to get the migration configuration", ex.Step);
        var inner = Assert.IsType<ArgumentOutOfRangeException>(ex.InnerException);
        Assert.Contains("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", inner.Message, StringComparison.Ordinal);
        Assert.Empty(manager.Calls);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task The_message_of_a_bad_environment_value_carries_the_cause_on_one_line()
    {
        Environment.SetEnvironmentVariable("MIGRATION_DEADLINE_MILLISECONDS", "soon");

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(new FakeMigrationManager(), [Reg(1, [])], new MigrationOptions { TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() }));

        // What a health check or logger.LogError(ex.Message) shows: the step and why.
        Assert.Equal(
            "failed to get the migration configuration: The environment variable MIGRATION_DEADLINE_MILLISECONDS must be an integer, but was 'soon'.",
            ex.Message);
        Assert.Equal("failed to get the migration configuration", ex.Step);
        Assert.Null(ex.Order);
        Assert.IsType<FormatException>(ex.InnerException);
    }

    [Fact]
    public async Task RunAsync_without_options_uses_the_environment_and_the_system_clock()
    {
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        await MigrationRunner.RunAsync(manager, [Reg(1, ran)]).WaitAsync(SafetyTimeout);

        Assert.Equal([1L], ran);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
    }
}
