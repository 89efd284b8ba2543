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
    /// Reads the configuration from the environment: each variable unset keeps its default; a set one must be an
    /// integer (optional sign, digits, invariant culture, surrounding white space ignored). Then <see cref="Validate"/>s it.
    /// </summary>
    /// <exception cref="FormatException">A variable is not an integer; the message names the variable and its value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; the message names the variable and its value.</exception>
    public static MigrationConfig FromEnvironment() => FromVariables(Environment.GetEnvironmentVariable);

    /// <summary>The same as <see cref="FromEnvironment"/> over any variable lookup (for tests and other sources).</summary>
    internal static MigrationConfig FromVariables(Func<string, string?> getVariable)
    {
        var config = new MigrationConfig();
        config.DeadlineMilliseconds = Read(getVariable, DeadlineVariable, config.DeadlineMilliseconds, minimum: 1);
        config.UnlockDeadlineMilliseconds = Read(getVariable, UnlockDeadlineVariable, config.UnlockDeadlineMilliseconds, minimum: 1);
        config.HeartbeatIntervalMilliseconds = Read(getVariable, HeartbeatIntervalVariable, config.HeartbeatIntervalMilliseconds, minimum: 1);
        config.HeartbeatFailureRetryCount = Read(getVariable, HeartbeatFailureRetryCountVariable, config.HeartbeatFailureRetryCount, minimum: 0);
        config.Validate();
        return config;
    }

    /// <summary>Checks every value against its rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; the message names the property and its value.</exception>
    public void Validate()
    {
        CheckMinimum(nameof(DeadlineMilliseconds), DeadlineMilliseconds, 1);
        CheckMinimum(nameof(UnlockDeadlineMilliseconds), UnlockDeadlineMilliseconds, 1);
        CheckMinimum(nameof(HeartbeatIntervalMilliseconds), HeartbeatIntervalMilliseconds, 1);
        CheckMinimum(nameof(HeartbeatFailureRetryCount), HeartbeatFailureRetryCount, 0);
    }

    private static void CheckMinimum(string name, int value, int minimum)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(MigrationConfig)}.{name} must be {RuleText(minimum)}, but was {value.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    private static string RuleText(int minimum) => minimum == 0 ? "zero or more" : "greater than zero";

    private static int Read(Func<string, string?> getVariable, string variable, int defaultValue, int minimum)
    {
        var raw = getVariable(variable);
        return raw is null ? defaultValue : ParseSetting("environment variable " + variable, variable, raw, minimum);
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
    internal static int ParseSetting(string source, string name, string raw, int minimum)
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
