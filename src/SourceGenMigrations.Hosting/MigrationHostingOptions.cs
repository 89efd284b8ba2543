namespace SourceGenMigrations.Hosting;

/// <summary>How <see cref="MigrationServiceCollectionExtensions.AddMigrations"/> runs (or waits for) the migrations at start-up.</summary>
public sealed class MigrationHostingOptions
{
    /// <summary>The <see cref="Microsoft.Extensions.Configuration.IConfiguration"/> section bound to <see cref="MigrationConfig"/>; default <c>Migration</c>.</summary>
    public string ConfigurationSectionName { get; set; } = MigrationConfiguration.DefaultSectionName;

    /// <summary>
    /// Whether a set <c>MIGRATION_*</c> environment variable overrides the configuration section (default true; see
    /// <see cref="MigrationConfiguration"/> for the precedence). False reads the defaults and the section only.
    /// </summary>
    public bool EnvironmentVariablesOverride { get; set; } = true;

    /// <summary>
    /// Whether the manager returned by the factory is disposed after the run when it implements
    /// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> (default true). Set it to false when the factory
    /// returns an instance that the container or someone else owns.
    /// </summary>
    public bool DisposeManager { get; set; } = true;

    /// <summary>The clock of the run's deadlines and heartbeat; null means a <see cref="System.TimeProvider"/> registered in the container, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// What the host does with the migrations (default <see cref="MigrationHostingMode.Apply"/>). The configuration key
    /// <c>{ConfigurationSectionName}:Mode</c> (<c>Migration:Mode</c>, or the variable <c>Migration__Mode</c>) overrides it
    /// when set, so that one image runs as a migrating Job and as waiting replicas; a value that is not a mode fails
    /// start-up naming the key and the value.
    /// </summary>
    public MigrationHostingMode Mode { get; set; } = MigrationHostingMode.Apply;

    /// <summary>
    /// How often a replica in <see cref="MigrationHostingMode.WaitForCompletion"/> reads the statuses (default two seconds;
    /// greater than zero).
    /// </summary>
    public TimeSpan WaitPollInterval { get; set; } = TimeSpan.FromSeconds(2);
}
