using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>The cases of the Go package's suite: one step at a time, exact call sequence, release count and error text.</summary>
public sealed class RunnerStepTests
{
    private static readonly string[] DbLockPhase = ["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()"];

    [Fact]
    public async Task Config_provider_throwing_fails_before_any_manager_call()
    {
        var manager = new FakeMigrationManager();
        var ran = new List<long>();
        var cause = new InvalidOperationException("no config");
        var options = Options();
        options.ConfigProvider = () => throw cause;

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], options));

        Assert.Equal("failed to get the migration configuration", ex.Step);
        Assert.Equal("failed to get the migration configuration: no config", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Empty(manager.Calls);
        Assert.Equal(0, manager.HeartbeatCount);
        Assert.Empty(ran);
    }

    [Theory]
    [InlineData(nameof(MigrationConfig.DeadlineMilliseconds))]
    [InlineData(nameof(MigrationConfig.UnlockDeadlineMilliseconds))]
    [InlineData(nameof(MigrationConfig.HeartbeatIntervalMilliseconds))]
    [InlineData(nameof(MigrationConfig.HeartbeatFailureRetryCount))]
    public async Task Config_provider_returning_an_invalid_config_fails_before_any_manager_call(string property)
    {
        var config = new MigrationConfig();
        switch (property)
        {
            case nameof(MigrationConfig.DeadlineMilliseconds): config.DeadlineMilliseconds = 0; break;
            case nameof(MigrationConfig.UnlockDeadlineMilliseconds): config.UnlockDeadlineMilliseconds = -5; break;
            case nameof(MigrationConfig.HeartbeatIntervalMilliseconds): config.HeartbeatIntervalMilliseconds = 0; break;
            default: config.HeartbeatFailureRetryCount = -1; break;
        }

        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options(config: config)));

        Assert.Equal("failed to get the migration configuration", ex.Step);
        var inner = Assert.IsType<ArgumentOutOfRangeException>(ex.InnerException);
        Assert.Contains(property, inner.Message, StringComparison.Ordinal);
        Assert.Empty(manager.Calls);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task Config_provider_returning_null_fails_before_any_manager_call()
    {
        var manager = new FakeMigrationManager();
        var options = Options();
        options.ConfigProvider = () => null!;

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, [])], options));

        Assert.Equal("failed to get the migration configuration", ex.Step);
        Assert.Empty(manager.Calls);
    }

    [Fact]
    public async Task Allowing_newer_migrations_a_run_beside_a_newer_build_runs_nothing_and_warns_once_naming_them()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(2, MigrationStatus.Completed).WithStatus(3, MigrationStatus.Completed);
        var logger = new RecordingLogger();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran)], Options(config: new MigrationConfig { AllowNewerMigrations = true }, logger: logger));

        Assert.Empty(ran);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        var warning = Assert.Single(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains("2, 3", warning.Message, StringComparison.Ordinal);
        Assert.Contains("knows orders up to 1", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Success_with_one_disabled_migration_runs_the_others_in_order()
    {
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran, enabled: false), Reg(3, ran)], Options());

        Assert.Equal(
            Sequence(P(1, "PENDING"), P(3, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), P(3, "STARTED"), P(3, "COMPLETED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L, 3L], ran);
        Assert.Equal(1, manager.ReleaseDbLockCount);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Equal(new Dictionary<long, MigrationStatus> { [1] = MigrationStatus.Completed, [3] = MigrationStatus.Completed }, manager.Persisted);
    }

    [Fact]
    public async Task Registrations_given_out_of_order_run_in_ascending_order()
    {
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        await Run(manager, [Reg(10, ran), Reg(2, ran), Reg(5, ran)], Options());

        Assert.Equal([2L, 5L, 10L], ran);
        Assert.Equal(
            Sequence(P(2, "PENDING"), P(5, "PENDING"), P(10, "PENDING"),
                P(2, "STARTED"), P(2, "COMPLETED"), P(5, "STARTED"), P(5, "COMPLETED"), P(10, "STARTED"), P(10, "COMPLETED"),
                "ReleaseMigrationLock()"),
            manager.Calls);
    }

    [Fact]
    public async Task No_registrations_still_takes_and_releases_the_locks()
    {
        var manager = new FakeMigrationManager();

        await Run(manager, [], Options());

        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task AcquireDbLock_failing_stops_without_any_release()
    {
        var cause = new BoomException("db lock");
        var manager = new FakeMigrationManager().Fail(ManagerStep.AcquireDbLock, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to acquire the database lock", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(["AcquireDBLock()"], manager.Calls);
        Assert.Equal(0, manager.ReleaseDbLockCount);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task EnsureDataStores_failing_still_releases_the_db_lock_and_stops()
    {
        var cause = new BoomException("ensure");
        var manager = new FakeMigrationManager().Fail(ManagerStep.EnsureDataStores, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to ensure the data stores are created", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(DbLockPhase, manager.Calls);
        Assert.Equal(1, manager.ReleaseDbLockCount);
        Assert.Equal([false], manager.ReleaseTokenWasCancelled);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task EnsureDataStores_and_ReleaseDbLock_failing_reports_both()
    {
        var ensure = new BoomException("ensure");
        var release = new BoomException("release");
        var manager = new FakeMigrationManager().Fail(ManagerStep.EnsureDataStores, ensure).Fail(ManagerStep.ReleaseDbLock, release);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        var inner = AssertSeveral(ex, "failed to ensure the data stores are created", "failed to release the database lock");
        Assert.Same(ensure, inner[0].InnerException);
        Assert.Same(release, inner[1].InnerException);
        Assert.Equal(DbLockPhase, manager.Calls);
        Assert.Equal(1, manager.ReleaseDbLockCount);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task ReleaseDbLock_failing_stops_before_the_migration_lock()
    {
        var cause = new BoomException("release");
        var manager = new FakeMigrationManager().Fail(ManagerStep.ReleaseDbLock, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to release the database lock", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(DbLockPhase, manager.Calls);
        Assert.Equal(1, manager.ReleaseDbLockCount);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task AcquireMigrationLock_failing_stops_without_releasing_the_migration_lock()
    {
        var cause = new BoomException("migration lock");
        var manager = new FakeMigrationManager().Fail(ManagerStep.AcquireMigrationLock, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to acquire the migration lock", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal([.. DbLockPhase, "AcquireMigrationLock()"], manager.Calls);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task ListStatuses_failing_releases_the_migration_lock()
    {
        var cause = new BoomException("list");
        var manager = new FakeMigrationManager().Fail(ManagerStep.ListStatuses, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to list the persisted statuses", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Theory]
    [InlineData(-1L, (int)MigrationStatus.Completed)]
    [InlineData(-7L, (int)MigrationStatus.Pending)]
    [InlineData(2L, 42)]
    [InlineData(2L, -1)]
    public async Task An_invalid_persisted_status_stops_the_run(long order, int status)
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(order, (MigrationStatus)status);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal($"the persisted status with order {order} is invalid", ex.Step);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task Two_persisted_statuses_with_one_order_stop_the_run()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(2, MigrationStatus.Failed)
            .WithStatus(2, MigrationStatus.Completed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal("found two persisted statuses with order 2", ex.Message);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task A_failed_migration_is_run_again()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Failed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran)], Options());

        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task A_completed_migration_is_skipped()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran)], Options());

        Assert.Equal(Sequence(P(2, "PENDING"), P(2, "STARTED"), P(2, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([2L], ran);
    }

    [Fact]
    public async Task Everything_completed_runs_nothing_and_persists_nothing()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(2, MigrationStatus.Completed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran)], Options());

        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task A_migration_that_throws_is_persisted_failed_and_stops_the_run()
    {
        var cause = new BoomException("migration 1 broke");
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, ran, body: (_, _) => throw cause), Reg(2, ran)], Options()));

        Assert.Equal("failed to complete the migration with order 1", ex.Step);
        Assert.Equal("failed to complete the migration with order 1: migration 1 broke", ex.Message);
        Assert.Equal(1, ex.Order);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), P(1, "FAILED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task A_migration_that_throws_synchronously_is_reported_the_same_way()
    {
        var cause = new BoomException("sync");
        var manager = new FakeMigrationManager();
        var registration = new MigrationRegistration(1, (_, _) => throw cause);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [registration], Options()));

        Assert.Equal("failed to complete the migration with order 1", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "FAILED"), "ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task Persisting_pending_failing_stops_before_anything_runs()
    {
        var cause = new BoomException("pending");
        var manager = new FakeMigrationManager().Fail(ManagerStep.PersistStatus, cause, order: 2, status: MigrationStatus.Pending);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal("failed to persist the status PENDING for the migration order 2", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence(P(1, "PENDING"), P(2, "PENDING"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Empty(ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Persisting_started_failing_stops_without_running_the_migration()
    {
        var cause = new BoomException("started");
        var manager = new FakeMigrationManager().Fail(ManagerStep.PersistStatus, cause, order: 2, status: MigrationStatus.Started);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal("failed to persist the status STARTED for the migration order 2", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(3, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), P(2, "STARTED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Persisting_completed_failing_stops_after_the_migration_ran()
    {
        var cause = new BoomException("completed");
        var manager = new FakeMigrationManager().Fail(ManagerStep.PersistStatus, cause, order: 1, status: MigrationStatus.Completed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran)], Options()));

        Assert.Equal("failed to persist the status COMPLETED for the migration order 1", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Persisting_failed_failing_reports_the_migration_error_and_the_persist_error()
    {
        var migrationError = new BoomException("migration broke");
        var persistError = new BoomException("failed");
        var manager = new FakeMigrationManager().Fail(ManagerStep.PersistStatus, persistError, order: 1, status: MigrationStatus.Failed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, ran, body: (_, _) => throw migrationError), Reg(2, ran)], Options()));

        var inner = AssertSeveral(ex, "failed to complete the migration with order 1", "failed to persist the status FAILED for the migration order 1");
        Assert.Same(migrationError, inner[0].InnerException);
        Assert.Same(persistError, inner[1].InnerException);
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), P(1, "FAILED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Persisted_orders_not_in_the_registry_stop_the_run()
    {
        var manager = new FakeMigrationManager()
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(5, MigrationStatus.Failed)
            .WithStatus(4, MigrationStatus.Completed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal("found persisted migration(s) that are not in the registry: 4, 5", ex.Step);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Empty(ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Out_of_order_stops_the_run()
    {
        var manager = new FakeMigrationManager().WithStatus(2, MigrationStatus.Completed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran)], Options()));

        Assert.Equal("cannot run migrations out of order (found 1 but latest completed is 2)", ex.Message);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Empty(ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Unknown_orders_and_out_of_order_are_both_reported()
    {
        var manager = new FakeMigrationManager().WithStatus(2, MigrationStatus.Completed).WithStatus(9, MigrationStatus.Completed);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        // DESIGN.md does not say which of the two comes first; both must be there, each as its own failure.
        const string unknown = "found persisted migration(s) that are not in the registry: 9";
        const string outOfOrder = "cannot run migrations out of order (found 1 but latest completed is 2)";
        Assert.Contains(unknown, ex.Message, StringComparison.Ordinal);
        Assert.Contains(outOfOrder, ex.Message, StringComparison.Ordinal);
        var aggregate = Assert.IsType<AggregateException>(ex.InnerException);
        Assert.Equal(
            new[] { outOfOrder, unknown }.Order(StringComparer.Ordinal),
            aggregate.InnerExceptions.Select(e => Assert.IsType<MigrationException>(e).Step).Order(StringComparer.Ordinal));
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task A_disabled_completed_migration_does_not_count_as_the_latest_completed()
    {
        var manager = new FakeMigrationManager().WithStatus(2, MigrationStatus.Completed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran, enabled: false)], Options());

        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
    }

    [Fact]
    public async Task ReleaseMigrationLock_failing_is_reported_after_a_successful_run()
    {
        var cause = new BoomException("release");
        var manager = new FakeMigrationManager().Fail(ManagerStep.ReleaseMigrationLock, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal("failed to release the migration lock", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task A_step_failure_and_ReleaseMigrationLock_failing_are_both_reported()
    {
        var list = new BoomException("list");
        var release = new BoomException("release");
        var manager = new FakeMigrationManager().Fail(ManagerStep.ListStatuses, list).Fail(ManagerStep.ReleaseMigrationLock, release);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, [])], Options()));

        var inner = AssertSeveral(ex, "failed to list the persisted statuses", "failed to release the migration lock");
        Assert.Same(list, inner[0].InnerException);
        Assert.Same(release, inner[1].InnerException);
        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Releases_get_a_live_token_limited_by_the_unlock_deadline()
    {
        var manager = new FakeMigrationManager();

        await Run(manager, [Reg(1, [])], Options());

        Assert.Equal([false, false], manager.ReleaseTokenWasCancelled);
        Assert.Equal([true, true], manager.ReleaseTokenCanBeCanceled);
    }
}
