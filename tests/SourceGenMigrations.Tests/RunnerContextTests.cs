using Microsoft.Extensions.Logging;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>Argument checks, what a migration sees, and logging.</summary>
public sealed class RunnerContextTests
{
    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }

    private static MigrationOptions CountingOptions(StrongCounter counter)
    {
        var options = Options();
        options.ConfigProvider = () =>
        {
            counter.Value++;
            return new MigrationConfig();
        };
        return options;
    }

    private sealed class StrongCounter
    {
        public int Value { get; set; }
    }

    [Fact]
    public async Task Null_manager_is_rejected_before_the_config_is_read()
    {
        var counter = new StrongCounter();

        var ex = await Assert.ThrowsAsync<ArgumentNullException>(() => MigrationRunner.RunAsync(null!, [Reg(1, [])], CountingOptions(counter)));

        Assert.Equal("manager", ex.ParamName);
        Assert.Equal(0, counter.Value);
    }

    [Fact]
    public async Task Null_registration_list_is_rejected_before_any_call()
    {
        var counter = new StrongCounter();
        var manager = new FakeMigrationManager();

        var ex = await Assert.ThrowsAsync<ArgumentNullException>(() => MigrationRunner.RunAsync(manager, null!, CountingOptions(counter)));

        Assert.Equal("registrations", ex.ParamName);
        Assert.Equal(0, counter.Value);
        Assert.Empty(manager.Calls);
    }

    [Fact]
    public async Task Null_registration_entry_is_rejected_before_any_call()
    {
        var counter = new StrongCounter();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        await Assert.ThrowsAsync<ArgumentNullException>(() => MigrationRunner.RunAsync(manager, [Reg(1, ran), null!], CountingOptions(counter)));

        Assert.Equal(0, counter.Value);
        Assert.Empty(manager.Calls);
        Assert.Empty(ran);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Two_registrations_with_one_order_are_rejected_before_any_call(bool secondEnabled)
    {
        var counter = new StrongCounter();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<ArgumentException>(
            () => MigrationRunner.RunAsync(manager, [Reg(1, ran), Reg(42, ran), Reg(42, ran, enabled: secondEnabled)], CountingOptions(counter)));

        Assert.Contains("42", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, counter.Value);
        Assert.Empty(manager.Calls);
        Assert.Empty(ran);
    }

    [Theory]
    [InlineData(null, MigrationStatus.Pending)]
    [InlineData(MigrationStatus.Pending, MigrationStatus.Pending)]
    [InlineData(MigrationStatus.Started, MigrationStatus.Started)]
    [InlineData(MigrationStatus.Failed, MigrationStatus.Failed)]
    public async Task A_migration_sees_the_status_persisted_before_this_run(MigrationStatus? persisted, MigrationStatus expected)
    {
        var manager = new FakeMigrationManager();
        if (persisted is { } status)
        {
            manager.WithStatus(1, status);
        }

        MigrationStatus? seen = null;

        await Run(manager, [Reg(1, [], body: (context, _) => { seen = context.PreviousStatus; return Task.CompletedTask; })], Options());

        Assert.Equal(expected, seen);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task A_migration_sees_its_order_and_name()
    {
        var manager = new FakeMigrationManager();
        var seen = new List<(long Order, string Name)>();
        Task Record(MigrationContext context, CancellationToken _)
        {
            seen.Add((context.Order, context.Name));
            Assert.NotNull(context.Logger);
            return Task.CompletedTask;
        }

        await Run(manager, [Reg(3, [], body: Record, name: "My.Ns.Migrations.CreateUsers"), Reg(5, [], body: Record)], Options());

        Assert.Equal([(3L, "My.Ns.Migrations.CreateUsers"), (5L, "migration 5")], seen);
    }

    [Fact]
    public async Task Services_are_the_options_services_first()
    {
        var services = new EmptyServices();
        var manager = new ServiceProvidingFakeManager();
        IServiceProvider? seen = null;

        await Run(manager, [Reg(1, [], body: (c, _) => { seen = c.Services; return Task.CompletedTask; })], Options(services: services));

        Assert.Same(services, seen);
    }

    [Fact]
    public async Task Services_are_the_manager_when_it_is_a_service_provider()
    {
        var manager = new ServiceProvidingFakeManager();
        IServiceProvider? seen = null;

        await Run(manager, [Reg(1, [], body: (c, _) => { seen = c.Services; return Task.CompletedTask; })], Options());

        Assert.Same(manager, seen);
    }

    [Fact]
    public async Task Services_are_null_otherwise()
    {
        var manager = new FakeMigrationManager();
        IServiceProvider? seen = new EmptyServices();

        await Run(manager, [Reg(1, [], body: (c, _) => { seen = c.Services; return Task.CompletedTask; })], Options());

        Assert.Null(seen);
    }

    [Fact]
    public async Task A_migration_runs_with_a_token_that_the_run_can_cancel()
    {
        var manager = new FakeMigrationManager();
        var canBeCanceled = false;

        await Run(manager, [Reg(1, [], body: (_, ct) => { canBeCanceled = ct.CanBeCanceled; return Task.CompletedTask; })], Options());

        Assert.True(canBeCanceled);
    }

    [Fact]
    public async Task A_disabled_migration_that_had_run_before_is_skipped_with_a_warning()
    {
        var logger = new RecordingLogger();
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(2, MigrationStatus.Completed)
            .WithStatus(3, MigrationStatus.Failed);
        var ran = new List<long>();

        await Run(
            manager,
            [
                Reg(1, ran),
                Reg(2, ran, enabled: false, name: "My.Ns.Migrations.OldBackfill"),
                Reg(3, ran, enabled: false, name: "My.Ns.Migrations.BrokenOne"),
                Reg(4, ran, enabled: false, name: "My.Ns.Migrations.NeverRan"),
                Reg(5, ran),
            ],
            Options(logger: logger));

        Assert.Equal([5L], ran);
        Assert.Equal(Sequence(P(5, "PENDING"), P(5, "STARTED"), P(5, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        var warnings = logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, m => m.Contains("My.Ns.Migrations.OldBackfill", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("My.Ns.Migrations.BrokenOne", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning && e.Message.Contains("NeverRan", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Started_and_completed_migrations_are_logged_at_information()
    {
        var logger = new RecordingLogger();
        var manager = new FakeMigrationManager();

        await Run(manager, [Reg(1, [], name: "My.Ns.Migrations.CreateUsers")], Options(logger: logger));

        var info = logger.Entries.Where(e => e.Level == LogLevel.Information && e.Message.Contains("My.Ns.Migrations.CreateUsers", StringComparison.Ordinal)).ToList();
        Assert.True(info.Count >= 2, $"expected a started and a completed line, got: {string.Join(" | ", logger.Entries)}");
    }
}
