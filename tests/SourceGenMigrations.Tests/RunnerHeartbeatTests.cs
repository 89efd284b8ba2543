using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>The migration lock heartbeat, driven by a fake clock that the migrations advance.</summary>
public sealed class RunnerHeartbeatTests
{
    private static readonly TimeSpan OneMs = TimeSpan.FromMilliseconds(1);

    private static MigrationConfig Heartbeat(int intervalMilliseconds, int retryCount) => new()
    {
        HeartbeatIntervalMilliseconds = intervalMilliseconds,
        HeartbeatFailureRetryCount = retryCount,
    };

    /// <summary>A migration that moves the clock until its token is cancelled, then throws as a migration honouring its token does.</summary>
    private static Func<MigrationContext, CancellationToken, Task> AdvanceUntilCancelled(FakeTimeProvider time, TimeSpan step, StrongBox<bool> sawCancellation) =>
        async (_, ct) =>
        {
            await AdvanceUntil(time, step, () => ct.IsCancellationRequested);
            sawCancellation.Value = true;
            ct.ThrowIfCancellationRequested();
        };

    [Fact]
    public async Task Heartbeat_failing_continuously_stops_after_the_retries_and_cancels_the_run()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager
        {
            Hook = (step, n, _) => step == ManagerStep.Heartbeat ? throw new BoomException($"lease lost {n}") : Task.CompletedTask,
        };
        var ran = new List<long>();
        var saw = new StrongBox<bool>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, ran, body: AdvanceUntilCancelled(time, OneMs, saw)), Reg(2, ran)], Options(time, Heartbeat(1, 2))));

        Assert.True(saw.Value);
        var inner = AssertSeveral(ex, "failed to complete the migration with order 1", "heartbeat failed 3 time(s) with latest error of (lease lost 3)");
        Assert.IsAssignableFrom<OperationCanceledException>(inner[0].InnerException);
        Assert.Equal("lease lost 3", Assert.IsType<BoomException>(inner[1].InnerException).Message);
        Assert.Equal(3, manager.HeartbeatCount);

        // Lease lost: nothing more is written (no FAILED), migration 2 never runs, the lock is released once.
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal([1L], ran);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
        Assert.Equal([false, false], manager.ReleaseTokenWasCancelled);

        // The heartbeat stopped for good.
        time.Advance(TimeSpan.FromSeconds(10));
        await Task.Delay(20);
        Assert.Equal(3, manager.HeartbeatCount);
    }

    [Fact]
    public async Task Heartbeat_failing_continuously_and_the_release_failing_are_all_reported()
    {
        var time = new FakeTimeProvider();
        var release = new BoomException("release");
        var manager = new FakeMigrationManager
        {
            Hook = (step, n, _) => step == ManagerStep.Heartbeat ? throw new BoomException($"lease lost {n}") : Task.CompletedTask,
        }.Fail(ManagerStep.ReleaseMigrationLock, release);
        var ran = new List<long>();
        var saw = new StrongBox<bool>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, ran, body: AdvanceUntilCancelled(time, OneMs, saw))], Options(time, Heartbeat(1, 2))));

        Assert.True(saw.Value);
        var inner = AssertSeveral(
            ex,
            "failed to complete the migration with order 1",
            "heartbeat failed 3 time(s) with latest error of (lease lost 3)",
            "failed to release the migration lock");
        Assert.Same(release, inner[2].InnerException);
        Assert.Equal(3, manager.HeartbeatCount);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Heartbeat_with_zero_retries_stops_at_the_first_failure()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager().Fail(ManagerStep.Heartbeat, new BoomException("gone"));
        var saw = new StrongBox<bool>();

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(manager, [Reg(1, [], body: AdvanceUntilCancelled(time, TimeSpan.FromMilliseconds(50), saw))], Options(time, Heartbeat(100, 0))));

        AssertSeveral(ex, "failed to complete the migration with order 1", "heartbeat failed 1 time(s) with latest error of (gone)");
        Assert.Equal(1, manager.HeartbeatCount);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Heartbeat_succeeding_does_not_block_progress()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager
        {
            // Each heartbeat takes a little (real) time, so overlapping heartbeats would show.
            Hook = async (step, _, _) =>
            {
                if (step == ManagerStep.Heartbeat)
                {
                    await Task.Delay(1, CancellationToken.None);
                }
            },
        };
        var ran = new List<long>();
        var cancelledInMigration = true;

        await Run(
            manager,
            [
                Reg(1, ran, body: async (_, ct) =>
                {
                    await AdvanceUntil(time, OneMs, () => manager.Successes(ManagerStep.Heartbeat) >= 5 || ct.IsCancellationRequested);
                    cancelledInMigration = ct.IsCancellationRequested;
                }),
                Reg(2, ran),
            ],
            Options(time, Heartbeat(3, 1)));

        Assert.False(cancelledInMigration);
        Assert.Equal([1L, 2L], ran);
        Assert.True(manager.HeartbeatCount >= 5);
        Assert.Equal(1, manager.MaxConcurrentHeartbeats);
        Assert.Equal(
            Sequence(P(1, "PENDING"), P(2, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), P(2, "STARTED"), P(2, "COMPLETED"), "ReleaseMigrationLock()"),
            manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task First_heartbeat_comes_one_interval_after_the_lock_is_acquired()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager();
        int atStart = -1, beforeInterval = -1;

        await Run(
            manager,
            [
                Reg(1, [], body: async (_, _) =>
                {
                    atStart = manager.HeartbeatCount;
                    time.Advance(TimeSpan.FromMilliseconds(999));
                    for (var i = 0; i < 20; i++)
                    {
                        await Task.Yield();
                    }

                    beforeInterval = manager.HeartbeatCount;
                    await AdvanceUntil(time, OneMs, () => manager.HeartbeatCount >= 1);
                }),
            ],
            Options(time, Heartbeat(1000, 1)));

        Assert.Equal(0, atStart);
        Assert.Equal(0, beforeInterval);
        Assert.True(manager.HeartbeatCount >= 1);
    }

    [Fact]
    public async Task The_next_heartbeat_comes_one_interval_after_the_previous_one_finished()
    {
        var time = new FakeTimeProvider();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new FakeMigrationManager
        {
            Hook = (step, n, _) => step == ManagerStep.Heartbeat && n == 1 ? gate.Task : Task.CompletedTask,
        };
        int duringSlowBeat = -1, rightAfter = -1;

        await Run(
            manager,
            [
                Reg(1, [], body: async (_, _) =>
                {
                    await AdvanceUntil(time, OneMs, () => manager.HeartbeatCount >= 1);

                    // The first beat hangs while ten intervals pass: no other beat starts meanwhile.
                    for (var i = 0; i < 10; i++)
                    {
                        time.Advance(TimeSpan.FromMilliseconds(100));
                        await Task.Delay(1, CancellationToken.None);
                    }

                    duringSlowBeat = manager.HeartbeatCount;
                    gate.SetResult();
                    await WaitUntil(() => manager.Successes(ManagerStep.Heartbeat) >= 1);

                    // Less than one interval after it finished: still no second beat.
                    time.Advance(TimeSpan.FromMilliseconds(99));
                    for (var i = 0; i < 10; i++)
                    {
                        await Task.Delay(1, CancellationToken.None);
                    }

                    rightAfter = manager.HeartbeatCount;
                    await AdvanceUntil(time, OneMs, () => manager.HeartbeatCount >= 2);
                }),
            ],
            Options(time, Heartbeat(100, 1)));

        Assert.Equal(1, duringSlowBeat);
        Assert.Equal(1, rightAfter);
        Assert.Equal(1, manager.MaxConcurrentHeartbeats);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Heartbeat_recovering_resets_the_failure_count()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager
        {
            // fail, succeed, fail, then succeed: with one retry allowed, never two failures in a row.
            Hook = (step, n, _) => step == ManagerStep.Heartbeat && n is 1 or 3 ? throw new BoomException($"blip {n}") : Task.CompletedTask,
        };
        var ran = new List<long>();
        var cancelledInMigration = true;

        await Run(
            manager,
            [
                Reg(1, ran, body: async (_, ct) =>
                {
                    // A fourth heartbeat only comes when the third failure did not stop the heartbeat.
                    await AdvanceUntil(time, OneMs, () => manager.HeartbeatCount >= 4 || ct.IsCancellationRequested);
                    cancelledInMigration = ct.IsCancellationRequested;
                }),
            ],
            Options(time, Heartbeat(1, 1)));

        Assert.False(cancelledInMigration);
        Assert.True(manager.HeartbeatCount >= 4);
        Assert.Equal([1L], ran);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task A_heartbeat_in_flight_when_the_migrations_end_is_cancelled_and_the_lock_released_once()
    {
        var time = new FakeTimeProvider();
        var heartbeatEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new FakeMigrationManager
        {
            Hook = async (step, _, ct) =>
            {
                if (step == ManagerStep.Heartbeat)
                {
                    heartbeatEntered.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct); // hangs until the runner cancels it
                }
            },
        };

        await Run(
            manager,
            [
                Reg(1, [], body: async (_, _) =>
                {
                    await AdvanceUntil(time, OneMs, () => heartbeatEntered.Task.IsCompleted);
                }),
            ],
            Options(time, Heartbeat(10, 1)));

        Assert.True(manager.LastHeartbeatToken.IsCancellationRequested);
        Assert.Equal(1, manager.HeartbeatCount);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), P(1, "COMPLETED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task No_heartbeat_after_the_run_returned()
    {
        var time = new FakeTimeProvider();
        var manager = new FakeMigrationManager();

        await Run(manager, [Reg(1, [], body: (_, _) => AdvanceUntil(time, OneMs, () => manager.HeartbeatCount >= 2))], Options(time, Heartbeat(5, 1)));

        var count = manager.HeartbeatCount;
        for (var i = 0; i < 20; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            await Task.Delay(1);
        }

        Assert.Equal(count, manager.HeartbeatCount);
    }

    [Fact]
    public async Task Heartbeat_on_the_real_clock_with_a_1_ms_interval_fails_three_times()
    {
        // The literal case on TimeProvider.System: nothing below depends on the machine's speed. The beats
        // fail only once the migration runs: on a loaded machine three 1 ms beats could otherwise all fail before it
        // starts, and the run would stop before STARTED (a different, also correct, sequence).
        var migrationRuns = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var manager = new FakeMigrationManager
        {
            Hook = async (step, n, _) =>
            {
                if (step == ManagerStep.Heartbeat)
                {
                    await migrationRuns.Task;
                    throw new BoomException($"lease lost {n}");
                }
            },
        };
        var saw = false;

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(
                manager,
                [
                    Reg(1, [], body: async (_, ct) =>
                    {
                        migrationRuns.SetResult();
                        await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { }, TaskScheduler.Default);
                        saw = true;
                        ct.ThrowIfCancellationRequested();
                    }),
                ],
                Options(TimeProvider.System, Heartbeat(1, 2))));

        Assert.True(saw);
        AssertSeveral(ex, "failed to complete the migration with order 1", "heartbeat failed 3 time(s) with latest error of (lease lost 3)");
        Assert.Equal(3, manager.HeartbeatCount);
        Assert.Equal(Sequence(P(1, "PENDING"), P(1, "STARTED"), "ReleaseMigrationLock()"), manager.Calls);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }
}
