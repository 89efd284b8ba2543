using System.Globalization;
using System.Reflection;
using System.Text;

namespace SourceGenMigrations.Tests;

/// <summary>
/// <see cref="MigrationConfig.Settings"/>: the one table every source reads. A property missing from it would be
/// neither read nor checked anywhere, so these tests tie the table to the public properties by reflection.
/// </summary>
public sealed class MigrationConfigSettingsTests
{
    // The text a test writes for a property of each kind, and the value it must become. A new kind of setting adds a row.
    private static readonly Dictionary<Type, (string Raw, object Expected)> Samples = new()
    {
        [typeof(int)] = ("42", 42),
        [typeof(bool)] = (" TRUE ", true),
    };

    private static readonly PropertyInfo[] SettableProperties = typeof(MigrationConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(static p => p.CanWrite && p.SetMethod!.IsPublic)
        .ToArray();

    public static TheoryData<string> Properties => new(SettableProperties.Select(static p => p.Name));

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(c));
        }

        return builder.ToString();
    }

    private static Dictionary<string, object?> Snapshot(MigrationConfig config) =>
        SettableProperties.ToDictionary(static p => p.Name, p => p.GetValue(config));

    [Fact]
    public void There_are_public_settable_int_properties_to_check()
    {
        // Guards the reflection above: an empty list would make every other test here pass vacuously.
        Assert.Equal(4, SettableProperties.Count(static p => p.PropertyType == typeof(int)));
    }

    [Theory]
    [MemberData(nameof(Properties))]
    public void Every_public_settable_property_has_exactly_one_entry_with_its_snake_case_variable(string property)
    {
        var setting = Assert.Single(MigrationConfig.Settings, s => s.Property == property);

        Assert.Equal($"{MigrationConfig.ConfigPrefix}_{SnakeCase(property)}", setting.Variable);
    }

    [Fact]
    public void Every_entry_is_a_public_settable_property_and_no_variable_appears_twice()
    {
        Assert.Equal(
            SettableProperties.Select(static p => p.Name).Order(StringComparer.Ordinal),
            MigrationConfig.Settings.Select(static s => s.Property).Order(StringComparer.Ordinal));
        Assert.Equal(MigrationConfig.Settings.Count, MigrationConfig.Settings.Select(static s => s.Variable).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(Properties))]
    public void Each_entry_parses_into_its_own_property_and_no_other(string property)
    {
        var setting = MigrationConfig.Settings.Single(s => s.Property == property);
        var type = typeof(MigrationConfig).GetProperty(property)!.PropertyType;
        Assert.True(Samples.TryGetValue(type, out var sample), $"No sample text for a {type} setting: add one to {nameof(Samples)}.");
        var config = new MigrationConfig();
        var expected = Snapshot(config);
        expected[property] = sample.Expected;

        setting.Apply(config, "test value", "name", sample.Raw);

        Assert.Equal(expected, Snapshot(config));
    }

    [Theory]
    [InlineData(nameof(MigrationConfig.DeadlineMilliseconds), "greater than zero", 1)]
    [InlineData(nameof(MigrationConfig.UnlockDeadlineMilliseconds), "greater than zero", 1)]
    [InlineData(nameof(MigrationConfig.HeartbeatIntervalMilliseconds), "greater than zero", 1)]
    [InlineData(nameof(MigrationConfig.HeartbeatFailureRetryCount), "zero or more", 0)]
    public void Each_int_entry_carries_the_documented_rule_for_parsing_and_validating(string property, string rule, int minimum)
    {
        var setting = MigrationConfig.Settings.Single(s => s.Property == property);
        var below = (minimum - 1).ToString(CultureInfo.InvariantCulture);
        var config = new MigrationConfig();

        Assert.Equal(rule, setting.Rule);
        var parse = Assert.Throws<ArgumentOutOfRangeException>(() => setting.Apply(config, "test value", "name", below));
        Assert.StartsWith($"The test value must be {rule}, but was '{below}'.", parse.Message, StringComparison.Ordinal);
        Assert.Equal("name", parse.ParamName);

        setting.Apply(config, "test value", "name", minimum.ToString(CultureInfo.InvariantCulture));
        setting.Validate(config);
        typeof(MigrationConfig).GetProperty(property)!.SetValue(config, minimum - 1);
        var validate = Assert.Throws<ArgumentOutOfRangeException>(() => setting.Validate(config));
        Assert.StartsWith($"MigrationConfig.{property} must be {rule}, but was {below}.", validate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromVariables_reads_each_variable_of_the_table_exactly_once()
    {
        var asked = new List<string>();

        MigrationConfig.FromVariables(name =>
        {
            asked.Add(name);
            return name == MigrationConfig.AllowNewerMigrationsVariable ? "true" : "7";
        });

        Assert.Equal(MigrationConfig.Settings.Select(static s => s.Variable), asked);
    }

    [Fact]
    public void The_environment_fast_path_knows_every_variable_of_the_table()
    {
        // FromEnvironment returns the defaults without building the table when none of these is set: it must name them all.
        Assert.Equal(MigrationConfig.Settings.Select(static s => s.Variable), MigrationConfig.VariableNames());
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        // FromEnvironment returns them unchecked when nothing is set, and the runner does not check them again.
        new MigrationConfig().Validate();
    }
}
