using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using SourceGenMigrations;
using SourceGenMigrations.Hosting;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

// The Shop service as one image runs in Kubernetes: `Shop migrate|status|unlock` is the migration command (a Job, an
// init container, an operator); without a command it is the service, whose Migration:Mode (Migration__Mode) says whether
// it applies the migrations, waits for them, or verifies them. Settings (environment): Shop__Database (sqlite or
// postgres), Shop__ConnectionString, Shop__LeaseMilliseconds, Shop__PollMilliseconds, Shop__ExitWhenReady (stop once
// ready, for the tests). It prints "readiness: <status>" each time its readiness check changes.
var builder = Host.CreateApplicationBuilder(args);
var shop = builder.Configuration.GetSection("Shop");
var lease = TimeSpan.FromMilliseconds(int.Parse(shop["LeaseMilliseconds"] ?? "30000", CultureInfo.InvariantCulture));
var poll = TimeSpan.FromMilliseconds(int.Parse(shop["PollMilliseconds"] ?? "100", CultureInfo.InvariantCulture));
builder.Services.AddMigrations(
    Shop.GeneratedMigrations.Registrations,
    _ => shop["Database"] == "postgres"
        ? new PostgreSqlMigrationManager(shop["ConnectionString"]!, new PostgreSqlMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll })
        : new SqliteMigrationManager(shop["ConnectionString"]!, new SqliteMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll }),
    options => options.WaitPollInterval = poll);
builder.Services.AddHealthChecks().AddMigrationsHealthCheck();
builder.Services.AddHostedService<Shop.ReadinessReporter>();

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
    var message = exception.Message;
    for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
    {
        message += ": " + inner.Message;
    }

    await Console.Error.WriteLineAsync("error: " + message).ConfigureAwait(false);
    return 1;
}

namespace Shop
{
    /// <summary>Prints the readiness check's status when it changes (what a readinessProbe would see); stops the host once ready when told to.</summary>
    internal sealed class ReadinessReporter(HealthCheckService health, IHostApplicationLifetime lifetime, IConfiguration configuration) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            HealthStatus? last = null;
            while (!stoppingToken.IsCancellationRequested)
            {
                var report = await health.CheckHealthAsync(static check => check.Tags.Contains("ready"), stoppingToken).ConfigureAwait(false);
                if (report.Status != last)
                {
                    last = report.Status;
                    await Console.Out.WriteLineAsync("readiness: " + report.Status).ConfigureAwait(false);
                }

                if (report.Status == HealthStatus.Healthy && configuration["Shop:ExitWhenReady"] == "true")
                {
                    lifetime.StopApplication();
                    return;
                }

                await Task.Delay(50, stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
