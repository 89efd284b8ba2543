using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenMigrations.Hosting.Tests;

/// <summary>host.RunMigrationCommandAsync: the migration command with what AddMigrations was given, on a host that is built but not started.</summary>
public sealed class HostCommandTests
{
    private static readonly MigrationRegistration[] Registrations =
        [new(1, (_, _) => Task.CompletedTask, name: "Shop.Migrations.M1"), new(2, (_, _) => Task.CompletedTask, name: "Shop.Migrations.M2")];

    private static IHost BuildHost(SharedStoreManager manager, EventLog log, IDictionary<string, string?>? configuration = null)
    {
        var builder = TestHosts.CreateBuilder(configuration);
        builder.Services.AddMigrations(Registrations, _ => manager, static options => options.EnvironmentVariablesOverride = false);
        builder.Services.AddSingleton<IHostedService>(_ => new RecordingHostedService(log, "app"));
        return builder.Build();
    }

    [Fact]
    public async Task Migrate_runs_the_hosts_migrations_with_its_manager_and_starts_no_hosted_service()
    {
        var store = new SharedStore();
        var log = new EventLog();
        using var host = BuildHost(new SharedStoreManager(store, "job", TimeSpan.FromSeconds(5)), log);

        var code = await host.RunMigrationCommandAsync(["migrate"]).WaitAsync(TestHosts.Timeout);

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal(new Dictionary<long, MigrationStatus> { [1] = MigrationStatus.Completed, [2] = MigrationStatus.Completed }, store.Statuses);
        Assert.Empty(log.Events);
        Assert.Equal(MigrationRunState.Pending, host.Services.GetRequiredService<MigrationStatusTracker>().State);
    }

    [Fact]
    public async Task Status_only_reads()
    {
        var store = new SharedStore().With(1, MigrationStatus.Completed);
        var manager = new SharedStoreManager(store, "operator", TimeSpan.FromSeconds(5));
        using var host = BuildHost(manager, new EventLog());

        var code = await host.RunMigrationCommandAsync(["status"]).WaitAsync(TestHosts.Timeout);

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal(0, manager.Writes);
        Assert.Equal(1, manager.Reads);
    }

    [Fact]
    public async Task The_hosts_configuration_section_is_read_and_a_bad_value_fails_the_command()
    {
        var store = new SharedStore();
        using var host = BuildHost(new SharedStoreManager(store, "job", TimeSpan.FromSeconds(5)), new EventLog(), new Dictionary<string, string?> { ["Migration:DeadlineMilliseconds"] = "ten" });

        var code = await host.RunMigrationCommandAsync(["migrate"]).WaitAsync(TestHosts.Timeout);

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Empty(store.Statuses);
    }

    [Fact]
    public async Task Unlock_force_releases_a_live_lease_through_the_hosts_manager()
    {
        var store = new SharedStore();
        Assert.True(store.TryTake("job/7/abc", TimeSpan.FromMinutes(1)));
        using var host = BuildHost(new SharedStoreManager(store, "operator", TimeSpan.FromSeconds(5)), new EventLog());

        Assert.Equal(MigrationExitCodes.Failed, await host.RunMigrationCommandAsync(["unlock"]).WaitAsync(TestHosts.Timeout));
        Assert.NotNull(store.Lease());
        Assert.Equal(MigrationExitCodes.Success, await host.RunMigrationCommandAsync(["unlock", "--force"]).WaitAsync(TestHosts.Timeout));
        Assert.Null(store.Lease());
    }

    [Fact]
    public async Task A_host_without_migrations_has_no_command_to_run()
    {
        using var host = TestHosts.CreateBuilder().Build();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => host.RunMigrationCommandAsync(["migrate"]));

        Assert.Contains("AddMigrations was not called", exception.Message, StringComparison.Ordinal);
    }
}
