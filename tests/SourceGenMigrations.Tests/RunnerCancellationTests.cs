using Microsoft.Extensions.Time.Testing;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>Caller cancellation, the run deadline and the unlock deadlines.</summary>
public sealed class RunnerCancellationTests
{
    [Fact]
    public async Task Caller_cancelling_during_a_migration_ends_in_OperationCanceledException_with_its_token()
    {
        using var cts = new CancellationTokenSource();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();
        var runTokenCancelled = false;

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Run(
                manager,
                [
                    Reg(1, ran, body: async (_, ct) =>
                    {
                        await cts.CancelAsync();
                        runTokenCancelled = ct.IsCancellationRequested;
                        ct.ThrowIfCancellationRequested();
                    }),
                    Reg(2, ran),
                ],
                Options(),
                cts.Token));

        Assert.True(runTokenCancelled);
        Assert.Equal(cts.Token, ex.CancellationToken);
        var inner = Assert.IsType<MigrationException>(ex.InnerException);
        Assert.StartsWith("failed to complete the migration with order 1", inner.Message, StringComparison.Ordinal);

        // Cancelled: no FAILED written (the migration stays STARTED), migration 2 not run, the lock released once.
        Assert.Equal(Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Equal([false, false], manager.ReleaseTokenWasCancelled);
    }

