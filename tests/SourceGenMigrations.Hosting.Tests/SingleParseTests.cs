using Microsoft.Extensions.Configuration;

namespace SourceGenMigrations.Hosting.Tests;

/// <summary>
/// Each value is read once from each source, with the same parser for the section and the variables, and every value
/// that is set is checked even when the other source wins.
/// </summary>
[Collection(EnvironmentTestGroup.Name)]
public sealed class SingleParseTests
{
    public static readonly TheoryData<string, string> Settings = new()
    {
        { nameof(MigrationConfig.DeadlineMilliseconds), MigrationConfig.DeadlineVariable },
        { nameof(MigrationConfig.UnlockDeadlineMilliseconds), MigrationConfig.UnlockDeadlineVariable },
        { nameof(MigrationConfig.HeartbeatIntervalMilliseconds), MigrationConfig.HeartbeatIntervalVariable },
        { nameof(MigrationConfig.HeartbeatFailureRetryCount), MigrationConfig.HeartbeatFailureRetryCountVariable },
    };

    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(static v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static object? ValueOf(MigrationConfig config, string property) => typeof(MigrationConfig).GetProperty(property)!.GetValue(config);

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_variable_wins_over_the_section_for_every_setting(string property, string variable)
    {
        using var environment = new EnvironmentScope((variable, "7"));

        var config = MigrationConfiguration.Load(Config(($"Migration:{property}", "5")));

        Assert.Equal(7, ValueOf(config, property));
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void An_invalid_section_value_fails_even_when_its_variable_overrides_it(string property, string variable)
    {
        using var environment = new EnvironmentScope((variable, "7"));

        var exception = Assert.Throws<FormatException>(() => MigrationConfiguration.Load(Config(($"Migration:{property}", "ten"))));

        Assert.Equal($"The configuration value Migration:{property} must be an integer, but was 'ten'.", exception.Message);
    }

    [Fact]
    public void Each_key_of_the_section_is_read_exactly_once()
    {
        var provider = new CountingProvider();

        MigrationConfiguration.Load(new ConfigurationRoot([provider]), environmentVariablesOverride: false);

        Assert.Equal(
            Settings.Select(static row => $"Migration:{row[0]}").Append("Migration:AllowNewerMigrations").Order(StringComparer.Ordinal),
            provider.Reads.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("\u00A042")]
    [InlineData("42\u2003")]
    public void The_section_accepts_the_white_space_the_variables_accept(string value)
    {
        // The configuration binder rejected white space beyond ASCII that string.Trim (the variables' parser) removes.
        var config = MigrationConfiguration.Load(Config(("Migration:DeadlineMilliseconds", value)), environmentVariablesOverride: false);

        Assert.Equal(42, config.DeadlineMilliseconds);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("FALSE", false)]
    [InlineData(" True ", true)]
    public void AllowNewerMigrations_is_read_from_the_section_as_true_or_false(string value, bool expected)
    {
        var config = MigrationConfiguration.Load(Config(("Migration:AllowNewerMigrations", value)), environmentVariablesOverride: false);

        Assert.Equal(expected, config.AllowNewerMigrations);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("")]
    [InlineData("0")]
    public void AllowNewerMigrations_refuses_anything_else_naming_the_key_and_the_value(string value)
    {
        var exception = Assert.Throws<FormatException>(() => MigrationConfiguration.Load(Config(("Migration:AllowNewerMigrations", value)), environmentVariablesOverride: false));

        Assert.Equal($"The configuration value Migration:AllowNewerMigrations must be true or false, but was '{value}'.", exception.Message);
    }

    [Fact]
    public void The_variable_wins_over_the_section_for_AllowNewerMigrations()
    {
        using var environment = new EnvironmentScope((MigrationConfig.AllowNewerMigrationsVariable, "false"));

        Assert.False(MigrationConfiguration.Load(Config(("Migration:AllowNewerMigrations", "true"))).AllowNewerMigrations);
    }

    [Fact]
    public void An_unknown_key_in_the_section_is_ignored()
    {
        var config = MigrationConfiguration.Load(Config(("Migration:DeadlineMillis", "ten"), ("Migration:HeartbeatIntervalMilliseconds", "5")), environmentVariablesOverride: false);

        Assert.Equal(new MigrationConfig().DeadlineMilliseconds, config.DeadlineMilliseconds);
        Assert.Equal(5, config.HeartbeatIntervalMilliseconds);
    }

    /// <summary>A provider with every key set to a valid value, recording each key read.</summary>
    private sealed class CountingProvider : ConfigurationProvider
    {
        public List<string> Reads { get; } = [];

        public override bool TryGet(string key, out string? value)
        {
            Reads.Add(key);
            value = key.EndsWith(nameof(MigrationConfig.AllowNewerMigrations), StringComparison.Ordinal) ? "true" : "9";
            return true;
        }
    }
}
