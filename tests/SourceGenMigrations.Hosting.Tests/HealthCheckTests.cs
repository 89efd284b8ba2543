using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SourceGenMigrations.Hosting.Tests;

public sealed class HealthCheckTests
{
    private static async Task<HealthReportEntry> CheckAsync(IServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return Assert.Single(report.Entries, static entry => entry.Key == "migrations").Value;
    }

    [Fact]
    public async Task Not_ready_before_and_during_the_run_healthy_after_success()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, manager.Log, async (_, cancellationToken) =>
            {
                running.SetResult();
                await gate.Task.WaitAsync(cancellationToken);
            })],
            _ => manager);
        builder.Services.AddHealthChecks().AddMigrationsHealthCheck();

        using var host = builder.Build();
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        var before = await CheckAsync(host.Services);
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Equal("Migrations have not started yet.", before.Description);
        Assert.Equal(MigrationRunState.Pending, tracker.State);
        Assert.Contains("ready", before.Tags);

        var start = host.StartAsync();
        await running.Task.WaitAsync(TestHosts.Timeout);
        var during = await CheckAsync(host.Services);
        Assert.Equal(HealthStatus.Unhealthy, during.Status);
        Assert.Equal("Migrations are running.", during.Description);
        Assert.Equal(MigrationRunState.Running, tracker.State);
        Assert.False(tracker.IsCompleted);

        gate.SetResult();
        await start.WaitAsync(TestHosts.Timeout);
        var after = await CheckAsync(host.Services);
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal(MigrationRunState.Completed, tracker.State);
        Assert.True(tracker.IsCompleted);
        Assert.Null(tracker.Error);
        await host.StopAsync();
    }

    [Fact]
    public async Task Unhealthy_with_the_error_after_a_failure()
    {
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations([TestHosts.Migration(3, manager.Log, (_, _) => throw new InvalidOperationException("boom"))], _ => manager);
        builder.Services.AddHealthChecks().AddMigrationsHealthCheck(failureStatus: HealthStatus.Degraded);

        using var host = builder.Build();
        var startError = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        var entry = await CheckAsync(host.Services);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Same(startError, entry.Exception);
        Assert.Equal("Migrations failed: failed to complete the migration with order 3: boom", entry.Description);
        Assert.Same(startError, host.Services.GetRequiredService<MigrationStatusTracker>().Error);
    }

    [Fact]
    public async Task The_failure_status_applies_while_not_ready_and_tags_can_be_replaced()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMigrations([], _ => new InMemoryMigrationManager());
        services.AddHealthChecks().AddMigrationsHealthCheck("db-migrations", HealthStatus.Degraded, ["startup"]);
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var entry = report.Entries["db-migrations"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(["startup"], entry.Tags);
    }

    [Fact]
    public async Task Without_AddMigrations_the_check_stays_not_ready()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHealthChecks().AddMigrationsHealthCheck();
        await using var provider = services.BuildServiceProvider();

        var entry = await CheckAsync(provider);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
    }
}
