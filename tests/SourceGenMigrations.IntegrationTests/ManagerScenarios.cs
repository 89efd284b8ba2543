using System.Globalization;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Every behaviour both managers must show, on a fresh real database per test: the run semantics end to end through
/// <see cref="MigrationRunner"/>, the database lock, the lease (queueing, expiry, heartbeat, loss), and bad data.
/// </summary>
public abstract class ManagerScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected abstract Task<DbTarget> CreateTargetAsync();

    private static MigrationOptions FastOptions() => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 100, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 60_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    private static List<MigrationRegistration> Migrations(params long[] orders) =>
        orders.Select(o => new MigrationRegistration(o, DbTarget.InsertSideEffectAsync)).ToList();

    private static async Task RunAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, CancellationToken ct = default)
        => await MigrationRunner.RunAsync(manager, registrations, FastOptions(), ct);

    private static async Task RunWithNewManagerAsync(DbTarget db, IReadOnlyList<MigrationRegistration> registrations)
    {
        var manager = db.CreateManager();
        try
        {
            await RunAsync(manager, registrations);
        }
        finally
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }
    }

    /// <summary>Every message of an exception and of all it holds (inner and aggregated ones), for assertions on text.</summary>
    internal static string FullText(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            parts.Add(x.Message);
            if (x is AggregateException aggregate)
            {
                parts.AddRange(aggregate.InnerExceptions.Select(FullText));
            }
        }

        return string.Join(" | ", parts);
    }

    private static async Task DisposeAll(params IMigrationManager[] managers)
    {
        foreach (var m in managers)
        {
            await ((IAsyncDisposable)m).DisposeAsync();
        }
    }

    [DbFact]
    public async Task Fresh_run_runs_each_migration_once_through_the_served_connection_and_persists_completed()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();

        await RunWithNewManagerAsync(db, Migrations(1, 2, 3));

        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        for (var order = 1; order <= 3; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE previous_status = 'PENDING'"));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task Rerun_is_a_no_op_and_a_new_migration_runs_alone()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, Migrations(1, 2));

        await RunWithNewManagerAsync(db, Migrations(1, 2));
        await RunWithNewManagerAsync(db, Migrations(1, 2, 3));

        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal(1, await db.SideEffectCountAsync(2));
        Assert.Equal(1, await db.SideEffectCountAsync(3));
        Assert.Equal(3, (await db.StatusesAsync()).Count(s => s.Value == "COMPLETED"));
    }

    [DbFact]
    public async Task Failed_migration_is_persisted_failed_then_retried_after_the_fix()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var broken = Migrations(1, 3);
        broken.Insert(1, new MigrationRegistration(2, (_, _) => throw new InvalidOperationException("boom in 2")));

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunWithNewManagerAsync(db, broken));
        Assert.Contains("failed to complete the migration with order 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("boom in 2", FullText(error), StringComparison.Ordinal);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "FAILED", [3] = "PENDING" }, await db.StatusesAsync());
        Assert.Equal(0, await db.SideEffectCountAsync(3));

        await RunWithNewManagerAsync(db, Migrations(1, 2, 3));

        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 2 AND previous_status = 'FAILED'"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 3 AND previous_status = 'PENDING'"));
        Assert.Equal(1, await db.SideEffectCountAsync(1));
    }

    [DbFact]
    public async Task Disabled_migration_is_skipped_and_not_persisted()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = Migrations(1, 3);
        registrations.Insert(1, new MigrationRegistration(2, DbTarget.InsertSideEffectAsync, enabled: false));

        await RunWithNewManagerAsync(db, registrations);

        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(0, await db.SideEffectCountAsync(2));
    }

    [DbFact]
    public async Task Unknown_persisted_order_stops_the_run_before_anything_runs()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, Migrations(1, 2, 3));

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunWithNewManagerAsync(db, Migrations(1, 2, 4)));

        Assert.Contains("found persisted migration(s) that are not in the registry", FullText(error), StringComparison.Ordinal);
        Assert.Equal(0, await db.SideEffectCountAsync(4));
        Assert.False((await db.StatusesAsync()).ContainsKey(4));
    }

    [DbFact]
    public async Task Plan_tells_what_a_run_would_do_without_taking_the_lease_running_or_writing_statuses()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, Migrations(1, 3));
        var statusesBefore = await db.StatusesAsync();

        // Another runner holds the lease: planning does not wait for it.
        var holder = db.CreateManager(new ManagerSettings(OwnerId: "holder"));
        await holder.AcquireMigrationLockAsync(CancellationToken.None);
        var planner = db.CreateManager();
        try
        {
            var registrations = new List<MigrationRegistration>(Migrations(1, 2, 3, 4)) { new(5, DbTarget.InsertSideEffectAsync, enabled: false) };
            using var timeout = new CancellationTokenSource(Patience);
            var plan = await MigrationRunner.PlanAsync(planner, registrations, FastOptions(), timeout.Token);

            Assert.Equal(
                [
                    (1L, (MigrationStatus?)MigrationStatus.Completed, MigrationAction.SkipCompleted),
                    (2L, null, MigrationAction.Run),
                    (3L, MigrationStatus.Completed, MigrationAction.SkipCompleted),
                    (4L, null, MigrationAction.Run),
                    (5L, null, MigrationAction.SkipDisabled),
                ],
                plan.Entries.Select(e => (e.Order, e.PersistedStatus, e.Action)));
            Assert.Equal("cannot run migrations out of order (found 2 but latest completed is 3)", plan.Error?.Message);
            Assert.Equal(statusesBefore, await db.StatusesAsync());
            Assert.Equal(0, await db.SideEffectCountAsync(2));
            Assert.Equal(["holder"], (await db.ReadLeaseAsync()).Select(lease => lease.Owner));
        }
        finally
        {
            await holder.ReleaseMigrationLockAsync(CancellationToken.None);
            await DisposeAll(holder, planner);
        }
    }

    [DbFact]
    public async Task Out_of_order_migration_stops_the_run_before_anything_runs()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, Migrations(1, 3));

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunWithNewManagerAsync(db, Migrations(1, 2, 3, 4)));

        Assert.Contains("cannot run migrations out of order (found 2 but latest completed is 3)", FullText(error), StringComparison.Ordinal);
        Assert.Equal(0, await db.SideEffectCountAsync(2));
        Assert.Equal(0, await db.SideEffectCountAsync(4));
    }

    [DbFact]
    public async Task Unknown_status_text_is_an_error_naming_the_row_and_nothing_runs()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, []);
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} (migration_order, status, updated_at) VALUES (1, 'COMPLETED', CURRENT_TIMESTAMP), (5, 'DONE', CURRENT_TIMESTAMP)");

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunWithNewManagerAsync(db, Migrations(1, 2, 5)));

        var text = FullText(error);
        Assert.Contains("failed to list the persisted statuses", text, StringComparison.Ordinal);
        Assert.Contains("migration_order = 5", text, StringComparison.Ordinal);
        Assert.Contains("'DONE'", text, StringComparison.Ordinal);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM side_effect"));
    }

    [DbFact]
    public async Task Negative_order_is_an_error_naming_the_row_and_nothing_runs()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, []);
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} (migration_order, status, updated_at) VALUES (-7, 'COMPLETED', CURRENT_TIMESTAMP)");

        var error = await Assert.ThrowsAsync<MigrationException>(() => RunWithNewManagerAsync(db, Migrations(1)));

        Assert.Contains("migration_order = -7", FullText(error), StringComparison.Ordinal);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM side_effect"));
    }

    [DbFact]
    public async Task Duplicate_orders_cannot_be_stored_the_schema_forbids_them()
    {
        await using var db = await CreateTargetAsync();
        await RunWithNewManagerAsync(db, []);
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} (migration_order, status, updated_at) VALUES (1, 'COMPLETED', CURRENT_TIMESTAMP)");

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
            db.ExecuteAsync($"INSERT INTO {db.StatusTable} (migration_order, status, updated_at) VALUES (1, 'PENDING', CURRENT_TIMESTAMP)"));
    }

    [DbFact]
    public async Task Data_stores_are_created_once_by_many_managers_at_the_same_moment()
    {
        await using var db = await CreateTargetAsync();
        var managers = Enumerable.Range(0, 8).Select(_ => db.CreateManager()).ToArray();
        using var start = new ManualResetEventSlim();
        var tasks = managers.Select(m => Task.Run(async () =>
        {
            start.Wait();
            await m.AcquireDbLockAsync(CancellationToken.None);
            try
            {
                await m.EnsureDataStoresAsync(CancellationToken.None);
            }
            finally
            {
                await m.ReleaseDbLockAsync(CancellationToken.None);
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(tasks).WaitAsync(Patience);

        await managers[0].PersistStatusAsync(4, MigrationStatus.Completed, CancellationToken.None);
        foreach (var m in managers)
        {
            Assert.Equal([new PersistedStatus(4, MigrationStatus.Completed)], await m.ListStatusesAsync(CancellationToken.None));
        }

        await DisposeAll(managers);
    }

    [DbFact]
    public async Task Database_lock_excludes_a_second_manager_until_released_and_waiting_honours_cancellation()
    {
        await using var db = await CreateTargetAsync();
        var first = db.CreateManager();
        var second = db.CreateManager();
        await first.AcquireDbLockAsync(CancellationToken.None);

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireDbLockAsync(cts.Token));
        }

        var waiting = second.AcquireDbLockAsync(CancellationToken.None);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "the second manager took the database lock while the first held it");

        await first.EnsureDataStoresAsync(CancellationToken.None);
        await first.ReleaseDbLockAsync(CancellationToken.None);
        await waiting.WaitAsync(Patience);
        await second.EnsureDataStoresAsync(CancellationToken.None);
        await second.ReleaseDbLockAsync(CancellationToken.None);
        await DisposeAll(first, second);
    }

    private static async Task<IMigrationManager> ReadyManagerAsync(DbTarget db, ManagerSettings? settings = null)
    {
        var manager = db.CreateManager(settings);
        await manager.AcquireDbLockAsync(CancellationToken.None);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        await manager.ReleaseDbLockAsync(CancellationToken.None);
        return manager;
    }

    [DbFact]
    public async Task Held_lease_makes_a_second_runner_wait_until_it_is_released()
    {
        await using var db = await CreateTargetAsync();
        var first = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "first"));
        var second = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "second"));
        await first.AcquireMigrationLockAsync(CancellationToken.None);

        var waiting = second.AcquireMigrationLockAsync(CancellationToken.None);
        await Task.Delay(400);
        Assert.False(waiting.IsCompleted, "the second runner took a lease that was held and not expired");
        Assert.Equal("first", Assert.Single(await db.ReadLeaseAsync()).Owner);

        await first.ReleaseMigrationLockAsync(CancellationToken.None);
        await waiting.WaitAsync(Patience);
        Assert.Equal("second", Assert.Single(await db.ReadLeaseAsync()).Owner);
        await second.ReleaseMigrationLockAsync(CancellationToken.None);
        Assert.Empty(await db.ReadLeaseAsync());
        await DisposeAll(first, second);
    }

    [DbFact]
    public async Task Waiting_for_a_held_lease_ends_with_the_token()
    {
        await using var db = await CreateTargetAsync();
        var first = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "first"));
        var second = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "second"));
        await first.AcquireMigrationLockAsync(CancellationToken.None);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireMigrationLockAsync(cts.Token));

        Assert.Equal("first", Assert.Single(await db.ReadLeaseAsync()).Owner);
        await DisposeAll(first, second);
    }

    [DbFact]
    public async Task Expired_lease_is_taken_over_and_the_old_owner_learns_it_lost_the_lease()
    {
        await using var db = await CreateTargetAsync();
        var first = await ReadyManagerAsync(db, new ManagerSettings(Lease: TimeSpan.FromSeconds(1), OwnerId: "first"));
        var second = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "second"));
        await first.AcquireMigrationLockAsync(CancellationToken.None);

        await second.AcquireMigrationLockAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal("second", Assert.Single(await db.ReadLeaseAsync()).Owner);
        var lost = await Assert.ThrowsAsync<InvalidOperationException>(() => first.MigrationLockHeartbeatAsync(CancellationToken.None));
        Assert.Contains("lost", lost.Message, StringComparison.Ordinal);
        Assert.Contains("second", lost.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => first.ReleaseMigrationLockAsync(CancellationToken.None));
        Assert.Equal("second", Assert.Single(await db.ReadLeaseAsync()).Owner);
        await DisposeAll(first, second);
    }

    [DbFact]
    public async Task Heartbeat_extends_the_lease_past_its_first_expiry()
    {
        await using var db = await CreateTargetAsync();
        var lease = TimeSpan.FromMilliseconds(3000); // several heartbeats per lease, so a loaded CI machine does not let it lapse
        var first = await ReadyManagerAsync(db, new ManagerSettings(Lease: lease, OwnerId: "first"));
        var second = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "second"));
        await first.AcquireMigrationLockAsync(CancellationToken.None);
        var firstExpiry = Assert.Single(await db.ReadLeaseAsync()).ExpiresMs;

        var waiting = second.AcquireMigrationLockAsync(CancellationToken.None);
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(500);
            await first.MigrationLockHeartbeatAsync(CancellationToken.None);
        }

        // 4 s later: past the first expiry, and still held by the first runner.
        var row = Assert.Single(await db.ReadLeaseAsync());
        Assert.Equal("first", row.Owner);
        Assert.True(row.ExpiresMs >= firstExpiry + 3000, $"expiry {row.ExpiresMs} was not extended from {firstExpiry}");
        Assert.False(waiting.IsCompleted, "the lease was taken although its owner kept extending it");

        await first.ReleaseMigrationLockAsync(CancellationToken.None);
        await waiting.WaitAsync(Patience);
        await DisposeAll(first, second);
    }

    [DbFact]
    public async Task A_generated_owner_id_is_one_value_for_every_thread_the_lease_row_and_the_statuses()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var manager = db.CreateManager();

        // Generated on first use (a start with nothing to do needs none): threads racing to it all get the same one.
        Func<string> ownerId = manager switch
        {
            SourceGenMigrations.Sqlite.SqliteMigrationManager m => () => m.OwnerId,
            SourceGenMigrations.PostgreSql.PostgreSqlMigrationManager m => () => m.OwnerId,
            SourceGenMigrations.MySql.MySqlMigrationManager m => () => m.OwnerId,
            _ => throw new InvalidOperationException(manager.GetType().Name),
        };
        using var start = new Barrier(8);
        var seen = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => { start.SignalAndWait(); return ownerId(); })));
        var owner = Assert.Single(seen.Distinct());

        await RunAsync(manager, Migrations(1));
        // applied_by is the owner id, followed by the build's version when there is one.
        Assert.Equal(1, await db.CountAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT COUNT(*) FROM {db.StatusTable} WHERE substr(applied_by, 1, {owner.Length}) = '{owner.Replace("'", "''", StringComparison.Ordinal)}'")));
        await manager.AcquireMigrationLockAsync(CancellationToken.None);
        Assert.Equal(owner, Assert.Single(await db.ReadLeaseAsync()).Owner);
        await manager.ReleaseMigrationLockAsync(CancellationToken.None);
        await DisposeAll(manager);
    }

    [DbFact]
    public async Task A_start_with_nothing_to_do_finishes_while_another_runner_holds_the_lease_and_one_with_work_waits()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        await RunWithNewManagerAsync(db, Migrations(1, 2));
        var holder = await ReadyManagerAsync(db, new ManagerSettings(Lease: TimeSpan.FromMinutes(10), OwnerId: "other-runner"));
        await holder.AcquireMigrationLockAsync(CancellationToken.None);

        // Every migration completed: the statuses are read without locks and the run ends there, taking and writing
        // nothing (it used to wait for the lease until its deadline).
        await RunWithNewManagerAsync(db, Migrations(1, 2)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("other-runner", Assert.Single(await db.ReadLeaseAsync()).Owner);

        // One migration to run: the run takes the locks, so it waits for the lease as before.
        var waiter = db.CreateManager();
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(waiter, Migrations(1, 2, 3), patience.Token));
        }

        Assert.Equal(0, await db.SideEffectCountAsync(3));
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        await holder.ReleaseMigrationLockAsync(CancellationToken.None);
        await DisposeAll(holder, waiter);
    }

    [DbFact]
    public async Task Heartbeat_and_release_fail_when_the_lease_row_was_stolen()
    {
        await using var db = await CreateTargetAsync();
        var first = await ReadyManagerAsync(db, new ManagerSettings(OwnerId: "first"));
        await first.AcquireMigrationLockAsync(CancellationToken.None);
        await first.MigrationLockHeartbeatAsync(CancellationToken.None);

        await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief'");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => first.MigrationLockHeartbeatAsync(CancellationToken.None));
        Assert.Contains("thief", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => first.ReleaseMigrationLockAsync(CancellationToken.None));
        Assert.Equal("thief", Assert.Single(await db.ReadLeaseAsync()).Owner);

        await db.ExecuteAsync($"DELETE FROM {db.LockTable}");
        var gone = await Assert.ThrowsAsync<InvalidOperationException>(() => first.MigrationLockHeartbeatAsync(CancellationToken.None));
        Assert.Contains("no lease row", gone.Message, StringComparison.Ordinal);
        await DisposeAll(first);
    }

    // Non-transactional: the thief's write needs no lock the migration holds (a transactional SQLite migration holds
    // the database's write lock, so nobody can steal its lease; UnitOfWorkScenarios covers the fence at the commit).
    [DbFact]
    public async Task Lease_stolen_during_a_non_transactional_migration_fails_the_heartbeat_cancels_the_run_and_says_so()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledInside = false;
        var registrations = Migrations(1);
        registrations.Add(new MigrationRegistration(2, async (_, ct) =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelledInside = true;
                throw;
            }
        }, transactional: false));
        var manager = db.CreateManager(new ManagerSettings(OwnerId: "victim"));

        var run = RunAsync(manager, registrations);
        await started.Task.WaitAsync(Patience);
        await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief'");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => run.WaitAsync(Patience));
        var text = FullText(error);
        Assert.Contains("heartbeat failed", text, StringComparison.Ordinal);
        Assert.Contains("thief", text, StringComparison.Ordinal);
        Assert.True(cancelledInside, "the migration's token was not cancelled when the lease was lost");
        Assert.Equal("STARTED", (await db.StatusesAsync())[2]);
        Assert.Equal("thief", Assert.Single(await db.ReadLeaseAsync()).Owner);
        await DisposeAll(manager);
    }

    [DbFact]
    public async Task Cancelled_run_rolls_back_a_transactional_migration_releases_the_lease_and_the_next_run_runs_it_once()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = Migrations(1);
        registrations.Add(new MigrationRegistration(2, async (context, ct) =>
        {
            await DbTarget.InsertSideEffectAsync(context, ct);
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }));
        var manager = db.CreateManager();
        using var cts = new CancellationTokenSource();

        var run = RunAsync(manager, registrations, cts.Token);
        await started.Task.WaitAsync(Patience);
        await cts.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
        Assert.Equal(cts.Token, error.CancellationToken);

        // Its insert and its STARTED rolled back together: the status is the one before the run.
        Assert.Equal("PENDING", (await db.StatusesAsync())[2]);
        Assert.Equal(0, await db.SideEffectCountAsync(2));
        Assert.Empty(await db.ReadLeaseAsync());
        await DisposeAll(manager);

        await RunWithNewManagerAsync(db, Migrations(1, 2));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 2 AND previous_status = 'PENDING'"));
        Assert.Equal(1, await db.SideEffectCountAsync(1));
    }

    [DbFact]
    public async Task Cancelled_run_leaves_a_non_transactional_migration_started_releases_the_lease_and_the_next_run_retries_it()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = Migrations(1);
        registrations.Add(new MigrationRegistration(2, async (_, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, transactional: false));
        var manager = db.CreateManager();
        using var cts = new CancellationTokenSource();

        var run = RunAsync(manager, registrations, cts.Token);
        await started.Task.WaitAsync(Patience);
        await cts.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
        Assert.Equal(cts.Token, error.CancellationToken);
        Assert.Equal("STARTED", (await db.StatusesAsync())[2]);
        Assert.Empty(await db.ReadLeaseAsync());
        await DisposeAll(manager);

        await RunWithNewManagerAsync(db, Migrations(1, 2));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 2 AND previous_status = 'STARTED'"));
        Assert.Equal(1, await db.SideEffectCountAsync(1));
    }

    [DbFact]
    public async Task Persist_status_overwrites_and_list_returns_every_row_in_order()
    {
        await using var db = await CreateTargetAsync();
        var manager = await ReadyManagerAsync(db);
        await manager.PersistStatusAsync(10, MigrationStatus.Pending, CancellationToken.None);
        await manager.PersistStatusAsync(2, MigrationStatus.Started, CancellationToken.None);
        await manager.PersistStatusAsync(10, MigrationStatus.Failed, CancellationToken.None);
        await manager.PersistStatusAsync(0, MigrationStatus.Completed, CancellationToken.None);

        Assert.Equal(
            [new PersistedStatus(0, MigrationStatus.Completed), new PersistedStatus(2, MigrationStatus.Started), new PersistedStatus(10, MigrationStatus.Failed)],
            await manager.ListStatusesAsync(CancellationToken.None));
        Assert.Equal(3, await db.CountAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT COUNT(*) FROM {db.StatusTable}")));
        await DisposeAll(manager);
    }
}

public sealed class SqliteManagerTests : ManagerScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());
}

public sealed class PostgreSqlManagerTests : ManagerScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();
}
