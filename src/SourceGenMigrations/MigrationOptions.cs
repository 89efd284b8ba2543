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
}
