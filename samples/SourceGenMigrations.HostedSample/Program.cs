using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SourceGenMigrations;
using SourceGenMigrations.HostedSample;
using SourceGenMigrations.Hosting;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

// A Generic Host worker: the migrations run while the host starts, before ReportService starts; a readiness check
// reports whether they completed. Connection: ConnectionStrings:Sample (SQLite), or ConnectionStrings:Postgres when set.
// appsettings.json sits beside the executable; the database file is relative to the working directory.
// One image, every role: `SourceGenMigrations.HostedSample migrate|status|unlock [--force]` is the migration command (a
// Kubernetes Job, an init container, an operator); without a command it is the service, and Migration:Mode
// (Migration__Mode=WaitForCompletion or Verify) makes its replicas wait for the Job, or only check, instead of migrating.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddMigrations(
    GeneratedMigrations.Registrations,
    services =>
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var postgres = configuration.GetConnectionString("Postgres");
        return string.IsNullOrWhiteSpace(postgres)
            ? new SqliteMigrationManager(configuration.GetConnectionString("Sample") ?? "Data Source=hosted-sample.db")
            : new PostgreSqlMigrationManager(postgres);
    });
builder.Services.AddHealthChecks().AddMigrationsHealthCheck();
builder.Services.AddHostedService<ReportService>();

using var host = builder.Build();
if (MigrationCommandLine.IsCommand(args))
{
    return await host.RunMigrationCommandAsync(args).ConfigureAwait(false);
}

try
{
    await host.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (MigrationException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}: {exception.InnerException?.Message}").ConfigureAwait(false);
    return 1;
}

namespace SourceGenMigrations.HostedSample
{
    /// <summary>
    /// Stands for the service's real work: it starts only after the migrations (in mode WaitForCompletion, once the host
    /// started, while the replica waits), reports readiness once it is ready (or after ten seconds), and stops the host.
    /// </summary>
    internal sealed partial class ReportService(HealthCheckService health, IHostApplicationLifetime lifetime, ILogger<ReportService> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            HealthReport report;
            while ((report = await health.CheckHealthAsync(check => check.Tags.Contains("ready"), stoppingToken).ConfigureAwait(false)).Status != HealthStatus.Healthy
                && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, stoppingToken).ConfigureAwait(false);
            }

            LogReadiness(logger, report.Status);
            lifetime.StopApplication();
        }

        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Readiness after start-up: {Status}")]
        private static partial void LogReadiness(ILogger logger, HealthStatus status);
    }
}