    [Fact]
    public async Task Caller_cancelling_during_a_migration_that_still_completes_writes_nothing_more()
    {
        using var cts = new CancellationTokenSource();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Run(manager, [Reg(1, ran, body: (_, _) => cts.CancelAsync()), Reg(2, ran)], Options(), cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Caller_cancelling_while_waiting_for_the_migration_lock_ends_in_OperationCanceledException_without_release()
    {
        using var cts = new CancellationTokenSource();
        var manager = new FakeMigrationManager
        {
            Hook = async (step, _, ct) =>
            {
                if (step == ManagerStep.AcquireMigrationLock)
                {
                    await cts.CancelAsync();
                    await Task.Delay(Timeout.Infinite, ct);
                }
            },
        };
        var ran = new List<long>();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(manager, [Reg(1, ran)], Options(), cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()", "AcquireMigrationLock()"], manager.Calls);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Fact]
    public async Task Caller_cancelled_before_the_start_ends_in_OperationCanceledException_and_runs_nothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(manager, [Reg(1, ran)], Options(), cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Empty(ran);
        Assert.DoesNotContain(manager.Calls, c => c.StartsWith("PersistStatus", StringComparison.Ordinal));

        // Whatever the runner tried, every lock it got was released once (the fake fails a call with a cancelled token).
        Assert.Equal(manager.Successes(ManagerStep.AcquireDbLock), manager.ReleaseDbLockCount);
        Assert.Equal(manager.Successes(ManagerStep.AcquireMigrationLock), manager.ReleaseMigrationLockCount);
        Assert.True(manager.ReleaseMigrationLockCount <= 1);
    }

    [Fact]
    public async Task Deadline_expiring_during_a_migration_cancels_the_run_and_releases_the_lock_once()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager();
        var ran = new List<long>();
        var runTokenCancelled = false;

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(
                manager,
                [
                    Reg(1, ran, body: async (_, ct) =>
                    {
                        await AdvanceUntil(time, TimeSpan.FromMilliseconds(100), () => ct.IsCancellationRequested);
                        runTokenCancelled = true;
                        ct.ThrowIfCancellationRequested();
                    }),
                    Reg(2, ran),
                ],
                Options(time, new MigrationConfig { DeadlineMilliseconds = 1000 })));

        Assert.True(runTokenCancelled);
        Assert.StartsWith("failed to complete the migration with order 1; the migration deadline of 1000 ms expired", ex.Step, StringComparison.Ordinal);
        var aggregate = Assert.IsType<AggregateException>(ex.InnerException);
        Assert.Equal(2, aggregate.InnerExceptions.Count);
        var step = Assert.IsType<MigrationException>(aggregate.InnerExceptions[0]);
        Assert.Equal("failed to complete the migration with order 1: The operation was canceled.", step.Message);
        var deadline = Assert.IsType<MigrationException>(aggregate.InnerExceptions[1]);
        Assert.StartsWith("the migration deadline of 1000 ms expired", deadline.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(deadline.InnerException);

        Assert.Equal(Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Equal([false, false], manager.ReleaseTokenWasCancelled);
    }

    [Fact]
    public async Task Deadline_expiring_while_waiting_for_the_migration_lock_reports_the_step_and_the_deadline()
    {
        var time = new FakeTimeProvider();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new FakeMigrationManager
        {
            Hook = async (step, _, ct) =>
            {
                if (step == ManagerStep.AcquireMigrationLock)
                {
                    entered.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }
            },
        };
        var ran = new List<long>();

        var run = Run(manager, [Reg(1, ran)], Options(time, new MigrationConfig { DeadlineMilliseconds = 5000 }));
        await entered.Task.WaitAsync(SafetyTimeout);
        time.Advance(TimeSpan.FromMilliseconds(5000));
        var ex = await Assert.ThrowsAsync<MigrationException>(() => run);

        Assert.StartsWith("failed to acquire the migration lock; the migration deadline of 5000 ms expired", ex.Step, StringComparison.Ordinal);
        var aggregate = Assert.IsType<AggregateException>(ex.InnerException);
        Assert.Contains(aggregate.InnerExceptions, e => e is MigrationException { InnerException: TimeoutException });
        Assert.Equal(["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()", "AcquireMigrationLock()"], manager.Calls);
        Assert.Equal(0, manager.ReleaseMigrationLockCount);
        Assert.Empty(ran);
    }

    [Theory]
    [InlineData(ManagerStep.ReleaseDbLock, "failed to release the database lock")]
    [InlineData(ManagerStep.ReleaseMigrationLock, "failed to release the migration lock")]
    public async Task A_hanging_release_is_cut_by_the_unlock_deadline_on_the_time_provider(ManagerStep release, string message)
    {
        var time = new FakeTimeProvider();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new FakeMigrationManager
        {
            Hook = async (step, _, ct) =>
            {
                if (step == release)
                {
                    entered.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }
            },
        };

        var run = Run(manager, [Reg(1, [])], Options(time, new MigrationConfig { UnlockDeadlineMilliseconds = 5000 }));
        await entered.Task.WaitAsync(SafetyTimeout);
        time.Advance(TimeSpan.FromMilliseconds(5000));
        var ex = await Assert.ThrowsAsync<MigrationException>(() => run);

        Assert.Equal(message, ex.Step);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        Assert.Equal(1, manager.Count(release));
    }

    [Fact]
    public async Task A_run_on_a_manager_that_completes_synchronously_finishes_on_the_calling_thread()
    {
        // Every service start takes this path: the heartbeat's stop and the lease release must not hop to the thread
        // pool (a thread wake-up per start). With a manager whose calls complete synchronously, nothing in the run
        // waits, so the task is complete when RunAsync returns. Run off xUnit's SynchronizationContext, under which .NET
        // inlines no continuation (as under any custom context); services have none.
        var noOp = new FakeMigrationManager { YieldOnEachCall = false }
            .WithStatus(1, MigrationStatus.Completed)
            .WithStatus(2, MigrationStatus.Completed);
        var toRun = new FakeMigrationManager { YieldOnEachCall = false }.WithStatus(1, MigrationStatus.Completed);
        var ran = new List<long>();

        var (noOpRun, run) = await Task.Run(() =>
            (MigrationRunner.RunAsync(noOp, [Reg(1, ran), Reg(2, ran)], Options()), MigrationRunner.RunAsync(toRun, [Reg(1, ran), Reg(2, ran)], Options())));

        Assert.True(noOpRun.IsCompletedSuccessfully, "the no-op run did not complete synchronously");
        Assert.True(run.IsCompletedSuccessfully, "the run did not complete synchronously");
        Assert.Equal(Sequence("ReleaseMigrationLock()"), noOp.Calls);
        Assert.Equal(Sequence(P(2, "PENDING"), P(2, "STARTED"), P(2, "COMPLETED"), "ReleaseMigrationLock()"), toRun.Calls);
        Assert.Equal([2L], ran);
    }

    [Fact]
    public async Task Caller_cancelling_releases_the_lease_while_a_migration_ignores_it_but_never_inside_the_Cancel_call()
    {
        using var cts = new CancellationTokenSource();
        var insideCancel = 0;
        var releasedInsideCancel = new List<bool>();
        var manager = new FakeMigrationManager
        {
            Hook = (step, _, _) =>
            {
                if (step == ManagerStep.ReleaseMigrationLock)
                {
                    lock (releasedInsideCancel) { releasedInsideCancel.Add(Volatile.Read(ref insideCancel) == 1); }
                }

                return Task.CompletedTask;
            },
        };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = new List<long>();

        // The migration ignores its token: the lease is released at once all the same (step 6).
        var run = Run(manager, [Reg(1, ran, body: async (_, _) => { started.SetResult(); await finish.Task; })], Options(), cts.Token);
        await started.Task.WaitAsync(SafetyTimeout);
        Volatile.Write(ref insideCancel, 1);
        cts.Cancel();
        Volatile.Write(ref insideCancel, 0);
        await WaitUntil(() => manager.ReleaseMigrationLockCount == 1);
        finish.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal([false], releasedInsideCancel);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }
}
