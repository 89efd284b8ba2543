using Microsoft.Data.Sqlite;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What the SQLite manager promises about its connections: statuses are written on the connection served to
/// migrations (so a migration's schema changes are never re-read by another connection of the runner), a transaction a
/// migration leaves open there is an error before any status is written, and no transaction outlives the manager.
/// </summary>
public sealed class SqliteConnectionTests
{
    private static MigrationOptions Options() => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 1_000, DeadlineMilliseconds = 60_000 },
    };

    private static SqliteConnection Served(MigrationContext context) =>
        Assert.IsType<SqliteConnection>(context.Services!.GetService(typeof(SqliteConnection)));

    [Fact]
    public async Task A_start_with_nothing_to_do_that_finds_the_database_locked_waits_under_the_locks_instead_of_failing()
    {
        // Rollback journal: while another connection holds an exclusive lock, even a read is refused (SQLITE_BUSY). The
        // read without locks takes that as "take the locks", whose database lock waits for the writer; nothing fails.
        await using var db = new SqliteTarget();
        var options = new SqliteMigrationManagerOptions { UseWriteAheadLog = false };
        var ran = 0;
        MigrationRegistration[] migrations = [new(1, (_, _) => { Interlocked.Increment(ref ran); return Task.CompletedTask; })];
        await using (var first = new SqliteMigrationManager(db.ConnectionString, options))
        {
            await MigrationRunner.RunAsync(first, migrations, Options());
        }

        await using var writer = new SqliteConnection(db.ConnectionString);
        await writer.OpenAsync();
        await using (var exclusive = writer.CreateCommand())
        {
            exclusive.CommandText = "BEGIN EXCLUSIVE;";
            await exclusive.ExecuteNonQueryAsync();
        }

        await using var manager = new SqliteMigrationManager(db.ConnectionString, options);
        var run = MigrationRunner.RunAsync(manager, migrations, Options());
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(run.IsCompleted, "the run did not wait for the exclusive lock");

        await using (var rollback = writer.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        await run.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task Statuses_are_written_on_the_connection_served_to_migrations()
    {
        await using var db = new SqliteTarget();
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        long? changesSeenBySecondMigration = null;
        SqliteConnection? first = null;
        var registrations = new[]
        {
            new MigrationRegistration(1, (context, _) => { first = Served(context); return Task.CompletedTask; }),
            new MigrationRegistration(2, async (context, ct) =>
            {
                // total_changes() counts the rows this connection changed: the statuses of migration 1 and 2 are among them.
                var connection = Served(context);
                Assert.Same(first, connection);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT total_changes()";
                changesSeenBySecondMigration = (long)(await command.ExecuteScalarAsync(ct))!;
            }),
        };

        await MigrationRunner.RunAsync(manager, registrations, Options());

        // PENDING 1, PENDING 2, COMPLETED 1: three status rows written before migration 2 looked (a transactional
        // migration's begin only reads, and a quick one's commit right after the lease was taken leaves it alone).
        Assert.True(changesSeenBySecondMigration >= 3, $"total_changes() was {changesSeenBySecondMigration}");
    }

    [Fact]
    public async Task A_transaction_left_open_by_a_non_transactional_migration_fails_the_run_before_its_status_is_written_and_is_rolled_back()
    {
        await using var db = new SqliteTarget();
        await db.ExecuteAsync("CREATE TABLE leftovers (id INTEGER)");
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await using var command = Served(context).CreateCommand();
                command.CommandText = "BEGIN; INSERT INTO leftovers VALUES (1);";
                await command.ExecuteNonQueryAsync(ct);
            }, name: "Leaky", transactional: false),
        };

        var manager = new SqliteMigrationManager(db.ConnectionString);
        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));
        await manager.DisposeAsync();

        Assert.Equal("failed to persist the status COMPLETED for the migration order 1", error.Step);
        var cause = Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Contains("a transaction was still open", cause.Message, StringComparison.Ordinal);
        Assert.Contains("it was rolled back", cause.Message, StringComparison.Ordinal);
        Assert.Contains("commit or roll back", cause.Message, StringComparison.Ordinal);

        // The migration stays STARTED (retried by the next run), its uncommitted insert was rolled back, and with the
        // write lock free again the lease was released.
        Assert.Equal(new Dictionary<long, string> { [1] = "STARTED" }, await db.StatusesAsync());
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM leftovers"));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [Fact]
    public async Task Disposing_a_manager_that_holds_the_database_lock_frees_it_for_the_next_runner_at_once()
    {
        await using var db = new SqliteTarget();
        var holder = new SqliteMigrationManager(db.ConnectionString);
        await holder.AcquireDbLockAsync(CancellationToken.None);
        await holder.EnsureDataStoresAsync(CancellationToken.None);
        await holder.DisposeAsync();

        // Same process, same pool: a pooled connection still inside BEGIN IMMEDIATE would block this forever.
        await using var next = new SqliteMigrationManager(db.ConnectionString);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await next.AcquireDbLockAsync(timeout.Token);
        await next.EnsureDataStoresAsync(timeout.Token);
        await next.ReleaseDbLockAsync(timeout.Token);

        // The first manager's tables were rolled back with its lock; the second created them.
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM migration_status"));
    }

    [Fact]
    public async Task A_second_database_lock_on_one_manager_is_refused_without_touching_the_first()
    {
        await using var db = new SqliteTarget();
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        await manager.AcquireDbLockAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => manager.AcquireDbLockAsync(CancellationToken.None));

        Assert.Contains("already holds the database lock", error.Message, StringComparison.Ordinal);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        await manager.ReleaseDbLockAsync(CancellationToken.None);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM migration_status"));
    }

    [Fact]
    public async Task A_run_that_beats_no_heartbeat_opens_one_connection_and_takes_and_releases_the_lease_on_it()
    {
        await using var db = new SqliteTarget();
        var ran = 0;
        var registrations = Enumerable.Range(1, 3)
            .Select(order => new MigrationRegistration(order, (_, _) => { ran++; return Task.CompletedTask; }))
            .ToArray();
        var fresh = new SqliteMigrationManager(db.ConnectionString);
        var noOp = new SqliteMigrationManager(db.ConnectionString);

        await MigrationRunner.RunAsync(fresh, registrations, Options());
        await MigrationRunner.RunAsync(noOp, registrations, Options());

        // One schema parse per run: SQLite parses the whole schema on each connection's first statement.
        Assert.Equal(1, fresh.ConnectionsOpened);
        Assert.Equal(1, noOp.ConnectionsOpened);
        Assert.Equal(3, ran);
        Assert.Empty(await db.ReadLeaseAsync());
        await fresh.DisposeAsync();
        await noOp.DisposeAsync();
    }

    [Fact]
    public async Task The_heartbeat_runs_on_its_own_connection_beside_a_non_transactional_migration_using_the_served_one()
    {
        await using var db = new SqliteTarget();
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        var options = new MigrationOptions
        {
            ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 20, DeadlineMilliseconds = 60_000 },
        };
        long leaseBefore = 0;
        long leaseDuring = 0;
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                var connection = Served(context);
                leaseBefore = await ExpiresAtAsync(connection, ct);

                // Keep the served connection busy until a heartbeat extended the lease from the other connection.
                var watch = System.Diagnostics.Stopwatch.StartNew();
                while ((leaseDuring = await ExpiresAtAsync(connection, ct)) == leaseBefore && watch.Elapsed < TimeSpan.FromSeconds(10))
                {
                    await Task.Delay(5, ct);
                }
            }, transactional: false),
        };

        await MigrationRunner.RunAsync(manager, registrations, options);

        Assert.True(leaseDuring > leaseBefore, "no heartbeat extended the lease while the migration ran");
        Assert.Equal(2, manager.ConnectionsOpened);
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [Fact]
    public async Task A_cancelled_run_releases_the_lease_beside_a_non_transactional_migration_still_using_the_served_connection()
    {
        await using var db = new SqliteTarget();
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        using var cts = new CancellationTokenSource();
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var statementsAfterCancel = 0;
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, _) =>
            {
                // Ignores cancellation and keeps using its connection until the lease is gone.
                var connection = Served(context);
                await cts.CancelAsync();
                while (!released.Task.IsCompleted)
                {
                    await ExpiresAtAsync(connection, CancellationToken.None);
                    statementsAfterCancel++;
                    if ((await db.ReadLeaseAsync()).Count == 0)
                    {
                        released.SetResult();
                    }
                }
            }, transactional: false),
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MigrationRunner.RunAsync(manager, registrations, Options(), cts.Token));

        Assert.True(statementsAfterCancel > 0);
        Assert.Equal(2, manager.ConnectionsOpened);
        Assert.Equal(new Dictionary<long, string> { [1] = "STARTED" }, await db.StatusesAsync());
    }

    [Fact]
    public async Task A_quick_migrations_commit_leaves_the_lease_row_alone_and_a_longer_ones_extends_it()
    {
        await using var db = new SqliteTarget();
        await using var manager = (SqliteMigrationManager)db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromSeconds(10)));
        var options = new MigrationOptions
        {
            // No heartbeat within the run: only the migrations' commits may write the lease row.
            ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 60_000, DeadlineMilliseconds = 60_000 },
        };
        var seen = new List<long>();
        async Task Record(MigrationContext context, CancellationToken ct) => seen.Add(await ExpiresAtAsync(Served(context), ct));
        var registrations = new[]
        {
            new MigrationRegistration(1, Record),
            new MigrationRegistration(2, async (context, ct) =>
            {
                await Record(context, ct);
                await Task.Delay(TimeSpan.FromMilliseconds(1_500), ct); // more than a tenth of the lease
            }),
            new MigrationRegistration(3, Record),
        };

        await MigrationRunner.RunAsync(manager, registrations, options);

        // One's commit, within a tenth of the lease since it was taken, did not write the lease row (one page less per
        // commit); Two's, later, extended it.
        Assert.Equal(3, seen.Count);
        Assert.Equal(seen[0], seen[1]);
        Assert.True(seen[2] >= seen[1] + 1_400, $"the lease was not extended by the longer migration's commit: {seen[1]} then {seen[2]}");
        Assert.Equal(Enumerable.Range(1, 3).ToDictionary(order => (long)order, _ => "COMPLETED"), await db.StatusesAsync());
    }

    [Fact]
    public async Task A_transactional_migrations_completed_is_written_over_its_pending_row_or_without_one_by_the_fenced_write()
    {
        await using var db = new SqliteTarget();
        await db.CreateSideEffectTableAsync();

        // A run writes PENDING first; each COMPLETED then updates that row, with the migration's name, who applied it and
        // its flag.
        await using (var manager = (SqliteMigrationManager)db.CreateManager())
        {
            var registrations = new[]
            {
                new MigrationRegistration(1, DbTarget.InsertSideEffectAsync, name: "App.One"),
                new MigrationRegistration(2, DbTarget.InsertSideEffectAsync, name: "App.Two", breaksOlderBuilds: true),
            };
            await MigrationRunner.RunAsync(manager, registrations, new MigrationOptions());
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE migration_order = 1 AND status = 'COMPLETED' AND name = 'App.One' AND applied_by IS NOT NULL AND breaks_older_builds = 0 AND checksum IS NULL"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE migration_order = 2 AND status = 'COMPLETED' AND name = 'App.Two' AND breaks_older_builds = 1"));

        // Driven by hand without PENDING: no row to update, so the fenced write (the lease is ours) inserts it.
        await using (var handDriven = (SqliteMigrationManager)db.CreateManager())
        {
            await handDriven.AcquireMigrationLockAsync(CancellationToken.None);
            await using (var unit = await handDriven.BeginMigrationAsync(new MigrationDescriptor(3, "App.Three", true, MigrationStatus.Pending), CancellationToken.None))
            {
                await unit!.CompleteAsync(CancellationToken.None);
            }

            await handDriven.ReleaseMigrationLockAsync(CancellationToken.None);
        }

        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE migration_order = 3 AND name = 'App.Three'"));
    }

    [Fact]
    public async Task A_transactional_migration_longer_than_the_lease_keeps_it_by_its_transaction_and_its_commit_extends_it()
    {
        await using var db = new SqliteTarget();
        await db.CreateSideEffectTableAsync();
        await using var manager = (SqliteMigrationManager)db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromMilliseconds(300)));
        var options = new MigrationOptions
        {
            // Beats every 30 ms, none tolerated to fail: a heartbeat that could not write would stop the run.
            ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 30, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 60_000 },
        };
        long leaseAtStart = 0;
        long leaseAtEnd = 0;
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                var connection = Served(context);
                leaseAtStart = await ExpiresAtAsync(connection, ct);
                await Task.Delay(TimeSpan.FromMilliseconds(1_000), ct); // more than three leases
                leaseAtEnd = await ExpiresAtAsync(connection, ct);
                await DbTarget.InsertSideEffectAsync(context, ct);
            }),
        };

        await MigrationRunner.RunAsync(manager, registrations, options);

        // Nobody wrote the lease row while the transaction held the write lock: not even this runner's heartbeat.
        Assert.Equal(leaseAtStart, leaseAtEnd);
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[1]);
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [Fact]
    public async Task A_waiting_runner_counts_a_database_busy_with_another_runners_migration_as_a_held_lease()
    {
        await using var db = new SqliteTarget();
        await using var first = (SqliteMigrationManager)db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromMilliseconds(200)));
        await using var second = (SqliteMigrationManager)db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromMilliseconds(200), Poll: TimeSpan.FromMilliseconds(20)));
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = new[]
        {
            new MigrationRegistration(1, async (_, ct) => { inside.SetResult(); await leave.Task.WaitAsync(ct); }),
        };

        var run = MigrationRunner.RunAsync(first, registrations, Options());
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The lease expired long ago by the clock, but the first runner's transaction holds the write lock: the second
        // waits (busy counts as held) instead of failing with "database is locked" or taking the lease.
        await Task.Delay(600);
        using var waiting = new CancellationTokenSource(TimeSpan.FromMilliseconds(1_500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireMigrationLockAsync(waiting.Token));

        leave.SetResult();
        await run;
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[1]);
    }

    private static async Task<long> ExpiresAtAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(expires_at_ms), 0) FROM migration_lock";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
