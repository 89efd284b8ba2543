namespace SourceGenMigrations.Tests;

/// <summary><see cref="MigrationConfig"/> without touching the process environment (<c>FromVariables</c>).</summary>
public sealed class MigrationConfigTests
{
    private static readonly string[] AllVariables =
    [
        "MIGRATION_DEADLINE_MILLISECONDS",
        "MIGRATION_UNLOCK_DEADLINE_MILLISECONDS",
        "MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS",
        "MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT",
    ];

    public static readonly TheoryData<string> Variables = new()
    {
        "MIGRATION_DEADLINE_MILLISECONDS",
        "MIGRATION_UNLOCK_DEADLINE_MILLISECONDS",
        "MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS",
        "MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT",
    };

    public static readonly TheoryData<string> PositiveVariables = new()
    {
        "MIGRATION_DEADLINE_MILLISECONDS",
        "MIGRATION_UNLOCK_DEADLINE_MILLISECONDS",
        "MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS",
    };

    private static MigrationConfig From(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return MigrationConfig.FromVariables(name => map.GetValueOrDefault(name));
    }

    private static int ValueOf(MigrationConfig config, string variable) => variable switch
    {
        "MIGRATION_DEADLINE_MILLISECONDS" => config.DeadlineMilliseconds,
        "MIGRATION_UNLOCK_DEADLINE_MILLISECONDS" => config.UnlockDeadlineMilliseconds,
        "MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS" => config.HeartbeatIntervalMilliseconds,
        "MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT" => config.HeartbeatFailureRetryCount,
        _ => throw new ArgumentOutOfRangeException(nameof(variable), variable, null),
    };

    [Fact]
    public void The_prefix_and_the_variable_names_are_the_documented_ones()
    {
        Assert.Equal("MIGRATION", MigrationConfig.ConfigPrefix);
        Assert.Equal("MIGRATION_DEADLINE_MILLISECONDS", MigrationConfig.DeadlineVariable);
        Assert.Equal("MIGRATION_UNLOCK_DEADLINE_MILLISECONDS", MigrationConfig.UnlockDeadlineVariable);
        Assert.Equal("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", MigrationConfig.HeartbeatIntervalVariable);
        Assert.Equal("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", MigrationConfig.HeartbeatFailureRetryCountVariable);
    }

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var config = new MigrationConfig();

        Assert.Equal(3_600_000, config.DeadlineMilliseconds);
        Assert.Equal(120_000, config.UnlockDeadlineMilliseconds);
        Assert.Equal(10_000, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(1, config.HeartbeatFailureRetryCount);
        config.Validate();
    }

