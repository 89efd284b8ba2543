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
/// for the variables. Both sources are read from the one table of settings that <see cref="MigrationConfig.FromEnvironment"/>
/// uses, each value parsed once: no binder, no reflection, NativeAOT safe. Keys the table does not know are ignored.
/// </para>
/// </remarks>
public static class MigrationConfiguration
{
    /// <summary>The configuration section read by default: <c>Migration</c>.</summary>
    public const string DefaultSectionName = "Migration";

    /// <summary>
    /// The key, in the section, of the hosting mode (<see cref="MigrationHostingOptions.Mode"/>): <c>Migration:Mode</c>
    /// (the variable <c>Migration__Mode</c>), one of <c>Apply</c>, <c>WaitForCompletion</c>, <c>Verify</c>, ignoring case.
    /// </summary>
    public const string ModeKey = "Mode";

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
            ApplySection(config, configuration.GetSection(sectionName));
        }

        if (environmentVariablesOverride)
        {
            // After the section, so that a set variable wins; the section's value was still parsed and checked.
            config.ApplyVariables(Environment.GetEnvironmentVariable);
        }

        config.Validate();
        return config;
    }

    /// <summary>The hosting mode: <c>{section}:Mode</c> when set, else <paramref name="fallback"/> (the options' value).</summary>
    /// <exception cref="FormatException">The value is not a mode (empty included); the message names the key and quotes the value.</exception>
    internal static MigrationHostingMode LoadMode(IConfiguration? configuration, string sectionName, MigrationHostingMode fallback)
    {
        var section = configuration?.GetSection(sectionName);
        if (section?[ModeKey] is not { } raw)
        {
            return fallback;
        }

        // Names compared by hand: the words of the contract, no enum parsing by reflection.
        var text = raw.Trim();
        foreach (var (name, mode) in Modes)
        {
            if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
            {
                return mode;
            }
        }

        var key = ConfigurationPath.Combine(section.Path, ModeKey);
        throw new FormatException($"The configuration value {key} must be {nameof(MigrationHostingMode.Apply)}, {nameof(MigrationHostingMode.WaitForCompletion)} or {nameof(MigrationHostingMode.Verify)}, but was '{raw}'.");
    }

    /// <summary>Each mode's name, as written in configuration.</summary>
    internal static readonly (string Name, MigrationHostingMode Mode)[] Modes =
    [
        (nameof(MigrationHostingMode.Apply), MigrationHostingMode.Apply),
        (nameof(MigrationHostingMode.WaitForCompletion), MigrationHostingMode.WaitForCompletion),
        (nameof(MigrationHostingMode.Verify), MigrationHostingMode.Verify),
    ];

    private static void ApplySection(MigrationConfig config, IConfigurationSection section)
    {
        foreach (var setting in MigrationConfig.Settings)
        {
            var raw = section[setting.Property];
            if (raw is not null)
            {
                var key = ConfigurationPath.Combine(section.Path, setting.Property);
                setting.Apply(config, "configuration value " + key, key, raw);
            }
        }
    }
}
