using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenMigrations.Hosting;

/// <summary>The migration command (<see cref="MigrationCommandLine"/>) of a host's application.</summary>
public static class MigrationHostExtensions
{
    /// <summary>
    /// Runs the migration command in <paramref name="args"/> (<c>migrate</c>, <c>status</c>, <c>unlock [--force]</c>;
    /// see <see cref="MigrationCommandLine.RunAsync"/>) with what <see cref="MigrationServiceCollectionExtensions.AddMigrations"/>
    /// was given: the registrations, the manager factory (called with a scope of the host's container), the configuration
    /// (<see cref="MigrationConfiguration.Load"/>, read when the command runs) and the host's logging. The host is built
    /// but not started: no hosted service runs, whatever the mode.
    /// </summary>
    /// <param name="host">A built host whose services called <c>AddMigrations</c>.</param>
    /// <param name="args">The command and its options, usually the application's <c>args</c>.</param>
    /// <param name="cancellationToken">Cancels the command (as SIGINT and SIGTERM do).</param>
    /// <returns>One of <see cref="MigrationExitCodes"/>: the application's exit code.</returns>
    /// <example>
    /// <code>
    /// using var host = builder.Build();
    /// if (MigrationCommandLine.IsCommand(args))
    /// {
    ///     return await host.RunMigrationCommandAsync(args);   // a Kubernetes Job: args ["migrate"]
    /// }
    ///
    /// await host.RunAsync();
    /// </code>
    /// </example>
    /// <exception cref="InvalidOperationException"><c>AddMigrations</c> was not called on the host's services.</exception>
    public static async Task<int> RunMigrationCommandAsync(this IHost host, IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(args);
        var services = host.Services;
        var settings = services.GetService<MigrationHostingSettings>()
            ?? throw new InvalidOperationException($"{nameof(MigrationServiceCollectionExtensions.AddMigrations)} was not called on the host's services: there are no migrations to run a command on.");
        var options = settings.Options;
        var configuration = services.GetService<IConfiguration>();
        MigrationConfig LoadConfig() => MigrationConfiguration.Load(configuration, options.ConfigurationSectionName, options.EnvironmentVariablesOverride);

        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var commandOptions = new MigrationCommandLineOptions { DisposeManager = options.DisposeManager };
            return await MigrationCommandLine.RunAsync(
                args,
                () =>
                {
                    var manager = settings.ManagerFactory(scope.ServiceProvider);
                    commandOptions.RunOptions = MigrationHostedService.RunOptions(services, scope.ServiceProvider, manager, LoadConfig, options);
                    return manager;
                },
                settings.Registrations,
                commandOptions,
                cancellationToken).ConfigureAwait(false);
        }
    }
}
