using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenMigrations.Hosting.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentTestGroup
{
    public const string Name = "Process environment";
}

/// <summary>Sets process environment variables for the length of a test, then puts the old values back.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly List<(string Name, string? Old)> _saved = [];

    public EnvironmentScope(params (string Name, string? Value)[] variables)
    {
        foreach (var (name, value) in variables)
        {
            _saved.Add((name, Environment.GetEnvironmentVariable(name)));
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach (var (name, old) in _saved)
        {
            Environment.SetEnvironmentVariable(name, old);
        }
    }
}

/// <summary>Defaults &lt; the configuration section &lt; the MIGRATION_* variables.</summary>
[Collection(EnvironmentTestGroup.Name)]
public sealed class EnvironmentPrecedenceTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(static v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void A_set_variable_overrides_its_key_and_only_its_key()
    {
        using var environment = new EnvironmentScope((MigrationConfig.DeadlineVariable, "777"));

        var config = MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", "1234"), ("Migration:UnlockDeadlineMilliseconds", "55")));

        Assert.Equal(777, config.DeadlineMilliseconds);
        Assert.Equal(55, config.UnlockDeadlineMilliseconds);
        Assert.Equal(new MigrationConfig().HeartbeatIntervalMilliseconds, config.HeartbeatIntervalMilliseconds);
    }

    [Fact]
    public void Every_variable_overrides_the_section()
    {
        using var environment = new EnvironmentScope(
            (MigrationConfig.DeadlineVariable, "11"),
            (MigrationConfig.UnlockDeadlineVariable, "12"),
            (MigrationConfig.HeartbeatIntervalVariable, "13"),
            (MigrationConfig.HeartbeatFailureRetryCountVariable, "14"));

        var config = MigrationConfiguration.Load(Config(
            ("Migration:DeadlineMilliseconds", "1"), ("Migration:UnlockDeadlineMilliseconds", "2"),
            ("Migration:HeartbeatIntervalMilliseconds", "3"), ("Migration:HeartbeatFailureRetryCount", "4")));

        Assert.Equal((11, 12, 13, 14), (config.DeadlineMilliseconds, config.UnlockDeadlineMilliseconds, config.HeartbeatIntervalMilliseconds, config.HeartbeatFailureRetryCount));
    }

    [Fact]
    public void Variables_are_ignored_when_told_so()
    {
        using var environment = new EnvironmentScope((MigrationConfig.DeadlineVariable, "777"));

        Assert.Equal(1234, MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", "1234")), environmentVariablesOverride: false).DeadlineMilliseconds);
    }

    [Fact]
    public void Variables_apply_without_any_configuration()
    {
        using var environment = new EnvironmentScope((MigrationConfig.HeartbeatFailureRetryCountVariable, "3"));

        Assert.Equal(3, MigrationConfiguration.Load(null).HeartbeatFailureRetryCount);
    }

    [Fact]
    public void A_bad_variable_is_an_error_naming_the_variable()
    {
        using var environment = new EnvironmentScope((MigrationConfig.DeadlineVariable, "abc"));

        var exception = Assert.Throws<FormatException>(() => MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", "1234"))));
        Assert.Equal("The environment variable MIGRATION_DEADLINE_MILLISECONDS must be an integer, but was 'abc'.", exception.Message);
    }

    [Fact]
    public void A_bad_section_value_is_an_error_even_when_a_variable_overrides_it()
    {
        using var environment = new EnvironmentScope((MigrationConfig.DeadlineVariable, "777"));

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", "0"))));
        Assert.Contains("Migration:DeadlineMilliseconds", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_double_underscore_variable_reaches_the_section_through_the_default_host_configuration()
    {
        using var environment = new EnvironmentScope(("Migration__HeartbeatIntervalMilliseconds", "4321"), (MigrationConfig.HeartbeatIntervalVariable, null));

        var builder = Host.CreateApplicationBuilder();

        Assert.Equal(4321, MigrationConfiguration.Load(builder.Configuration).HeartbeatIntervalMilliseconds);
    }

    [Fact]
    public void A_MIGRATION_variable_beats_a_double_underscore_variable()
    {
        using var environment = new EnvironmentScope(("Migration__HeartbeatIntervalMilliseconds", "4321"), (MigrationConfig.HeartbeatIntervalVariable, "99"));

        var builder = Host.CreateApplicationBuilder();

        Assert.Equal(99, MigrationConfiguration.Load(builder.Configuration).HeartbeatIntervalMilliseconds);
    }

    [Fact]
    public async Task A_variable_flows_into_the_hosted_run()
    {
        using var environment = new EnvironmentScope((MigrationConfig.DeadlineVariable, "60"));
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder(new Dictionary<string, string?> { ["Migration:DeadlineMilliseconds"] = "3600000" });
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, manager.Log, (_, cancellationToken) => Task.Delay(System.Threading.Timeout.Infinite, cancellationToken))],
            _ => manager);

        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Contains("the migration deadline of 60 ms expired", exception.Message, StringComparison.Ordinal);
    }
}
