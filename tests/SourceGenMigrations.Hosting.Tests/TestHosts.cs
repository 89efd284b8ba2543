using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace SourceGenMigrations.Hosting.Tests;

internal static class TestHosts
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A host without the default sources (no appsettings, no environment configuration), with <paramref name="configuration"/> in memory.</summary>
    public static HostApplicationBuilder CreateBuilder(IDictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        return builder;
    }

    public static MigrationRegistration Migration(long order, EventLog log, Func<MigrationContext, CancellationToken, Task>? body = null, bool enabled = true) =>
        new(order, async (context, cancellationToken) =>
        {
            log.Add($"migration {context.Order} ({context.Name}) previous {context.PreviousStatus}");
            if (body is not null)
            {
                await body(context, cancellationToken);
            }
        }, enabled, $"Test.Migrations.M{order}");
}

/// <summary>Records each lifecycle call of a hosted service.</summary>
internal sealed class RecordingHostedService(EventLog log, string name) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Record("starting");

    public Task StartAsync(CancellationToken cancellationToken) => Record("start");

    public Task StartedAsync(CancellationToken cancellationToken) => Record("started");

    public Task StoppingAsync(CancellationToken cancellationToken) => Record("stopping");

    public Task StopAsync(CancellationToken cancellationToken) => Record("stop");

    public Task StoppedAsync(CancellationToken cancellationToken) => Record("stopped");

    private Task Record(string step)
    {
        log.Add($"{name}: {step}");
        return Task.CompletedTask;
    }
}

/// <summary>A plain hosted service (not lifecycle-aware).</summary>
internal sealed class PlainHostedService(EventLog log, string name) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        log.Add($"{name}: start");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
