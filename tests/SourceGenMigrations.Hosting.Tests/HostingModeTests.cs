using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Hosting.Tests;

/// <summary>
/// The hosting modes: Apply (the default, HostStartupTests), Verify (start only on an up-to-date database) and
/// WaitForCompletion (never migrate: wait, after the host started, for another runner). The configuration key
/// Migration:Mode: valid, invalid, empty.
/// </summary>
public sealed class HostingModeTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(400);

    private static MigrationRegistration M(long order) => new(order, (_, _) => Task.CompletedTask, name: $"Shop.Migrations.M{order}");

    private static readonly MigrationRegistration[] Registrations = [M(1), M(2), M(3)];

    private static IHost BuildHost(
        IMigrationManager manager,
        MigrationHostingMode? mode = null,
        IDictionary<string, string?>? configuration = null,
        Action<MigrationHostingOptions>? configure = null,
        EventLog? log = null)
    {
        var builder = TestHosts.CreateBuilder(configuration);
        builder.Services.AddMigrations(Registrations, _ => manager, options =>
        {
            options.WaitPollInterval = TimeSpan.FromMilliseconds(10);
            options.EnvironmentVariablesOverride = false;
            if (mode is { } value)
            {
                options.Mode = value;
            }

            configure?.Invoke(options);
        });
        builder.Services.AddHealthChecks().AddMigrationsHealthCheck();
        if (log is not null)
        {
            builder.Services.AddSingleton<IHostedService>(_ => new RecordingHostedService(log, "app"));
        }

        return builder.Build();
    }

    private static async Task<HealthReportEntry> ReadinessAsync(IHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["migrations"];
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestHosts.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(10);
        }
    }

    // --- Migration:Mode ---

    [Theory]
    [InlineData("Verify")]
    [InlineData("verify")]
    [InlineData("  VERIFY ")]
    public async Task The_configuration_key_chooses_the_mode_ignoring_case_and_white_space(string value)
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Completed).With(3, MigrationStatus.Completed);
        var manager = new SharedStoreManager(store, "replica", Lease);
        using var host = BuildHost(manager, MigrationHostingMode.Apply, new Dictionary<string, string?> { ["Migration:Mode"] = value });

        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        // Verify only read: an Apply run would have taken the locks.
        Assert.Equal(0, manager.Writes);
        Assert.Equal(1, manager.Reads);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_the_key_the_options_mode_applies_and_the_default_is_Apply()
    {
        Assert.Equal(MigrationHostingMode.Apply, new MigrationHostingOptions().Mode);
        var store = new SharedStore();
        var manager = new SharedStoreManager(store, "replica", Lease);
        using var host = BuildHost(manager);

        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.All(store.Statuses.Values, static s => Assert.Equal(MigrationStatus.Completed, s));
        Assert.Equal(3, store.Statuses.Count);
        await host.StopAsync();
    }

    [Theory]
    [InlineData("Wait", "Migration:Mode", null)]
    [InlineData("", "Migration:Mode", null)]
    [InlineData("1", "Migration:Mode", null)]
    [InlineData("Applied", "Deploy:Mode", "Deploy")]
    public async Task A_value_that_is_not_a_mode_fails_start_naming_the_key_and_the_value_before_the_manager_is_created(string value, string key, string? section)
    {
        var created = false;
        var builder = TestHosts.CreateBuilder(new Dictionary<string, string?> { [key] = value });
        builder.Services.AddMigrations(Registrations, _ =>
        {
            created = true;
            return new InMemoryMigrationManager();
        }, options => options.ConfigurationSectionName = section ?? MigrationConfiguration.DefaultSectionName);
        using var host = builder.Build();

        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.StartsWith("failed to get the migration configuration", exception.Message, StringComparison.Ordinal);
        var cause = Assert.IsType<FormatException>(exception.InnerException);
        Assert.Equal($"The configuration value {key} must be Apply, WaitForCompletion or Verify, but was '{value}'.", cause.Message);
        Assert.False(created);
        Assert.Equal(MigrationRunState.Failed, host.Services.GetRequiredService<MigrationStatusTracker>().State);
    }

    // --- Verify ---

    [Fact]
    public async Task Verify_starts_on_an_up_to_date_database_without_writing_or_taking_a_lock()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Completed).With(3, MigrationStatus.Completed);
        var manager = new SharedStoreManager(store, "replica", Lease);
        var log = new EventLog();
        using var host = BuildHost(manager, MigrationHostingMode.Verify, log: log);

        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Equal(0, manager.Writes);
        Assert.Null(store.Lease());
        Assert.Equal(HealthStatus.Healthy, (await ReadinessAsync(host)).Status);
        Assert.Contains("app: start", log.Events);
        await host.StopAsync();
    }

    [Fact]
    public async Task Verify_fails_at_once_on_a_database_that_is_not_up_to_date_and_nothing_else_starts()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed);
        var manager = new SharedStoreManager(store, "replica", Lease);
        var log = new EventLog();
        using var host = BuildHost(manager, MigrationHostingMode.Verify, log: log);

        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Equal("the database is not up to date with this build", exception.Step);
        Assert.Contains("2 migration(s) to run, from order 2 to 3", exception.InnerException!.Message, StringComparison.Ordinal);
        Assert.Equal(0, manager.Writes);
        Assert.DoesNotContain(log.Events, static e => e.StartsWith("app:", StringComparison.Ordinal));
        Assert.Equal(new Dictionary<long, MigrationStatus> { [1] = MigrationStatus.Completed }, store.Statuses);
    }

    [Fact]
    public async Task Verify_logs_the_plan_when_it_fails()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed);
        var logger = new ListLoggerProvider();
        var builder = TestHosts.CreateBuilder();
        builder.Logging.AddProvider(logger);
        builder.Services.AddMigrations(Registrations, _ => new SharedStoreManager(store, "replica", Lease), options => options.Mode = MigrationHostingMode.Verify);
        using var host = builder.Build();

        await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        var error = Assert.Single(logger.Entries, static e => e.Level == LogLevel.Error && e.Message.Contains("mode Verify", StringComparison.Ordinal));
        Assert.Contains("    2  -          run             Shop.Migrations.M2", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 migration(s) to run, from order 2 to 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_fails_with_the_plans_error_on_migrations_this_build_does_not_know()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Completed).With(3, MigrationStatus.Completed).With(4, MigrationStatus.Completed);
        using var host = BuildHost(new SharedStoreManager(store, "replica", Lease), MigrationHostingMode.Verify);

        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Equal("found persisted migration(s) that are not in the registry: 4", exception.Step);
    }

    // --- WaitForCompletion ---

    [Fact]
    public async Task A_waiting_replica_starts_not_ready_and_becomes_ready_only_once_another_runner_completed_the_migrations()
    {
        var store = new SharedStore();
        var waiter = new SharedStoreManager(store, "replica", Lease);
        var log = new EventLog();
        using var host = BuildHost(waiter, MigrationHostingMode.WaitForCompletion, log: log);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        // The host starts at once (other services included): the wait is not inside StartingAsync.
        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        Assert.Contains("app: started", log.Events);
        await WaitUntilAsync(() => waiter.Reads >= 2);
        var waiting = await ReadinessAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, waiting.Status);
        Assert.Equal("Waiting for another runner to complete the migrations: migration(s) 1 (not started), 2 (not started), 3 (not started).", waiting.Description);
        Assert.Equal(MigrationRunState.Waiting, tracker.State);

        // The Job.
        var job = new SharedStoreManager(store, "job", Lease);
        await MigrationRunner.RunAsync(job, Registrations, new MigrationOptions { ConfigProvider = () => new MigrationConfig() });

        await WaitUntilAsync(() => tracker.IsCompleted);
        Assert.Equal(HealthStatus.Healthy, (await ReadinessAsync(host)).Status);
        Assert.Null(tracker.Detail);
        Assert.Equal(0, waiter.Writes);
        await host.StopAsync().WaitAsync(TestHosts.Timeout);
    }

    [Fact]
    public async Task An_up_to_date_database_makes_a_waiting_replica_ready_at_its_first_read()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Completed).With(3, MigrationStatus.Completed);
        var waiter = new SharedStoreManager(store, "replica", Lease);
        using var host = BuildHost(waiter, MigrationHostingMode.WaitForCompletion);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await WaitUntilAsync(() => tracker.IsCompleted);

        Assert.Equal(1, waiter.Reads);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_migration_that_stays_FAILED_with_no_live_lease_for_a_lease_duration_fails_the_waiter_and_stops_the_host()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Failed);
        using var host = BuildHost(new SharedStoreManager(store, "replica", Lease), MigrationHostingMode.WaitForCompletion);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();
        var started = DateTime.UtcNow;

        // As host.RunAsync: start, then wait for the shutdown the failed wait asks for; the stop rethrows the failure.
        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await host.WaitForShutdownAsync().WaitAsync(TestHosts.Timeout).ContinueWith(static _ => { }, TaskScheduler.Default);
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StopAsync());

        Assert.Equal("the migration with order 2 stayed FAILED", exception.Step);
        Assert.Equal(2, exception.Order);
        Assert.Contains("no runner has held the migration lease for 0.4 s", exception.InnerException!.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started >= Lease, "it failed before a lease duration passed");
        Assert.Equal(MigrationRunState.Failed, tracker.State);
        Assert.Same(exception, tracker.Error);
    }

    [Fact]
    public async Task A_FAILED_migration_a_Job_retries_under_a_live_lease_keeps_the_replica_waiting_until_it_completes()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Failed);
        var waiter = new SharedStoreManager(store, "replica", Lease);
        using var host = BuildHost(waiter, MigrationHostingMode.WaitForCompletion);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        // A retrying Job holds the lease for three lease durations before it gets to the migration.
        Assert.True(store.TryTake("job", TimeSpan.FromSeconds(30)));
        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await Task.Delay(Lease * 3);
        Assert.Equal(MigrationRunState.Waiting, tracker.State);
        Assert.Contains("2 (FAILED)", tracker.Detail, StringComparison.Ordinal);

        store.Release("job");
        await MigrationRunner.RunAsync(new SharedStoreManager(store, "job", Lease), Registrations, new MigrationOptions { ConfigProvider = () => new MigrationConfig() });
        await WaitUntilAsync(() => tracker.IsCompleted);
        await host.StopAsync().WaitAsync(TestHosts.Timeout);
    }

    [Fact]
    public async Task Waiting_past_the_deadline_fails_with_the_deadline_and_what_it_waited_for()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed);
        using var host = BuildHost(
            new SharedStoreManager(store, "replica", Lease),
            MigrationHostingMode.WaitForCompletion,
            new Dictionary<string, string?> { ["Migration:DeadlineMilliseconds"] = "300" });
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await WaitUntilAsync(() => tracker.State == MigrationRunState.Failed);

        var exception = Assert.IsType<MigrationException>(tracker.Error);
        Assert.Equal("the migration deadline of 300 ms expired", exception.Step);
        var timeout = Assert.IsType<TimeoutException>(exception.InnerException);
        Assert.Contains("(migration(s) 2 (not started), 3 (not started))", timeout.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<MigrationException>(() => host.StopAsync());
    }

    [Fact]
    public async Task Migrations_this_build_does_not_know_fail_the_waiter_at_once_unless_newer_ones_are_allowed()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed).With(2, MigrationStatus.Completed).With(3, MigrationStatus.Completed).With(4, MigrationStatus.Completed);
        using var refused = BuildHost(new SharedStoreManager(store, "replica", Lease), MigrationHostingMode.WaitForCompletion);
        using var allowed = BuildHost(
            new SharedStoreManager(store, "replica", Lease),
            MigrationHostingMode.WaitForCompletion,
            new Dictionary<string, string?> { ["Migration:AllowNewerMigrations"] = "true" });
        var refusedTracker = refused.Services.GetRequiredService<MigrationStatusTracker>();
        var allowedTracker = allowed.Services.GetRequiredService<MigrationStatusTracker>();

        await refused.StartAsync().WaitAsync(TestHosts.Timeout);
        await allowed.StartAsync().WaitAsync(TestHosts.Timeout);
        await WaitUntilAsync(() => refusedTracker.State == MigrationRunState.Failed && allowedTracker.IsCompleted);

        Assert.Equal("found persisted migration(s) that are not in the registry: 4", (refusedTracker.Error as MigrationException)?.Step);
        await Assert.ThrowsAsync<MigrationException>(() => refused.StopAsync());
        await allowed.StopAsync();
    }

    [Fact]
    public async Task Waiting_needs_a_manager_that_reads_without_creating_anything()
    {
        using var host = BuildHost(new InMemoryMigrationManager(), MigrationHostingMode.WaitForCompletion);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();

        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await WaitUntilAsync(() => tracker.State == MigrationRunState.Failed);

        Assert.Equal("failed to wait for the migrations", (tracker.Error as MigrationException)?.Step);
        Assert.Contains("IMigrationOperations", tracker.Error?.InnerException?.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<MigrationException>(() => host.StopAsync());
    }

    [Fact]
    public async Task Stopping_a_waiting_host_ends_the_wait_without_an_error()
    {
        using var host = BuildHost(new SharedStoreManager(new SharedStore(), "replica", Lease), MigrationHostingMode.WaitForCompletion);
        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await WaitUntilAsync(() => tracker.State == MigrationRunState.Waiting && tracker.Detail != "the host is starting");

        await host.StopAsync().WaitAsync(TestHosts.Timeout);

        Assert.Equal(MigrationRunState.Failed, tracker.State);
        Assert.IsAssignableFrom<OperationCanceledException>(tracker.Error);
    }

    [Fact]
    public async Task A_wait_poll_interval_of_zero_fails_start()
    {
        using var host = BuildHost(
            new SharedStoreManager(new SharedStore(), "replica", Lease),
            MigrationHostingMode.WaitForCompletion,
            configure: static options => options.WaitPollInterval = TimeSpan.Zero);

        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Contains("WaitPollInterval must be greater than zero", exception.InnerException!.Message, StringComparison.Ordinal);
    }
}