    [Fact]
    public void Unset_variables_keep_the_defaults()
    {
        var asked = new List<string>();

        var config = MigrationConfig.FromVariables(name => { asked.Add(name); return null; });

        Assert.Equal(3_600_000, config.DeadlineMilliseconds);
        Assert.Equal(120_000, config.UnlockDeadlineMilliseconds);
        Assert.Equal(10_000, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(1, config.HeartbeatFailureRetryCount);
        Assert.False(config.AllowNewerMigrations);
        Assert.Equal([.. AllVariables, MigrationConfig.AllowNewerMigrationsVariable], asked.Distinct());
    }

    [Theory]
    [MemberData(nameof(Variables))]
    public void Each_variable_sets_its_property_only(string variable)
    {
        var config = From((variable, "42"));

        Assert.Equal(42, ValueOf(config, variable));
        var defaults = new MigrationConfig();
        foreach (var other in AllVariables.Where(v => v != variable))
        {
            Assert.Equal(ValueOf(defaults, other), ValueOf(config, other));
        }
    }

    [Theory]
    [InlineData("42", 42)]
    [InlineData(" 42 ", 42)]
    [InlineData("\t42\n", 42)]
    [InlineData("+42", 42)]
    [InlineData("0042", 42)]
    [InlineData("1", 1)]
    [InlineData("2147483647", int.MaxValue)]
    public void Valid_values_are_accepted(string value, int expected)
    {
        foreach (var variable in AllVariables)
        {
            Assert.Equal(expected, ValueOf(From((variable, value)), variable));
        }
    }

    [Fact]
    public void All_four_at_once()
    {
        var config = From(
            ("MIGRATION_DEADLINE_MILLISECONDS", "1000"),
            ("MIGRATION_UNLOCK_DEADLINE_MILLISECONDS", "200"),
            ("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", "30"),
            ("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", "4"));

        Assert.Equal(1000, config.DeadlineMilliseconds);
        Assert.Equal(200, config.UnlockDeadlineMilliseconds);
        Assert.Equal(30, config.HeartbeatIntervalMilliseconds);
        Assert.Equal(4, config.HeartbeatFailureRetryCount);
    }

    [Fact]
    public void Zero_retries_are_allowed()
    {
        Assert.Equal(0, From(("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", "0")).HeartbeatFailureRetryCount);
        Assert.Equal(0, From(("MIGRATION_HEARTBEAT_FAILURE_RETRY_COUNT", "-0")).HeartbeatFailureRetryCount);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1.5")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("4 2")]
    [InlineData("1,000")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("--1")]
    [InlineData("١٢")] // Arabic-Indic digits: not invariant digits
    public void Non_integers_are_a_FormatException_naming_the_variable_and_quoting_the_value(string value)
    {
        foreach (var variable in AllVariables)
        {
            var ex = Assert.Throws<FormatException>(() => From((variable, value)));

            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.Contains($"'{value}'", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(PositiveVariables))]
    public void Zero_is_out_of_range_for_the_durations(string variable)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => From((variable, "0")));

        Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
        Assert.Contains("0", ex.Message.Replace(variable, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-250")]
    [InlineData(" -3 ")]
    public void Negatives_are_out_of_range(string value)
    {
        foreach (var variable in AllVariables)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => From((variable, value)));

            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.Contains(value.Trim(), ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("2147483648")]
    [InlineData("-2147483649")]
    [InlineData("99999999999999999999999")]
    public void Values_beyond_int_are_out_of_range(string value)
    {
        foreach (var variable in AllVariables)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => From((variable, value)));

            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.Contains(value, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_first_bad_variable_fails_even_when_others_are_fine()
    {
        var ex = Assert.Throws<FormatException>(() => From(
            ("MIGRATION_DEADLINE_MILLISECONDS", "1000"),
            ("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", "soon")));

        Assert.Contains("MIGRATION_HEARTBEAT_INTERVAL_MILLISECONDS", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'soon'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(MigrationConfig.DeadlineMilliseconds), 0)]
    [InlineData(nameof(MigrationConfig.DeadlineMilliseconds), -5)]
    [InlineData(nameof(MigrationConfig.UnlockDeadlineMilliseconds), 0)]
    [InlineData(nameof(MigrationConfig.UnlockDeadlineMilliseconds), -6)]
    [InlineData(nameof(MigrationConfig.HeartbeatIntervalMilliseconds), 0)]
    [InlineData(nameof(MigrationConfig.HeartbeatIntervalMilliseconds), -7)]
    [InlineData(nameof(MigrationConfig.HeartbeatFailureRetryCount), -1)]
    [InlineData(nameof(MigrationConfig.HeartbeatFailureRetryCount), int.MinValue)]
    public void Validate_names_the_property_and_the_value(string property, int value)
    {
        var config = new MigrationConfig();
        switch (property)
        {
            case nameof(MigrationConfig.DeadlineMilliseconds): config.DeadlineMilliseconds = value; break;
            case nameof(MigrationConfig.UnlockDeadlineMilliseconds): config.UnlockDeadlineMilliseconds = value; break;
            case nameof(MigrationConfig.HeartbeatIntervalMilliseconds): config.HeartbeatIntervalMilliseconds = value; break;
            default: config.HeartbeatFailureRetryCount = value; break;
        }

        var ex = Assert.Throws<ArgumentOutOfRangeException>(config.Validate);

        Assert.Contains(property, ex.Message, StringComparison.Ordinal);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_accepts_the_smallest_valid_values()
    {
        new MigrationConfig
        {
            DeadlineMilliseconds = 1,
            UnlockDeadlineMilliseconds = 1,
            HeartbeatIntervalMilliseconds = 1,
            HeartbeatFailureRetryCount = 0,
        }.Validate();
    }
}
