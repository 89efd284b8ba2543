using Microsoft.Extensions.Logging;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>
/// Step 9 on an <see cref="ITransactionalMigrationManager"/>: PENDING for the list in one call, then each migration as
/// one unit of work (begin, run, complete or fail, dispose), with the same step messages as the plain path.
/// </summary>
public sealed class RunnerUnitOfWorkTests
{
    private static MigrationRegistration NonTransactional(long order, List<long> ran) =>
        new(order, (_, _) => { lock (ran) { ran.Add(order); } return Task.CompletedTask; }, transactional: false);

    [Fact]
    public async Task A_fresh_run_writes_pending_once_then_begins_completes_and_disposes_each_migration_and_never_calls_PersistStatus()
    {
        var manager = new FakeTransactionalManager();
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran, name: "App.One"), Reg(2, ran, enabled: false), NonTransactional(3, ran)], Options());

        Assert.Equal(
            Sequence(
                "PersistPending(1, 3)",
                "BeginMigration(order=1, transactional=true)", "Complete(1)", "Dispose(1)",
                "BeginMigration(order=3, transactional=false)", "Complete(3)", "Dispose(3)",
                "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L, 3L], ran);
        Assert.Equal(0, manager.Count(ManagerStep.PersistStatus));
        Assert.Equal(MigrationStatus.Completed, manager.Persisted[1]);
        Assert.Equal(MigrationStatus.Completed, manager.Persisted[3]);
    }

    [Fact]
    public async Task Descriptors_carry_order_name_flag_and_the_status_persisted_before_the_run()
    {
        var manager = new FakeTransactionalManager().WithStatus(2, MigrationStatus.Failed);
        var ran = new List<long>();

        await Run(manager, [Reg(1, ran, name: "App.One"), NonTransactional(2, ran)], Options());

        var pending = Assert.IsAssignableFrom<IReadOnlyList<MigrationDescriptor>>(((FakeTransactionalManager)manager).PendingBatch);
        Assert.Equal([1L, 2L], pending.Select(d => d.Order));
        var begun = ((FakeTransactionalManager)manager).Begun;
        Assert.Equal(("App.One", true, MigrationStatus.Pending), (begun[0].Name, begun[0].Transactional, begun[0].PreviousStatus));
        Assert.Equal(("migration 2", false, MigrationStatus.Failed), (begun[1].Name, begun[1].Transactional, begun[1].PreviousStatus));
    }

    [Fact]
    public async Task A_throwing_migration_is_failed_through_its_unit_and_nothing_after_it_begins()
    {
        var manager = new FakeTransactionalManager();
        var ran = new List<long>();
        var boom = new BoomException("boom in 2");

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran, body: (_, _) => throw boom), Reg(3, ran)], Options()));

        Assert.Equal("failed to complete the migration with order 2", ex.Step);
        Assert.Same(boom, ex.InnerException);
        Assert.Equal(
            Sequence(
                "PersistPending(1, 2, 3)",
                "BeginMigration(order=1, transactional=true)", "Complete(1)", "Dispose(1)",
                "BeginMigration(order=2, transactional=true)", "Fail(2)", "Dispose(2)",
                "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L, 2L], ran);
        Assert.Equal(MigrationStatus.Failed, manager.Persisted[2]);
        Assert.Equal(MigrationStatus.Pending, manager.Persisted[3]);
    }

    [Fact]
    public async Task A_failing_commit_of_a_transactional_migration_is_the_migration_failing()
    {
        var commit = new InvalidOperationException("deferred constraint violated at COMMIT");
        var manager = new FakeTransactionalManager();
        manager.Fail(ManagerStep.CompleteMigration, commit, order: 1);
        var logger = new RecordingLogger();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, [], name: "App.One"), Reg(2, [])], Options(logger: logger)));

        Assert.Equal("failed to complete the migration with order 1", ex.Step);
        Assert.Same(commit, ex.InnerException);
        Assert.Equal(Sequence("PersistPending(1, 2)", "BeginMigration(order=1, transactional=true)", "Complete(1)", "Fail(1)", "Dispose(1)", "ReleaseMigrationLock()"), manager.Calls);

        // The log never says "completed" for a migration whose status did not become COMPLETED.
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("completed in", StringComparison.Ordinal));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("Migration 1 (App.One) failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_completed_write_of_a_non_transactional_migration_is_a_failed_persist_and_writes_no_failed_status()
    {
        var cause = new InvalidOperationException("disk full");
        var manager = new FakeTransactionalManager();
        manager.Fail(ManagerStep.CompleteMigration, cause, order: 1);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [NonTransactional(1, ran)], Options()));

        Assert.Equal("failed to persist the status COMPLETED for the migration order 1", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence("PersistPending(1)", "BeginMigration(order=1, transactional=false)", "Complete(1)", "Dispose(1)", "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(MigrationStatus.Started, manager.Persisted[1]);
    }

    [Fact]
    public async Task A_migration_completed_by_another_runner_is_not_run_and_stops_the_run()
    {
        var manager = new FakeTransactionalManager();
        manager.CompletedByAnotherRunner.Add(2);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, ran), Reg(2, ran), Reg(3, ran)], Options()));

        Assert.Equal("failed to persist the status STARTED for the migration order 2", ex.Step);
        var cause = Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Contains("COMPLETED already", cause.Message, StringComparison.Ordinal);
        Assert.Contains("lease was lost", cause.Message, StringComparison.Ordinal);
        Assert.Equal([1L], ran);
        Assert.Equal(Sequence("PersistPending(1, 2, 3)", "BeginMigration(order=1, transactional=true)", "Complete(1)", "Dispose(1)", "BeginMigration(order=2, transactional=true)", "ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task A_failing_pending_write_stops_the_run_before_anything_begins()
    {
        var cause = new InvalidOperationException("read-only");
        var manager = new FakeTransactionalManager();
        manager.Fail(ManagerStep.PersistPending, cause);
        var ran = new List<long>();

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(4, ran), Reg(5, ran)], Options()));

        Assert.Equal("failed to persist the status PENDING for the migration order 4", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Empty(ran);
        Assert.Equal(Sequence("PersistPending(4, 5)", "ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task A_failing_begin_is_a_failed_started_write()
    {
        var cause = new InvalidOperationException("busy");
        var manager = new FakeTransactionalManager();
        manager.Fail(ManagerStep.BeginMigration, cause, order: 1);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, [])], Options()));

        Assert.Equal("failed to persist the status STARTED for the migration order 1", ex.Step);
        Assert.Same(cause, ex.InnerException);
        Assert.Equal(Sequence("PersistPending(1)", "BeginMigration(order=1, transactional=true)", "ReleaseMigrationLock()"), manager.Calls);
    }

    [Fact]
    public async Task Cancelling_during_a_migration_disposes_its_unit_without_completing_or_failing_it()
    {
        using var cts = new CancellationTokenSource();
        var manager = new FakeTransactionalManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Run(manager, [Reg(1, ran, body: (_, _) => cts.CancelAsync()), Reg(2, ran)], Options(), cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        var inner = Assert.IsType<MigrationException>(ex.InnerException);
        Assert.Equal("failed to complete the migration with order 1", inner.Step);
        // The cancelled run's heartbeat releases the lock as soon as the run's token is cancelled (step 6), beside the
        // migration returning: the release and the unit's disposal may come in either order.
        var calls = manager.Calls;
        Assert.Equal(Sequence("PersistPending(1, 2)", "BeginMigration(order=1, transactional=true)"), calls.Take(calls.Count - 2));
        Assert.Equal(["Dispose(1)", "ReleaseMigrationLock()"], calls.Skip(calls.Count - 2).Order(StringComparer.Ordinal));
        Assert.Equal(MigrationStatus.Pending, manager.Persisted[1]);
        Assert.Equal([1L], ran);
    }

    [Fact]
    public async Task The_failure_the_unit_describes_is_the_one_reported_and_failing_to_write_failed_is_reported_too()
    {
        var original = new InvalidOperationException("cannot start a transaction within a transaction");
        var clearer = new InvalidOperationException("migration 1 began its own transaction; drop it or mark it Transactional = false", original);
        var writeFailed = new InvalidOperationException("connection lost");
        var manager = new FakeTransactionalManager { Describe = e => ReferenceEquals(e, original) ? clearer : e };
        manager.Fail(ManagerStep.FailMigration, writeFailed);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, [Reg(1, [], body: (_, _) => throw original)], Options()));

        var errors = AssertSeveral(ex, "failed to complete the migration with order 1", "failed to persist the status FAILED for the migration order 1");
        Assert.Same(clearer, errors[0].InnerException);
        Assert.Same(writeFailed, errors[1].InnerException);
    }
}
