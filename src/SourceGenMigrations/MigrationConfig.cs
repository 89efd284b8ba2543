using System.Globalization;

namespace SourceGenMigrations;

/// <summary>
/// Timing parameters of a migration run. <see cref="FromEnvironment"/> reads them from the <c>MIGRATION_*</c>
/// environment variables (<see cref="ConfigPrefix"/> + the property name in snake case).
/// </summary>
public sealed class MigrationConfig
{
    /// <summary>The prefix of the environment variables: <c>MIGRATION_DEADLINE_MILLISECONDS</c> and so on.</summary>
    public const string ConfigPrefix = "MIGRATION";

    /// <summary>The environment variable of <see cref="DeadlineMilliseconds"/>.</summary>
    public const string DeadlineVariable = ConfigPrefix + "_DEADLINE_MILLISECONDS";

    /// <summary>The environment variable of <see cref="UnlockDeadlineMilliseconds"/>.</summary>
    public const string UnlockDeadlineVariable = ConfigPrefix + "_UNLOCK_DEADLINE_MILLISECONDS";

    /// <summary>The environment variable of <see cref="HeartbeatIntervalMilliseconds"/>.</summary>
    public const string HeartbeatIntervalVariable = ConfigPrefix + "_HEARTBEAT_INTERVAL_MILLISECONDS";

    /// <summary>The environment variable of <see cref="HeartbeatFailureRetryCount"/>.</summary>
    public const string HeartbeatFailureRetryCountVariable = ConfigPrefix + "_HEARTBEAT_FAILURE_RETRY_COUNT";

    /// <summary>The environment variable of <see cref="AllowNewerMigrations"/>.</summary>
    public const string AllowNewerMigrationsVariable = ConfigPrefix + "_ALLOW_NEWER_MIGRATIONS";

    /// <summary>The longest a whole run may take, locks included (greater than zero; default one hour).</summary>
    public int DeadlineMilliseconds { get; set; } = 3_600_000;

    /// <summary>The longest one lock release may take (greater than zero; default two minutes).</summary>
    public int UnlockDeadlineMilliseconds { get; set; } = 120_000;

    /// <summary>The pause between two migration lock heartbeats (greater than zero; default ten seconds).</summary>
    public int HeartbeatIntervalMilliseconds { get; set; } = 10_000;

    /// <summary>
    /// How many consecutive heartbeat failures are tolerated; one more stops the run (zero or more; default one).
    /// </summary>
    public int HeartbeatFailureRetryCount { get; set; } = 1;

    /// <summary>
    /// Whether this build may start on a database that a newer build has migrated further (default
    /// <see langword="false"/>, the Go package's behaviour: any persisted order this build does not know stops the run).
    /// When true, persisted orders above the highest order this build knows are not an error: the run applies nothing
    /// out of order, logs one warning naming them, and succeeds; unless one of them is a migration marked
    /// <see cref="MigrationAttribute.BreaksOlderBuilds"/> that took effect, which stops the run naming it. Unknown orders at or
    /// below the highest known order stay an error. What a rolling deployment or a rollback needs: old replicas keep
    /// starting beside new ones.
    /// </summary>
    public bool AllowNewerMigrations { get; set; }

    /// <summary>
    /// Every setting, in the order they are read and checked: the one description shared by
    /// <see cref="FromEnvironment"/>, <see cref="Validate"/> and the IConfiguration reader of SourceGenMigrations.Hosting,
    /// so that each source parses each value once, with the same rule and words. A new setting is one more entry.
    /// </summary>
    internal static IReadOnlyList<MigrationSetting> Settings { get; } =
    [
        MigrationSetting.Int32(nameof(DeadlineMilliseconds), DeadlineVariable, minimum: 1, static c => c.DeadlineMilliseconds, static (c, v) => c.DeadlineMilliseconds = v),
        MigrationSetting.Int32(nameof(UnlockDeadlineMilliseconds), UnlockDeadlineVariable, minimum: 1, static c => c.UnlockDeadlineMilliseconds, static (c, v) => c.UnlockDeadlineMilliseconds = v),
        MigrationSetting.Int32(nameof(HeartbeatIntervalMilliseconds), HeartbeatIntervalVariable, minimum: 1, static c => c.HeartbeatIntervalMilliseconds, static (c, v) => c.HeartbeatIntervalMilliseconds = v),
        MigrationSetting.Int32(nameof(HeartbeatFailureRetryCount), HeartbeatFailureRetryCountVariable, minimum: 0, static c => c.HeartbeatFailureRetryCount, static (c, v) => c.HeartbeatFailureRetryCount = v),
        MigrationSetting.Boolean(nameof(AllowNewerMigrations), AllowNewerMigrationsVariable, static (c, v) => c.AllowNewerMigrations = v),
    ];

