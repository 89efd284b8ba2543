using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SourceGenMigrations.Hosting;

/// <summary>What <see cref="MigrationServiceCollectionExtensions.AddMigrations"/> was given.</summary>
internal sealed record MigrationHostingSettings(
    IReadOnlyList<MigrationRegistration> Registrations,
    Func<IServiceProvider, IMigrationManager> ManagerFactory,
    MigrationHostingOptions Options);

/// <summary>
/// Runs the migrations (<see cref="MigrationHostingMode.Apply"/>) or checks them (<see cref="MigrationHostingMode.Verify"/>)
/// in <see cref="StartingAsync"/>, the earliest point of the host's start; or waits for them
/// (<see cref="MigrationHostingMode.WaitForCompletion"/>) from <see cref="StartedAsync"/>, in the background, once the host
/// (and its health endpoint) is up.
/// </summary>
internal sealed class MigrationHostedService(IServiceProvider services, MigrationHostingSettings settings, MigrationStatusTracker tracker) : IHostedLifecycleService, IDisposable
{
    private MigrationConfig? _waitConfig;
    private CancellationTokenSource? _waitStop;
    private Task? _wait;
    private Exception? _waitFailure;

    private ILogger Logger => services.GetService<ILoggerFactory>()?.CreateLogger(MigrationServiceCollectionExtensions.LoggerCategory) ?? NullLogger.Instance;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!tracker.TryStart())
        {
            return;
        }

        try
        {
            var (config, mode) = LoadConfiguration();
            switch (mode)
            {
                case MigrationHostingMode.WaitForCompletion:
                    // Not here: a wait inside StartingAsync would hold back the health endpoint (and a liveness probe
                    // would kill the pod). It starts once the host has started.
                    _waitConfig = config;
                    tracker.SetWaiting("the host is starting");
                    return;
                case MigrationHostingMode.Verify:
                    await WithManagerAsync(config, (manager, options) => VerifyAsync(manager, options, cancellationToken)).ConfigureAwait(false);
                    break;
                default:
                    await WithManagerAsync(config, (manager, options) => MigrationRunner.RunAsync(manager, settings.Registrations, options, cancellationToken)).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception exception)
        {
            tracker.SetFailed(exception);
            throw;
        }

        tracker.SetCompleted();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_waitConfig is { } config)
        {
            _waitStop = new CancellationTokenSource();
            var stop = _waitStop.Token;
            _wait = Task.Run(() => WaitInBackgroundAsync(config, stop), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (_wait is { } wait)
        {
            if (_waitStop is { } stop)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            await wait.ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A failed wait fails the host's <c>RunAsync</c> with its <see cref="MigrationException"/> (it stopped the host).</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) =>
        _waitFailure is { } failure ? Task.FromException(failure) : Task.CompletedTask;

    public void Dispose()
    {
        // A host disposed without being stopped: the wait ends (cancelled) instead of outliving it. The container
        // disposes this twice (as itself and as the IHostedService that resolves to it).
        if (Interlocked.Exchange(ref _waitStop, null) is { } stop)
        {
            stop.Cancel();
            stop.Dispose();
        }
    }

    /// <summary>Reads and checks the configuration and the mode before any manager is created: nothing is touched on a bad value.</summary>
    private (MigrationConfig Config, MigrationHostingMode Mode) LoadConfiguration()
    {
        var options = settings.Options;
        try
        {
            var configuration = services.GetService<IConfiguration>();
            var config = MigrationConfiguration.Load(configuration, options.ConfigurationSectionName, options.EnvironmentVariablesOverride);
            var mode = MigrationConfiguration.LoadMode(configuration, options.ConfigurationSectionName, options.Mode);
            if (mode == MigrationHostingMode.WaitForCompletion && options.WaitPollInterval <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options.WaitPollInterval), options.WaitPollInterval, $"{nameof(MigrationHostingOptions)}.{nameof(MigrationHostingOptions.WaitPollInterval)} must be greater than zero, but was {options.WaitPollInterval}.");
            }

            return (config, mode);
        }
        catch (Exception exception)
        {
            throw new MigrationException("failed to get the migration configuration", exception);
        }
    }

    private async Task VerifyAsync(IMigrationManager manager, MigrationOptions options, CancellationToken cancellationToken)
    {
        var plan = await MigrationRunner.PlanAsync(manager, settings.Registrations, options, cancellationToken).ConfigureAwait(false);
        if (plan.Error is { } error)
        {
            Log.VerifyFailed(Logger, plan.ToString());
            throw error;
        }

        if (!plan.IsUpToDate)
        {
            Log.VerifyFailed(Logger, plan.ToString());
            throw new MigrationException(
                "the database is not up to date with this build",
                new InvalidOperationException($"Mode {nameof(MigrationHostingMode.Verify)} starts only on a database that is up to date: {plan.Summary()}. Run the migrations first (a Job, an init container, or mode {nameof(MigrationHostingMode.Apply)})."));
        }

        Log.VerifyPassed(Logger);
    }

    private async Task WaitInBackgroundAsync(MigrationConfig config, CancellationToken stop)
    {
        try
        {
            await WithManagerAsync(config, (manager, options) =>
                new MigrationWaiter(manager, settings.Registrations, config, options, settings.Options.WaitPollInterval, tracker.SetWaiting).WaitAsync(stop)).ConfigureAwait(false);
            tracker.SetCompleted();
        }
        catch (OperationCanceledException exception) when (stop.IsCancellationRequested)
        {
            // The host stops: not the wait's failure.
            tracker.SetFailed(exception);
        }
        catch (Exception exception)
        {
            _waitFailure = exception;
            tracker.SetFailed(exception);
            Log.WaitFailed(Logger, MigrationCommandLine.Describe(exception));
            services.GetService<IHostApplicationLifetime>()?.StopApplication();
        }
    }

    /// <summary>Creates the manager in a scope of its own, runs <paramref name="action"/> with the run's options, disposes both.</summary>
    private async Task WithManagerAsync(MigrationConfig config, Func<IMigrationManager, MigrationOptions, Task> action)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            IMigrationManager manager;
            try
            {
                manager = settings.ManagerFactory(scope.ServiceProvider)
                    ?? throw new InvalidOperationException("The migration manager factory returned null.");
            }
            catch (Exception exception)
            {
                throw new MigrationException("failed to create the migration manager", exception);
            }

            try
            {
                await action(manager, RunOptions(services, scope.ServiceProvider, manager, () => config, settings.Options)).ConfigureAwait(false);
            }
            finally
            {
                if (settings.Options.DisposeManager)
                {
                    await MigrationCommandLine.DisposeManagerAsync(manager).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// The run's options in a host: the configuration, the host's logger (category <c>SourceGenMigrations</c>), the
    /// scope (then the manager) as services, the clock.
    /// </summary>
    internal static MigrationOptions RunOptions(IServiceProvider hostServices, IServiceProvider scopedServices, IMigrationManager manager, Func<MigrationConfig> config, MigrationHostingOptions options) => new()
    {
        ConfigProvider = config,
        Logger = hostServices.GetService<ILoggerFactory>()?.CreateLogger(MigrationServiceCollectionExtensions.LoggerCategory),
        Services = manager is IServiceProvider managerServices
            ? new HostThenManagerServiceProvider(scopedServices, managerServices)
            : scopedServices,
        TimeProvider = options.TimeProvider ?? hostServices.GetService<TimeProvider>(),
    };

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
