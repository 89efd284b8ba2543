using Microsoft.Extensions.Logging;

namespace SourceGenMigrations;

/// <summary>Optional settings of one <see cref="MigrationRunner.RunAsync"/> call.</summary>
public sealed class MigrationOptions
{
    /// <summary>Supplies the configuration; null means <see cref="MigrationConfig.FromEnvironment"/> (the <c>MIGRATION_*</c> variables).</summary>
    public Func<MigrationConfig>? ConfigProvider { get; set; }

    /// <summary>Receives the run's log; null means no logging.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Exposed to migrations as <see cref="MigrationContext.Services"/>; null means the manager when it implements <see cref="IServiceProvider"/>.</summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>The clock for the deadline, the unlock deadlines and the heartbeat; null means <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// The version of this build, stored with the statuses the run writes (<see cref="MigrationDescriptor.BuildVersion"/>)
    /// so that the status table says which build applied each migration. Null (the default) means the entry assembly's
    /// name and informational version (<c>MyService 1.4.2+3f2a1c9</c>), read once per process and only when a migration
    /// runs; the empty string stores none.
    /// </summary>
    public string? BuildVersion { get; set; }
}