    /// <summary>
    /// Reads the configuration from the environment: each variable unset keeps its default; a set one must be an
    /// integer (optional sign, digits, invariant culture, surrounding white space ignored). Then <see cref="Validate"/>s it.
    /// </summary>
    /// <exception cref="FormatException">A variable is not an integer; the message names the variable and its value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; the message names the variable and its value.</exception>
    public static MigrationConfig FromEnvironment()
    {
        // What almost every start finds: no variable set. The defaults are valid, so nothing is parsed or checked (and
        // the table of settings, its delegates and their code, are not even built).
        foreach (var variable in VariableNames())
        {
            if (Environment.GetEnvironmentVariable(variable) is not null)
            {
                return FromVariables(Environment.GetEnvironmentVariable);
            }
        }

        return new MigrationConfig();
    }

    /// <summary>
    /// The environment variable of every setting, in the order of <see cref="Settings"/> (a test keeps the two the same).
    /// A method, not a static field: reading it must not build <see cref="Settings"/>.
    /// </summary>
    internal static string[] VariableNames() =>
        [DeadlineVariable, UnlockDeadlineVariable, HeartbeatIntervalVariable, HeartbeatFailureRetryCountVariable, AllowNewerMigrationsVariable];

    /// <summary>The same as <see cref="FromEnvironment"/> over any variable lookup (for tests and other sources).</summary>
    internal static MigrationConfig FromVariables(Func<string, string?> getVariable)
    {
        var config = new MigrationConfig();
        config.ApplyVariables(getVariable);
        config.Validate();
        return config;
    }

    /// <summary>
    /// Sets every property whose variable is set (parsed and checked, the error naming the variable); the others keep
    /// their current value. Hosting calls it on a config already read from IConfiguration, so the variables override it.
    /// </summary>
    internal void ApplyVariables(Func<string, string?> getVariable)
    {
        foreach (var setting in Settings)
        {
            var raw = getVariable(setting.Variable);
            if (raw is not null)
            {
                setting.Apply(this, "environment variable " + setting.Variable, setting.Variable, raw);
            }
        }
    }

    /// <summary>Checks every value against its rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; the message names the property and its value.</exception>
    public void Validate()
    {
        foreach (var setting in Settings)
        {
            setting.Validate(this);
        }
    }
}

/// <summary>
/// One setting of <see cref="MigrationConfig"/>: its property (also its IConfiguration key), its environment variable,
/// its rule, and how text from any source becomes its value. Each kind of value is one factory (<see cref="Int32"/>);
/// the readers only walk <see cref="MigrationConfig.Settings"/> and call <see cref="Apply"/> and <see cref="Validate"/>,
/// so a setting of a kind that exists is one more entry, and a new kind is one more factory, not a new path in them.
/// </summary>
internal sealed class MigrationSetting
{
    // (config, source, name, raw): parse raw, naming source and name in errors, and assign it to config.
    private readonly Action<MigrationConfig, string, string, string> _apply;
    private readonly Action<MigrationConfig> _validate;

    private MigrationSetting(string property, string variable, string rule, Action<MigrationConfig, string, string, string> apply, Action<MigrationConfig> validate)
    {
        Property = property;
        Variable = variable;
        Rule = rule;
        _apply = apply;
        _validate = validate;
    }

    /// <summary>The <see cref="MigrationConfig"/> property, and the key of the setting in an IConfiguration section.</summary>
    public string Property { get; }

