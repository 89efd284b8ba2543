using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace SourceGenMigrations.Hosting;

/// <summary>Registers the start-up migration run in a Generic Host.</summary>
public static class MigrationServiceCollectionExtensions
{
    /// <summary>The category of the run's log: <c>SourceGenMigrations</c>.</summary>
    public const string LoggerCategory = "SourceGenMigrations";

    /// <summary>
    /// Runs <paramref name="registrations"/> once while the host starts, before any hosted service's
    /// <see cref="IHostedService.StartAsync"/> (so before the web server listens): an <see cref="IHostedLifecycleService"/>
    /// inserted first among the services, whose <see cref="IHostedLifecycleService.StartingAsync"/> runs the migrations.
    /// A failure makes <c>host.StartAsync</c> (and <c>host.RunAsync</c>) throw the runner's <see cref="MigrationException"/>;
    /// stopping the host or the start-up timeout cancels the run (the locks are still released).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="registrations">The migrations, usually <c>GeneratedMigrations.Registrations</c>.</param>
    /// <param name="managerFactory">Creates the manager from the run's service provider (a scope of the host's container, disposed after the run).</param>
    /// <param name="configure">Changes the <see cref="MigrationHostingOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>
    /// The run gets its <see cref="MigrationConfig"/> from <see cref="MigrationConfiguration.Load"/> (the <c>Migration</c>
    /// section, then the <c>MIGRATION_*</c> variables), its logger from <c>ILoggerFactory</c> (category
    /// <see cref="LoggerCategory"/>), and <see cref="MigrationOptions.Services"/> is a scope of the host's container, so
    /// migrations resolve singletons and scoped services. It also registers the <see cref="MigrationStatusTracker"/>.
    /// When <c>HostOptions.ServicesStartConcurrently</c> is true, other services' <c>StartingAsync</c> may run at the
    /// same time as the migrations; every <c>StartAsync</c> still waits for them.
    /// <para>That is <see cref="MigrationHostingMode.Apply"/>, the default. <see cref="MigrationHostingOptions.Mode"/> (or the
    /// configuration key <c>Migration:Mode</c>) makes a replica wait for another runner instead
    /// (<see cref="MigrationHostingMode.WaitForCompletion"/>, after the host has started) or only check that the database
    /// is up to date (<see cref="MigrationHostingMode.Verify"/>). <c>host.RunMigrationCommandAsync(args)</c> runs the
    /// <c>migrate</c>, <c>status</c> and <c>unlock</c> commands with the same registrations, manager and configuration.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The migrations were already added to <paramref name="services"/>.</exception>
    public static IServiceCollection AddMigrations(
        this IServiceCollection services,
        IReadOnlyList<MigrationRegistration> registrations,
        Func<IServiceProvider, IMigrationManager> managerFactory,
        Action<MigrationHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(registrations);
        ArgumentNullException.ThrowIfNull(managerFactory);
        if (services.Any(static descriptor => descriptor.ServiceType == typeof(MigrationHostedService)))
        {
            throw new InvalidOperationException("AddMigrations was already called on these services; a host runs one migration table.");
        }

        var options = new MigrationHostingOptions();
        configure?.Invoke(options);
        var settings = new MigrationHostingSettings(registrations, managerFactory, options);

        services.TryAddSingleton<MigrationStatusTracker>();
        services.AddSingleton(settings);
        services.AddSingleton(serviceProvider => new MigrationHostedService(serviceProvider, settings, serviceProvider.GetRequiredService<MigrationStatusTracker>()));

        // First among the hosted services: its StartingAsync runs before the others' (and every StartAsync after all of them).
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(static serviceProvider => serviceProvider.GetRequiredService<MigrationHostedService>()));
        return services;
    }
}
