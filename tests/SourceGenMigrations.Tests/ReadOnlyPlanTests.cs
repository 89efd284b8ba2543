using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>
/// PlanAsync on a manager that implements <see cref="IMigrationOperations"/>: it only reads (no database lock, no data
/// stores, nothing written); a bad configuration throws before the manager is touched, as a run does.
/// </summary>
public sealed class ReadOnlyPlanTests
{
    [Fact]
    public async Task With_operations_the_plan_only_reads_the_statuses_no_lock_no_data_stores_no_list()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed).WithStatus(2, MigrationStatus.Failed);

        var plan = await MigrationRunner.PlanAsync(manager, [Reg(1, []), Reg(2, []), Reg(3, [])], Options()).WaitAsync(SafetyTimeout);

        Assert.Equal(["ReadStatuses()"], manager.Calls);
        Assert.Equal([MigrationAction.SkipCompleted, MigrationAction.Run, MigrationAction.Run], plan.Entries.Select(e => e.Action));
        Assert.Equal(2, plan.RunCount);
    }

    [Fact]
    public async Task Without_operations_the_plan_still_ensures_the_data_stores_under_the_database_lock()
    {
        var manager = new FakeMigrationManager();

        await MigrationRunner.PlanAsync(manager, [Reg(1, [])], Options()).WaitAsync(SafetyTimeout);

        Assert.Equal(["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()", "ListStatuses()"], manager.Calls);
    }

    [Fact]
    public async Task A_bad_configuration_throws_before_the_manager_is_touched_it_does_not_come_back_in_the_plan()
    {
        var manager = new FakeOperationsManager();
        var options = Options();
        options.ConfigProvider = () => new MigrationConfig { DeadlineMilliseconds = 0 };

        var exception = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.PlanAsync(manager, [Reg(1, [])], options));

        Assert.StartsWith("failed to get the migration configuration", exception.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentOutOfRangeException>(exception.InnerException);
        Assert.Empty(manager.Calls);
    }

    [Fact]
    public async Task A_failing_read_is_the_listing_step_error()
    {
        var manager = new FakeOperationsManager();
        var boom = new InvalidOperationException("unable to open database file");
        manager.Fail(ManagerStep.ReadStatuses, boom);

        var exception = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.PlanAsync(manager, [Reg(1, [])], Options()));

        Assert.StartsWith("failed to list the persisted statuses", exception.Message, StringComparison.Ordinal);
        Assert.Same(boom, exception.InnerException);
    }

    [Fact]
    public async Task What_a_run_would_stop_on_comes_back_in_the_plan_not_thrown()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed).WithStatus(6, MigrationStatus.Completed).WithStatus(7, MigrationStatus.Completed);

        var plan = await MigrationRunner.PlanAsync(manager, [Reg(1, []), Reg(5, [])], Options());

        Assert.Equal("found persisted migration(s) that are not in the registry: 6, 7", plan.Error?.Step);
        Assert.False(plan.IsUpToDate);
    }

    [Fact]
    public async Task A_run_tells_the_manager_its_build_version_and_an_empty_one_tells_none()
    {
        var manager = new FakeTransactionalManager();
        var options = Options();
        options.BuildVersion = "Shop 2.1.0+abc123";
        await MigrationRunner.RunAsync(manager, [Reg(1, [])], options).WaitAsync(SafetyTimeout);

        var other = new FakeTransactionalManager();
        var none = Options();
        none.BuildVersion = "";
        await MigrationRunner.RunAsync(other, [Reg(1, [])], none).WaitAsync(SafetyTimeout);

        Assert.Equal("Shop 2.1.0+abc123", Assert.Single(manager.PendingBatch!).BuildVersion);
        Assert.Equal("Shop 2.1.0+abc123", Assert.Single(manager.Begun).BuildVersion);
        Assert.Null(Assert.Single(other.Begun).BuildVersion);
    }

    [Fact]
    public async Task By_default_the_build_version_is_the_entry_assemblys_name_and_version()
    {
        var manager = new FakeTransactionalManager();

        await MigrationRunner.RunAsync(manager, [Reg(1, [])], Options()).WaitAsync(SafetyTimeout);

        var entry = System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name!;
        Assert.StartsWith(entry + " ", Assert.Single(manager.Begun).BuildVersion, StringComparison.Ordinal);
    }
}