    /// <summary>The environment variable: <see cref="MigrationConfig.ConfigPrefix"/> + the property in snake case.</summary>
    public string Variable { get; }

    /// <summary>The rule in the words of the error messages: <c>greater than zero</c>, <c>zero or more</c>.</summary>
    public string Rule { get; }

    /// <summary>An <see cref="int"/> setting: optional sign and digits, at least <paramref name="minimum"/> (0 or 1).</summary>
    public static MigrationSetting Int32(string property, string variable, int minimum, Func<MigrationConfig, int> get, Action<MigrationConfig, int> set) =>
        new(
            property,
            variable,
            RuleText(minimum),
            (config, source, name, raw) => set(config, ParseInt32(source, name, raw, minimum)),
            config => CheckMinimum(property, get(config), minimum));

    /// <summary>A <see cref="bool"/> setting: <c>true</c> or <c>false</c>, ignoring case and surrounding white space; nothing else.</summary>
    public static MigrationSetting Boolean(string property, string variable, Action<MigrationConfig, bool> set) =>
        new(
            property,
            variable,
            "true or false",
            (config, source, _, raw) => set(config, ParseBoolean(source, raw)),
            static _ => { });

    /// <summary>Parses <paramref name="raw"/> and assigns it to the property of <paramref name="config"/>.</summary>
    /// <param name="config">The config to set.</param>
    /// <param name="source">What the value is, for the message: <c>environment variable MIGRATION_…</c>, <c>configuration value Migration:…</c>.</param>
    /// <param name="name">The exception's parameter name: the variable or key.</param>
    /// <param name="raw">The text as found.</param>
    /// <exception cref="FormatException">Not of the setting's kind; the message names the source and quotes the value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Breaks the rule; the message names the source and quotes the value.</exception>
    public void Apply(MigrationConfig config, string source, string name, string raw) => _apply(config, source, name, raw);

    /// <summary>Checks the property's current value, whatever set it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value breaks the rule; the message names the property and the value.</exception>
    public void Validate(MigrationConfig config) => _validate(config);

    private static string RuleText(int minimum) => minimum == 0 ? "zero or more" : "greater than zero";

    private static void CheckMinimum(string name, int value, int minimum)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(MigrationConfig)}.{name} must be {RuleText(minimum)}, but was {value.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>
    /// Parses one setting from text (optional sign and digits, invariant culture, surrounding white space ignored) and
    /// checks it against its minimum: the one rule for every source (environment variables, IConfiguration).
    /// </summary>
    /// <param name="source">What the value is, for the message: <c>environment variable MIGRATION_…</c>.</param>
    /// <param name="name">The exception's parameter name: the variable or key.</param>
    /// <param name="raw">The text as found.</param>
    /// <param name="minimum">0 or 1.</param>
    /// <exception cref="FormatException">Not an integer; the message names the source and quotes the value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Below the minimum or beyond an int; the message names the source and quotes the value.</exception>
    private static int ParseInt32(string source, string name, string raw, int minimum)
    {
        var text = raw.Trim();
        if (!IsSignedDigits(text))
        {
            throw new FormatException($"The {source} must be an integer, but was '{raw}'.");
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw new ArgumentOutOfRangeException(name, raw, $"The {source} must be {RuleText(minimum)} and at most {int.MaxValue.ToString(CultureInfo.InvariantCulture)}, but was '{raw}'.");
        }

        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, raw, $"The {source} must be {RuleText(minimum)}, but was '{raw}'.");
        }

        return value;
    }

    // bool.TryParse would do, but its words and its white space rules are the framework's: this is the contract's.
    private static bool ParseBoolean(string source, string raw)
    {
        var text = raw.Trim();
        if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.Equals(text, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        throw new FormatException($"The {source} must be true or false, but was '{raw}'.");
    }

    // int.TryParse alone would accept other forms with other styles; the contract is "optional sign, then digits".
    private static bool IsSignedDigits(string text)
    {
        var start = text.Length > 0 && (text[0] == '+' || text[0] == '-') ? 1 : 0;
        if (start == text.Length)
        {
            return false;
        }

        for (var i = start; i < text.Length; i++)
        {
            if (text[i] is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
