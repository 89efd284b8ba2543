using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>MigrationRunner.PlanAsync: steps 1–4, 7 and 8 of a run, no migration lock, nothing run or written.</summary>
public sealed class PlanTests
{
    private static readonly string[] PlanSequence = ["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()", "ListStatuses()"];

    private static Task<MigrationPlan> Plan(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null) =>
        MigrationRunner.PlanAsync(manager, registrations, options ?? Options()).WaitAsync(SafetyTimeout, CancellationToken.None);

    [Fact]
    public async Task Plan_reports_every_action_without_taking_the_migration_lock_or_writing()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(2, MigrationStatus.Failed)
            .WithStatus(3, MigrationStatus.Started)
            .WithStatus(5, MigrationStatus.Completed);
        var ran = new List<long>();

        var plan = await Plan(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran, name: "Third"), Reg(4, ran), Reg(5, ran, enabled: false), Reg(6, ran)]);

        Assert.Equal(PlanSequence, manager.Calls);
        Assert.Empty(ran);
        Assert.Equal(0, manager.HeartbeatCount);
        Assert.Null(plan.Error);
        Assert.Empty(plan.UnknownPersistedOrders);
        Assert.Equal(1, plan.LatestCompletedOrder);
        Assert.Equal(4, plan.RunCount);
        Assert.False(plan.IsUpToDate);
        Assert.Equal(
            [
                (1L, "migration 1", true, (MigrationStatus?)MigrationStatus.Completed, MigrationAction.SkipCompleted),
                (2L, "migration 2", true, MigrationStatus.Failed, MigrationAction.Run),
                (3L, "Third", true, MigrationStatus.Started, MigrationAction.Run),
                (4L, "migration 4", true, null, MigrationAction.Run),
                (5L, "migration 5", false, MigrationStatus.Completed, MigrationAction.SkipDisabled),
                (6L, "migration 6", true, null, MigrationAction.Run),
            ],
            plan.Entries.Select(e => (e.Order, e.Name, e.Enabled, e.PersistedStatus, e.Action)));
    }

    private static MigrationOptions AllowingNewer() => Options(config: new MigrationConfig { AllowNewerMigrations = true });

    [Fact]
    public async Task Without_allowing_newer_migrations_orders_a_newer_build_applied_are_unknown_and_the_error_says_how_to_allow_them()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(6, MigrationStatus.Completed).WithStatus(7, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, []), Reg(5, [])]);

        Assert.Equal("found persisted migration(s) that are not in the registry: 6, 7", plan.Error?.Step);
        var cause = Assert.IsType<InvalidDataException>(plan.Error!.InnerException);
        Assert.Contains("highest order is 5", cause.Message, StringComparison.Ordinal);
        Assert.Contains("MIGRATION_ALLOW_NEWER_MIGRATIONS=true", cause.Message, StringComparison.Ordinal);
        Assert.Empty(plan.NewerPersistedOrders);
    }

    [Fact]
    public async Task Allowing_newer_migrations_tolerates_orders_above_the_highest_known_and_runs_nothing_below_them()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(5, MigrationStatus.Completed)
            .WithStatus(6, MigrationStatus.Completed)
            .WithStatus(7, MigrationStatus.Failed);

        var plan = await Plan(manager, [Reg(1, []), Reg(5, [])], AllowingNewer());

        Assert.Null(plan.Error);
        Assert.True(plan.IsUpToDate);
        Assert.Equal([6L, 7L], plan.UnknownPersistedOrders);
        Assert.Equal([6L, 7L], plan.NewerPersistedOrders);
    }

    [Fact]
    public async Task Allowing_newer_migrations_keeps_unknown_orders_at_or_below_the_highest_known_an_error()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(3, MigrationStatus.Completed)
            .WithStatus(5, MigrationStatus.Completed)
            .WithStatus(9, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, []), Reg(5, [])], AllowingNewer());

        Assert.Equal("found persisted migration(s) that are not in the registry: 3", plan.Error?.Step);
    }

    [Fact]
    public async Task A_newer_migration_that_breaks_older_builds_and_took_effect_stops_even_an_allowing_build_naming_it()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed);
        manager.InitialStatuses.Add(new PersistedStatus(6, MigrationStatus.Completed));
        manager.InitialStatuses.Add(new PersistedStatus(7, MigrationStatus.Completed) { BreaksOlderBuilds = true, Name = "App.Migrations.DropLegacyColumn" });

        var plan = await Plan(manager, [Reg(1, [])], AllowingNewer());

        Assert.Equal("found persisted migration(s) that break older builds: 7 (App.Migrations.DropLegacyColumn)", plan.Error?.Step);
        Assert.Contains("Deploy the newer build", plan.Error!.InnerException!.Message, StringComparison.Ordinal);
        Assert.Empty(plan.NewerPersistedOrders);
        Assert.False(plan.IsUpToDate);
    }

    [Fact]
    public async Task A_breaking_migration_that_never_took_effect_does_not_stop_a_rollback()
    {
        // A newer build's breaking migration failed and rolled back: only PENDING is left of it.
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed);
        manager.InitialStatuses.Add(new PersistedStatus(7, MigrationStatus.Pending) { BreaksOlderBuilds = true, Name = "App.Migrations.DropLegacyColumn" });

        var plan = await Plan(manager, [Reg(1, [])], AllowingNewer());

        Assert.Null(plan.Error);
        Assert.Equal([7L], plan.NewerPersistedOrders);
    }

    [Fact]
    public async Task An_allowing_build_runs_nothing_below_a_newer_build_s_completed_migration()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(6, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, []), Reg(5, [])], AllowingNewer());

        Assert.Equal("cannot run migrations out of order (found 5 but latest completed is 6)", plan.Error?.Message);
    }

    [Fact]
    public async Task Plan_of_a_migrated_database_is_up_to_date()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(2, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, []), Reg(2, []), Reg(3, [], enabled: false)]);

        Assert.True(plan.IsUpToDate);
        Assert.Equal(0, plan.RunCount);
        Assert.Equal(2, plan.LatestCompletedOrder);
    }

    [Fact]
    public async Task Plan_returns_both_run_errors_without_throwing()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(2, MigrationStatus.Completed)
            .WithStatus(7, MigrationStatus.Completed)
            .WithStatus(4, MigrationStatus.Failed);

        var plan = await Plan(manager, [Reg(1, []), Reg(2, [])]);

        Assert.Equal(PlanSequence, manager.Calls);
        Assert.Equal([4L, 7L], plan.UnknownPersistedOrders);
        Assert.NotNull(plan.Error);
        AssertSeveral(
            plan.Error!,
            "found persisted migration(s) that are not in the registry: 4, 7",
            "cannot run migrations out of order (found 1 but latest completed is 2)");
        Assert.False(plan.IsUpToDate);
    }

    [Fact]
    public async Task Plan_error_is_the_error_a_run_raises()
    {
        var registrations = new[] { Reg(1, []), Reg(2, []) };
        var planManager = new FakeMigrationManager().WithStatus(2, MigrationStatus.Completed);
        var runManager = new FakeMigrationManager().WithStatus(2, MigrationStatus.Completed);

        var plan = await Plan(planManager, registrations);
        var runError = await Assert.ThrowsAsync<MigrationException>(() => Run(runManager, registrations, Options()));

        Assert.Equal(runError.Message, plan.Error!.Message);
        Assert.Equal("cannot run migrations out of order (found 1 but latest completed is 2)", plan.Error.Message);
    }

    [Fact]
    public async Task Plan_throws_on_an_invalid_persisted_status()
    {
        var manager = new FakeMigrationManager();
        manager.InitialStatuses.Add(new PersistedStatus(-3, MigrationStatus.Completed));

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Plan(manager, [Reg(1, [])]));

        Assert.Equal("the persisted status with order -3 is invalid", ex.Step);
        Assert.Equal(PlanSequence, manager.Calls);
    }

    [Fact]
    public async Task Plan_throws_when_the_data_stores_fail_and_still_releases_the_database_lock()
    {
        var cause = new BoomException("disk full");
        var manager = new FakeMigrationManager().Fail(ManagerStep.EnsureDataStores, cause);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Plan(manager, [Reg(1, [])]));

        Assert.Equal("failed to ensure the data stores are created", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()"], manager.Calls);
    }

    [Fact]
    public async Task Plan_checks_arguments_before_any_call()
    {
        var manager = new FakeMigrationManager();

        await Assert.ThrowsAsync<ArgumentException>(() => Plan(manager, [Reg(1, []), Reg(1, [], enabled: false)]));
        await Assert.ThrowsAsync<ArgumentNullException>(() => MigrationRunner.PlanAsync(null!, [Reg(1, [])]));

        Assert.Empty(manager.Calls);
    }

    [Fact]
    public async Task Statuses_listed_in_any_order_are_walked_in_order_and_unknown_ones_reported_ascending()
    {
        // Both shipped managers list ascending; a custom one need not. Unknown orders below, between and above.
        var manager = new FakeMigrationManager()
            .WithStatus(9, MigrationStatus.Failed)
            .WithStatus(3, MigrationStatus.Started)
            .WithStatus(0, MigrationStatus.Completed)
            .WithStatus(2, MigrationStatus.Completed)
            .WithStatus(5, MigrationStatus.Pending);

        var plan = await Plan(manager, [Reg(2, []), Reg(3, []), Reg(7, [])]);

        Assert.Equal([0L, 5L, 9L], plan.UnknownPersistedOrders);
        Assert.Equal("found persisted migration(s) that are not in the registry: 0, 5, 9", plan.Error?.Step);
        Assert.Equal(
            [(2L, (MigrationStatus?)MigrationStatus.Completed, MigrationAction.SkipCompleted), (3L, MigrationStatus.Started, MigrationAction.Run), (7L, null, MigrationAction.Run)],
            plan.Entries.Select(e => (e.Order, e.PersistedStatus, e.Action)));
        Assert.Equal(2L, plan.LatestCompletedOrder);
    }

    [Fact]
    public async Task A_duplicate_order_in_an_unsorted_list_is_found()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(4, MigrationStatus.Completed)
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(4, MigrationStatus.Failed);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Plan(manager, [Reg(1, []), Reg(4, [])]));

        Assert.Equal("found two persisted statuses with order 4", ex.Message);
    }
}
