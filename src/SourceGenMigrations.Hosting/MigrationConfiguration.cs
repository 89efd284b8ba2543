using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SourceGenMigrations.Hosting;

/// <summary>
/// Reads a <see cref="MigrationConfig"/> from <see cref="IConfiguration"/> (by default the <c>Migration</c> section,
/// so <c>appsettings.json</c> and <c>Migration__DeadlineMilliseconds</c> work) and then from the <c>MIGRATION_*</c>
/// environment variables.
/// </summary>
/// <remarks>
/// <para>
/// Precedence, lowest first: the defaults of <see cref="MigrationConfig"/>, then the configuration section, then each
/// <c>MIGRATION_*</c> variable that is set. The variables win because they are the switch operators already use for
/// every way of running migrations (a plain <c>GeneratedMigrations.RunAsync</c> reads only them), so a service that
/// moves to the host keeps honouring them, and because the environment overriding files is the usual .NET order.
/// A <c>Migration__DeadlineMilliseconds</c> variable is part of <see cref="IConfiguration"/> and so sits at the section's level.
/// </para>
/// <para>
/// Every value that is set is checked, whichever source wins: a section value must be an integer (optional sign,
/// digits, surrounding white space ignored) and follow its rule, and the error names its key (for example
/// <c>Migration:DeadlineMilliseconds</c>) and its value, in the words <see cref="MigrationConfig.FromEnvironment"/> uses
/// for the variables. Binding uses the configuration binding source generator: no reflection, NativeAOT safe.
/// </para>
/// </remarks>
public static class MigrationConfiguration
{
    /// <summary>The configuration section read by default: <c>Migration</c>.</summary>
    public const string DefaultSectionName = "Migration";

    /// <summary>Reads and validates the configuration (see the remarks of <see cref="MigrationConfiguration"/> for the precedence).</summary>
    /// <param name="configuration">The application's configuration; null reads only the defaults and the variables.</param>
    /// <param name="sectionName">The section holding the <see cref="MigrationConfig"/> properties.</param>
    /// <param name="environmentVariablesOverride">Whether set <c>MIGRATION_*</c> variables override the section.</param>
    /// <exception cref="FormatException">A value is not an integer; the message names the key (or variable) and the value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; the message names the key (or variable) and the value.</exception>
    public static MigrationConfig Load(IConfiguration? configuration, string sectionName = DefaultSectionName, bool environmentVariablesOverride = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(sectionName);
        var config = new MigrationConfig();
        if (configuration is not null)
        {
            var section = configuration.GetSection(sectionName);

            // Checked before binding so that the errors name the key and value in FromEnvironment's words.
            Check(section, nameof(MigrationConfig.DeadlineMilliseconds), minimum: 1);
            Check(section, nameof(MigrationConfig.UnlockDeadlineMilliseconds), minimum: 1);
            Check(section, nameof(MigrationConfig.HeartbeatIntervalMilliseconds), minimum: 1);
            Check(section, nameof(MigrationConfig.HeartbeatFailureRetryCount), minimum: 0);
            try
            {
                section.Bind(config);
            }
            catch (InvalidOperationException exception)
            {
                throw new FormatException($"The configuration section {section.Path} could not be bound to {nameof(MigrationConfig)}: {exception.Message}", exception);
            }
        }

        if (environmentVariablesOverride)
        {
            ApplyEnvironment(config);
        }

        config.Validate();
        return config;
    }

    private static void ApplyEnvironment(MigrationConfig config)
    {
        static bool IsSet(string variable) => Environment.GetEnvironmentVariable(variable) is not null;

        if (!IsSet(MigrationConfig.DeadlineVariable) && !IsSet(MigrationConfig.UnlockDeadlineVariable)
            && !IsSet(MigrationConfig.HeartbeatIntervalVariable) && !IsSet(MigrationConfig.HeartbeatFailureRetryCountVariable))
        {
            return;
        }

        // FromEnvironment parses and checks the variables with its own error texts; only the set ones are taken.
        var fromEnvironment = MigrationConfig.FromEnvironment();
        if (IsSet(MigrationConfig.DeadlineVariable))
        {
            config.DeadlineMilliseconds = fromEnvironment.DeadlineMilliseconds;
        }

        if (IsSet(MigrationConfig.UnlockDeadlineVariable))
        {
            config.UnlockDeadlineMilliseconds = fromEnvironment.UnlockDeadlineMilliseconds;
        }

        if (IsSet(MigrationConfig.HeartbeatIntervalVariable))
        {
            config.HeartbeatIntervalMilliseconds = fromEnvironment.HeartbeatIntervalMilliseconds;
        }

        if (IsSet(MigrationConfig.HeartbeatFailureRetryCountVariable))
        {
            config.HeartbeatFailureRetryCount = fromEnvironment.HeartbeatFailureRetryCount;
        }
    }

    private static void Check(IConfigurationSection section, string property, int minimum)
    {
        var raw = section[property];
        if (raw is null)
        {
            return;
        }

        var key = ConfigurationPath.Combine(section.Path, property);
        var text = raw.Trim();
        if (!IsSignedDigits(text))
        {
            throw new FormatException($"The configuration value {key} must be an integer, but was '{raw}'.");
        }

        var rule = minimum == 0 ? "zero or more" : "greater than zero";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw new ArgumentOutOfRangeException(key, raw, $"The configuration value {key} must be {rule} and at most {int.MaxValue.ToString(CultureInfo.InvariantCulture)}, but was '{raw}'.");
        }

        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(key, raw, $"The configuration value {key} must be {rule}, but was '{raw}'.");
        }
    }

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
