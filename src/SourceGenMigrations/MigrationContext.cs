using Microsoft.Extensions.Logging;

namespace SourceGenMigrations;

/// <summary>What a running migration sees of its run.</summary>
public sealed class MigrationContext
{
    /// <summary>Creates a context; the runner does this for each migration it runs (useful in tests of a migration).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="logger"/> is null.</exception>
    public MigrationContext(long order, string name, MigrationStatus previousStatus, IServiceProvider? services, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(logger);
        Order = order;
        Name = name;
        PreviousStatus = previousStatus;
        Services = services;
        Logger = logger;
    }

    /// <summary>The migration's order.</summary>
    public long Order { get; }

    /// <summary>The migration's name: the method's full name for generated registrations, else <c>migration {Order}</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The status persisted before this run: <see cref="MigrationStatus.Pending"/> for a first run,
    /// <see cref="MigrationStatus.Started"/> or <see cref="MigrationStatus.Failed"/> for a retry.
    /// </summary>
    public MigrationStatus PreviousStatus { get; }

    /// <summary>
    /// <see cref="MigrationOptions.Services"/>; when that is null and the manager implements <see cref="IServiceProvider"/>,
    /// the manager (the shipped managers serve their database connection this way).
    /// </summary>
    public IServiceProvider? Services { get; }

    /// <summary>The run's logger.</summary>
    public ILogger Logger { get; }
}
