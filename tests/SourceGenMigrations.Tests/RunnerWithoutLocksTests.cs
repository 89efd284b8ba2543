using Microsoft.Extensions.Logging;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>
/// Before step 4, on a manager that reads its statuses without locks: a start with nothing to do ends on that read and
/// makes no other call; anything else takes the locks and reads again under them, exactly as before.
/// </summary>
public sealed class RunnerWithoutLocksTests
{
    private static FakeTransactionalManager Manager(params (long Order, MigrationStatus Status)[] statuses)
    {
        var manager = new FakeTransactionalManager { ReadsWithoutLocks = true };
        foreach (var (order, status) in statuses)
        {
            manager.WithStatus(order, status);
        }

        return manager;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_enabled_migration_completed_ends_the_run_on_the_read_without_taking_a_lock(bool readCompletesAsynchronously)
    {
        var manager = Manager((1, MigrationStatus.Completed), (3, MigrationStatus.Completed));
        manager.YieldOnEachCall = readCompletesAsynchronously;
        var logger = new RecordingLogger();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran, enabled: false), Reg(3, ran)], Options(logger: logger));

        Assert.Equal(["ListStatusesWithoutLocks()"], manager.Calls);
        Assert.Empty(ran);
        Assert.Equal(0, manager.HeartbeatCount);
        Assert.Contains(logger.Entries, e => e.Message == "Nothing to migrate: all 2 enabled migration(s) are completed");
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("no lock taken", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_migration_without_a_status_takes_the_locks_and_reads_again_under_them()
    {
        var manager = Manager((1, MigrationStatus.Completed));
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran)], Options());

        Assert.Equal(
            ["ListStatusesWithoutLocks()", .. Sequence("PersistPending(2)", "BeginMigration(order=2, transactional=true)", "Complete(2)", "Dispose(2)", "ReleaseMigrationLock()")],
            manager.Calls);
        Assert.Equal([2L], ran);
    }

    [Theory]
    [InlineData(MigrationStatus.Started)]
    [InlineData(MigrationStatus.Failed)]
    [InlineData(MigrationStatus.Pending)]
    public async Task A_status_in_progress_or_failed_anywhere_takes_the_locks_even_when_the_migration_is_disabled(MigrationStatus status)
    {
        // Migration 2 is disabled here but has a status another build left: the run under the locks decides (and warns).
        var manager = Manager((1, MigrationStatus.Completed), (2, status));
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran), Reg(2, ran, enabled: false)], Options());

        Assert.Equal(["ListStatusesWithoutLocks()", .. Sequence("ReleaseMigrationLock()")], manager.Calls);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task An_unknown_completed_order_is_reported_by_the_run_under_the_locks()
    {
        var manager = Manager((1, MigrationStatus.Completed), (5, MigrationStatus.Completed));
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran)], Options()));

        Assert.Equal(["ListStatusesWithoutLocks()", .. Sequence("ReleaseMigrationLock()")], manager.Calls);
        Assert.Contains("5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Newer_completed_migrations_tolerated_by_the_configuration_end_the_run_on_the_read_with_the_same_warning()
    {
        var manager = Manager((1, MigrationStatus.Completed), (5, MigrationStatus.Completed));
        var logger = new RecordingLogger();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran)], Options(config: new MigrationConfig { AllowNewerMigrations = true }, logger: logger));

        Assert.Equal(["ListStatusesWithoutLocks()"], manager.Calls);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("applied by a newer build", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_read_without_locks_is_logged_and_the_run_takes_the_locks()
    {
        var manager = Manager((1, MigrationStatus.Completed));
        manager.Fail(ManagerStep.ListStatusesWithoutLocks, new InvalidOperationException("database is busy"));
        var logger = new RecordingLogger();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran)], Options(logger: logger));

        Assert.Equal(["ListStatusesWithoutLocks()", .. Sequence("ReleaseMigrationLock()")], manager.Calls);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Debug && e.Message.StartsWith("Reading the statuses without locks failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_default_read_without_locks_keeps_the_call_sequence_of_a_run_under_the_locks()
    {
        // ReadsWithoutLocks false: the interface's default answer (null), as for a manager written before it existed.
        var manager = new FakeTransactionalManager().WithStatus(1, MigrationStatus.Completed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran)], Options());

        Assert.Equal(Sequence("ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task A_cancelled_run_is_cancelled_not_ended_by_the_read()
    {
        using var cancellation = new CancellationTokenSource();
        var manager = Manager((1, MigrationStatus.Completed));
        manager.Hook = (step, _, _) =>
        {
            if (step == ManagerStep.ListStatusesWithoutLocks)
            {
                cancellation.Cancel();
            }

            return Task.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(manager, [Reg(1, [])], Options(), cancellation.Token));

        Assert.DoesNotContain("AcquireMigrationLock()", manager.Calls);
    }
}
