using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SourceGenMigrations.Hosting.Tests;

/// <summary>Reading from an in-memory configuration (the environment variables are off or unset here; see <see cref="EnvironmentPrecedenceTests"/>).</summary>
public sealed class ConfigurationTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(static v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void The_Migration_section_is_bound()
    {
        var config = MigrationConfiguration.Load(
            Config(("Migration:DeadlineMilliseconds", "1234"), ("Migration:UnlockDeadlineMilliseconds", " 56 "), ("Migration:HeartbeatIntervalMilliseconds", "+78"), ("Migration:HeartbeatFailureRetryCount", "0")),
            environmentVariablesOverride: false);

        Assert.Equal(1234, config.DeadlineMilliseconds);
        Assert.Equal(56, config.UnlockDeadlineMilliseconds);
        Assert.Equal(78, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(0, config.HeartbeatFailureRetryCount);
    }

    [Fact]
    public void Missing_keys_keep_the_defaults()
    {
        var config = MigrationConfiguration.Load(Config(("Migration:HeartbeatIntervalMilliseconds", "5"), ("Other:DeadlineMilliseconds", "9")), environmentVariablesOverride: false);
        var defaults = new MigrationConfig();

        Assert.Equal(defaults.DeadlineMilliseconds, config.DeadlineMilliseconds);
        Assert.Equal(defaults.UnlockDeadlineMilliseconds, config.UnlockDeadlineMilliseconds);
        Assert.Equal(5, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(defaults.HeartbeatFailureRetryCount, config.HeartbeatFailureRetryCount);
    }

    [Fact]
    public void Another_section_can_be_named()
    {
        var configuration = Config(("Db:Migrations:DeadlineMilliseconds", "42"), ("Db:Migrations:UnlockDeadlineMilliseconds", "x"));

        Assert.Equal(42, MigrationConfiguration.Load(Config(("Db:Migrations:DeadlineMilliseconds", "42")), "Db:Migrations", environmentVariablesOverride: false).DeadlineMilliseconds);
        var exception = Assert.Throws<FormatException>(() => MigrationConfiguration.Load(configuration, "Db:Migrations", environmentVariablesOverride: false));
        Assert.Equal("The configuration value Db:Migrations:UnlockDeadlineMilliseconds must be an integer, but was 'x'.", exception.Message);
    }

    [Theory]
    [InlineData("DeadlineMilliseconds", "0", "greater than zero")]
    [InlineData("UnlockDeadlineMilliseconds", "-5", "greater than zero")]
    [InlineData("HeartbeatIntervalMilliseconds", "0", "greater than zero")]
    [InlineData("HeartbeatFailureRetryCount", "-1", "zero or more")]
    public void A_value_breaking_its_rule_is_an_error_naming_the_key_and_value(string property, string value, string rule)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => MigrationConfiguration.Load(Config(($"Migration:{property}", value)), environmentVariablesOverride: false));

        Assert.StartsWith($"The configuration value Migration:{property} must be {rule}, but was '{value}'.", exception.Message, StringComparison.Ordinal);
        Assert.Equal($"Migration:{property}", exception.ParamName);
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("0x10")]
    public void A_value_that_is_not_an_integer_is_an_error_naming_the_key_and_value(string value)
    {
        var exception = Assert.Throws<FormatException>(() => MigrationConfiguration.Load(Config(("Migration:HeartbeatIntervalMilliseconds", value)), environmentVariablesOverride: false));

        Assert.Equal($"The configuration value Migration:HeartbeatIntervalMilliseconds must be an integer, but was '{value}'.", exception.Message);
    }

    [Fact]
    public void A_value_too_large_for_an_int_is_an_error_naming_the_key()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", "99999999999")), environmentVariablesOverride: false));

        Assert.StartsWith("The configuration value Migration:DeadlineMilliseconds must be greater than zero and at most 2147483647, but was '99999999999'.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_deadline_flows_into_the_hosted_run()
    {
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder(new Dictionary<string, string?> { ["Migration:DeadlineMilliseconds"] = "50" });
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, manager.Log, (_, cancellationToken) => Task.Delay(System.Threading.Timeout.Infinite, cancellationToken))],
            _ => manager,
            options => options.EnvironmentVariablesOverride = false);

        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Contains("the migration deadline of 50 ms expired", exception.Message, StringComparison.Ordinal);
        Assert.Equal(1, manager.MigrationLockReleaseCount);
    }

    [Fact]
    public async Task A_configured_heartbeat_interval_flows_into_the_hosted_run()
    {
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder(new Dictionary<string, string?> { ["Migration:HeartbeatIntervalMilliseconds"] = "5" });

        // With the default interval (10 s) no heartbeat would come within the timeout and the migration would fail.
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, manager.Log, async (_, cancellationToken) =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                while (manager.HeartbeatCount < 2)
                {
                    await Task.Delay(5, timeout.Token);
                }
            })],
            _ => manager,
            options => options.EnvironmentVariablesOverride = false);

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.True(manager.HeartbeatCount >= 2);
        Assert.Equal(MigrationStatus.Completed, manager.Statuses[1]);
        await host.StopAsync();
    }

    [Theory]
    [InlineData("0", typeof(ArgumentOutOfRangeException))]
    [InlineData("soon", typeof(FormatException))]
    public async Task A_bad_configured_value_fails_start_before_the_manager_is_created(string value, Type causeType)
    {
        var created = false;
        var builder = TestHosts.CreateBuilder(new Dictionary<string, string?> { ["Migration:UnlockDeadlineMilliseconds"] = value });
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, new EventLog())],
            _ =>
            {
                created = true;
                return new InMemoryMigrationManager();
            },
            options => options.EnvironmentVariablesOverride = false);

        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Equal("failed to get the migration configuration", exception.Step);
        Assert.StartsWith("failed to get the migration configuration: The configuration value Migration:UnlockDeadlineMilliseconds must be", exception.Message, StringComparison.Ordinal);
        Assert.IsType(causeType, exception.InnerException);
        Assert.Contains($"Migration:UnlockDeadlineMilliseconds must be", exception.InnerException!.Message, StringComparison.Ordinal);
        Assert.Contains($"but was '{value}'", exception.InnerException.Message, StringComparison.Ordinal);
        Assert.False(created);
    }
}
