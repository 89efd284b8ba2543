using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Hosting;

/// <summary>What <see cref="MigrationServiceCollectionExtensions.AddMigrations"/> was given.</summary>
internal sealed record MigrationHostingSettings(
    IReadOnlyList<MigrationRegistration> Registrations,
    Func<IServiceProvider, IMigrationManager> ManagerFactory,
    MigrationHostingOptions Options);

/// <summary>Runs the migrations in <see cref="StartingAsync"/>, the earliest point of the host's start.</summary>
internal sealed class MigrationHostedService(IServiceProvider services, MigrationHostingSettings settings, MigrationStatusTracker tracker) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!tracker.TryStart())
        {
            return;
        }

        try
        {
            await RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            tracker.SetFailed(exception);
            throw;
        }

        tracker.SetCompleted();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = settings.Options;

        // Checked before the manager is created, with the runner's step message: nothing is touched on a bad value.
        MigrationConfig config;
        try
        {
            config = MigrationConfiguration.Load(services.GetService<IConfiguration>(), options.ConfigurationSectionName, options.EnvironmentVariablesOverride);
        }
        catch (Exception exception)
        {
            throw new MigrationException("failed to get the migration configuration", exception);
        }

        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var scopedServices = scope.ServiceProvider;
            IMigrationManager manager;
            try
            {
                manager = settings.ManagerFactory(scopedServices)
                    ?? throw new InvalidOperationException("The migration manager factory returned null.");
            }
            catch (Exception exception)
            {
                throw new MigrationException("failed to create the migration manager", exception);
            }

            try
            {
                var runOptions = new MigrationOptions
                {
                    ConfigProvider = () => config,
                    Logger = services.GetService<ILoggerFactory>()?.CreateLogger(MigrationServiceCollectionExtensions.LoggerCategory),
                    Services = manager is IServiceProvider managerServices
                        ? new HostThenManagerServiceProvider(scopedServices, managerServices)
                        : scopedServices,
                    TimeProvider = options.TimeProvider ?? services.GetService<TimeProvider>(),
                };
                await MigrationRunner.RunAsync(manager, settings.Registrations, runOptions, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (options.DisposeManager)
                {
                    await DisposeAsync(manager).ConfigureAwait(false);
                }
            }
        }
    }

    private static async ValueTask DisposeAsync(IMigrationManager manager)
    {
        switch (manager)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>
    /// What migrations see as <see cref="MigrationContext.Services"/>: the database types (<see cref="DbConnection"/>,
    /// <see cref="DbTransaction"/>, <see cref="DbDataSource"/> and their providers' types) from the manager first, so a
    /// transactional migration gets the connection inside its transaction even when the host registers its own (as
    /// <c>AddNpgsqlDataSource</c> does); every other type from the host first, then from the manager.
    /// </summary>
    private sealed class HostThenManagerServiceProvider(IServiceProvider host, IServiceProvider manager) : IServiceProvider
    {
        public object? GetService(Type serviceType) => IsDatabaseType(serviceType)
            ? manager.GetService(serviceType) ?? host.GetService(serviceType)
            : host.GetService(serviceType) ?? manager.GetService(serviceType);

        private static bool IsDatabaseType(Type serviceType) =>
            typeof(DbConnection).IsAssignableFrom(serviceType)
            || typeof(DbTransaction).IsAssignableFrom(serviceType)
            || typeof(DbDataSource).IsAssignableFrom(serviceType);
    }
}
