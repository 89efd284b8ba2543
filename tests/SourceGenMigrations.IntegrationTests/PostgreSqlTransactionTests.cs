using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;
using SourceGenMigrations.PostgreSql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What PostgreSQL shows of the unit of work beyond the other databases: the lease can be taken from a runner while its
/// transactional migration runs (<see cref="LeaseTheftScenarios"/>), and a non-transactional migration runs statements
/// that cannot run in a transaction while other runners use the same database.
/// </summary>
public sealed class PostgreSqlTransactionTests : LeaseTheftScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static MigrationRegistration[] SideEffects(int count) =>
        Enumerable.Range(1, count).Select(order => new MigrationRegistration(order, DbTarget.InsertSideEffectAsync)).ToArray();

    private static MigrationOptions Options(int heartbeatMilliseconds) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 120_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    [DbFact]
    public async Task The_transactional_migrations_of_one_run_share_one_connection_and_each_commits_on_its_own()
    {
        await using var db = await PostgresTarget.CreateAsync();
        var backends = new List<int>();
        var transactions = new List<long>();
        async Task Record(MigrationContext context, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid(), txid_current()", Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection))));
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            backends.Add(reader.GetInt32(0));
            transactions.Add(reader.GetInt64(1));
        }

        var manager = db.CreateManager();
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, Record), new MigrationRegistration(2, Record), new MigrationRegistration(3, Record)], Options(heartbeatMilliseconds: 60_000));
        await ((IAsyncDisposable)manager).DisposeAsync();

        // No pool round trip and no session reset between two migrations; one transaction (one commit) each.
        Assert.Single(backends.Distinct());
        Assert.Equal(3, transactions.Distinct().Count());
    }

    [DbFact]
    public async Task Create_index_concurrently_in_a_non_transactional_migration_completes_while_a_replica_waits_one_starts_and_a_status_look_polls()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        await db.ExecuteAsync("INSERT INTO side_effect (migration_order, previous_status, pid) SELECT g, 'seed', 0 FROM generate_series(1000, 5000) g");
        var indexing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = new[]
        {
            new MigrationRegistration(1, DbTarget.InsertSideEffectAsync),
            new MigrationRegistration(2, async (context, ct) =>
            {
                indexing.TrySetResult();
                await othersBusy.Task.WaitAsync(ct);
                var connection = Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection)));
                Assert.Null(context.Services.GetService(typeof(DbTransaction)));
                await using var command = new NpgsqlCommand("CREATE INDEX CONCURRENTLY ix_side_effect_order ON side_effect (migration_order)", connection);
                await command.ExecuteNonQueryAsync(ct);
            }, name: "App.IndexConcurrently", transactional: false),
            new MigrationRegistration(3, DbTarget.InsertSideEffectAsync),
        };

        var applier = db.CreateManager();
        var waiter = db.CreateManager();
        var starter = db.CreateManager();
        var looker = db.CreateManager();
        using var stop = new CancellationTokenSource();
        var applying = MigrationRunner.RunAsync(applier, registrations, Options(heartbeatMilliseconds: 100));
        await indexing.Task.WaitAsync(Patience);

        // A replica waiting for the lease, one starting over and over (database lock, data stores), a status look polling.
        var waiting = MigrationRunner.RunAsync(waiter, registrations, Options(heartbeatMilliseconds: 100));
        var starts = 0;
        var looks = 0;
        var starting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await starter.AcquireDbLockAsync(CancellationToken.None);
                await starter.EnsureDataStoresAsync(CancellationToken.None);
                await starter.ReleaseDbLockAsync(CancellationToken.None);
                Interlocked.Increment(ref starts);
            }
        });
        var looking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await MigrationRunner.PlanAsync(looker, registrations, Options(heartbeatMilliseconds: 100));
                Interlocked.Increment(ref looks);
            }
        });
        while (Volatile.Read(ref starts) < 3 || Volatile.Read(ref looks) < 3)
        {
            await Task.Delay(10);
        }

        othersBusy.SetResult();
        await applying.WaitAsync(Patience); // CREATE INDEX CONCURRENTLY waits for every open transaction: none of ours stays open
        await waiting.WaitAsync(Patience);
        await stop.CancelAsync();
        await Task.WhenAll(starting, looking).WaitAsync(Patience);
        foreach (var manager in new[] { applier, waiter, starter, looker })
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM pg_index WHERE indexrelid = 'ix_side_effect_order'::regclass AND indisvalid"));
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(3));
        Assert.True(Volatile.Read(ref starts) >= 3 && Volatile.Read(ref looks) >= 3);
    }

    [DbFact]
    public async Task After_the_first_each_transactional_migration_costs_two_round_trips_its_statements_and_the_commit_that_begins_the_next()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var commands = new CommandRecorder();
        await using var dataSource = commands.DataSource(db.ConnectionString);
        var registrations = Enumerable.Range(1, 5).Select(order => new MigrationRegistration(order, DbTarget.InsertSideEffectAsync)).ToArray();

        await using (var manager = new PostgreSqlMigrationManager(dataSource))
        {
            await MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000));
        }

        // The units' own round trips: the first migration's begin (with its checks), then one per migration: COMPLETED and
        // COMMIT, and for the next migration BEGIN and its checks (each through its function).
        var units = commands.Executed.Where(text => text.Contains("_v1\"($1::bigint", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, units.Count);
        Assert.DoesNotContain("COMMIT", units[0], StringComparison.Ordinal);
        Assert.All(units.Skip(1).Take(4), text => Assert.Contains(", COMMIT, BEGIN, ", text, StringComparison.Ordinal));
        Assert.EndsWith(", COMMIT]", units[5], StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 5).ToDictionary(order => (long)order, _ => "COMPLETED"), await db.StatusesAsync());
        Assert.Equal(5, await db.CountAsync("SELECT COUNT(*) FROM side_effect"));
    }

    [DbFact]
    public async Task The_runs_pending_statuses_are_one_statement_per_thousand_migrations_in_one_round_trip()
    {
        await using var db = await PostgresTarget.CreateAsync();
        var commands = new CommandRecorder();
        await using var dataSource = commands.DataSource(db.ConnectionString);
        var registrations = Enumerable.Range(1, 1001).Select(order => new MigrationRegistration(order, static (_, _) => Task.CompletedTask)).ToArray();
        await using (var manager = new PostgreSqlMigrationManager(dataSource))
        {
            await MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000));
        }

        // One batch (one round trip, one commit) of two multi-row upserts: 1,000 rows and 1.
        var pending = Assert.Single(commands.Executed, text => text.Contains("'PENDING'", StringComparison.Ordinal));
        Assert.Equal(2, pending.Split("INSERT INTO").Length - 1);
        Assert.Contains("$3000::text)", pending, StringComparison.Ordinal);
        Assert.DoesNotContain("$3001", pending, StringComparison.Ordinal);
        Assert.Equal(1001, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE status = 'COMPLETED' AND name IS NOT NULL"));
    }

    [DbFact]
    public async Task The_units_of_work_call_functions_made_once_with_the_tables_a_changed_one_is_replaced_and_a_manager_that_did_not_look_sends_the_statements()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        const string Functions = "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname IN ('migration_status_checks_v1', 'migration_status_complete_v1')";
        await using (var manager = new PostgreSqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, SideEffects(2), Options(heartbeatMilliseconds: 60_000));
        }

        Assert.Equal(2, await db.CountAsync("SELECT COUNT(*) " + Functions));
        var made = await db.CountAsync("SELECT sum(p.xmin::text::bigint) " + Functions);

        // The next runs find them in the catalog (no catalog write) and use them: each migration once.
        var commands = new CommandRecorder();
        await using (var dataSource = commands.DataSource(db.ConnectionString))
        await using (var manager = new PostgreSqlMigrationManager(dataSource))
        {
            await MigrationRunner.RunAsync(manager, SideEffects(4), Options(heartbeatMilliseconds: 60_000));
        }

        Assert.Equal(made, await db.CountAsync("SELECT sum(p.xmin::text::bigint) " + Functions));
        Assert.Equal(2, commands.Executed.Count(text => text.Contains("\"public\".\"migration_status_complete_v1\"($1::bigint", StringComparison.Ordinal)));
        Assert.DoesNotContain(commands.Executed, text => text.Contains("WITH completed AS", StringComparison.Ordinal));

        // A function of that name with another body (here one that writes nothing) is replaced, not trusted.
        await db.ExecuteAsync(
            "CREATE OR REPLACE FUNCTION public.migration_status_complete_v1(bigint, text, text, boolean, text, interval, bigint, text) " +
            "RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$");
        await using (var manager = new PostgreSqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, SideEffects(5), Options(heartbeatMilliseconds: 60_000));
        }

        Assert.Equal("COMPLETED", (await db.StatusesAsync())[5]);

        // A manager driven by hand without EnsureDataStoresAsync never looks for them (dropped here): the statements
        // themselves do the same work.
        await db.ExecuteAsync("DROP FUNCTION public.migration_status_checks_v1; DROP FUNCTION public.migration_status_complete_v1");
        var handCommands = new CommandRecorder();
        await using (var handDataSource = handCommands.DataSource(db.ConnectionString))
        await using (var handDriven = new PostgreSqlMigrationManager(handDataSource))
        {
            var manager = handDriven;
            await manager.AcquireMigrationLockAsync(CancellationToken.None);
            MigrationDescriptor sixth = new(6, "App.M6", true, MigrationStatus.Pending);
            await manager.PersistPendingAsync([sixth], CancellationToken.None);
            await using (var unit = await manager.BeginMigrationAsync(sixth, CancellationToken.None))
            {
                await unit!.CompleteAsync(CancellationToken.None);
            }

            await manager.ReleaseMigrationLockAsync(CancellationToken.None);
        }

        Assert.Contains(handCommands.Executed, text => text.Contains("WITH completed AS", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, 6).ToDictionary(order => (long)order, _ => "COMPLETED"), await db.StatusesAsync());
        for (var order = 1; order <= 5; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }
    }

    [DbFact]
    public async Task Two_long_status_table_names_that_differ_only_at_the_end_get_functions_of_their_own()
    {
        await using var db = await PostgresTarget.CreateAsync();
        var stem = new string('s', 58);
        foreach (var suffix in new[] { "_one", "_two" })
        {
            var settings = new PostgreSqlMigrationManagerOptions { LockTableName = "lock" + suffix, StatusTableName = stem + suffix };
            await using var manager = new PostgreSqlMigrationManager(db.ConnectionString, settings);
            await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, static (_, _) => Task.CompletedTask)], Options(heartbeatMilliseconds: 60_000));
        }

        // 62 characters each: "{stem cut short}_{hash of the whole name}_checks_v1" and "…_complete_v1", four distinct names.
        Assert.Equal(4, await db.CountAsync($"SELECT COUNT(DISTINCT proname) FROM pg_proc WHERE proname LIKE 'sssss%' AND length(proname) <= 63"));
        Assert.Equal(2, await db.CountAsync($"SELECT COUNT(*) FROM \"{stem}_one\" WHERE status = 'COMPLETED'") + await db.CountAsync($"SELECT COUNT(*) FROM \"{stem}_two\" WHERE status = 'COMPLETED'"));
    }

    [DbFact]
    public async Task With_npgsql_auto_preparation_on_the_units_of_work_apply_each_migration_once_and_a_failure_keeps_nothing()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var failSeven = true;
        var registrations = Enumerable.Range(1, 10).Select(order => new MigrationRegistration(order, async (context, ct) =>
        {
            await DbTarget.InsertSideEffectAsync(context, ct);
            if (order == 7 && failSeven)
            {
                throw new InvalidOperationException("seven fails once");
            }
        })).ToArray();

        // As the package README recommends for direct connections: Npgsql prepares the manager's statements after two uses.
        var preparing = db.ConnectionString + ";Max Auto Prepare=20;Auto Prepare Min Usages=2";
        await using (var manager = PostgresTarget.CreateManager(preparing, settings: null))
        {
            await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000)));
        }

        Assert.Equal("FAILED", (await db.StatusesAsync())[7]);
        Assert.Equal(0, await db.SideEffectCountAsync(7));
        failSeven = false;
        await using (var manager = PostgresTarget.CreateManager(preparing, settings: null))
        {
            await MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000));
        }

        Assert.Equal(Enumerable.Range(1, 10).ToDictionary(order => (long)order, _ => "COMPLETED"), await db.StatusesAsync());
        for (var order = 1; order <= 10; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }
    }

    [DbFact]
    public async Task A_transaction_begun_for_a_migration_that_does_not_come_is_rolled_back_when_another_comes_or_the_run_ends()
    {
        await using var db = await PostgresTarget.CreateAsync();
        var manager = (ITransactionalMigrationManager)db.CreateManager();
        await manager.AcquireDbLockAsync(CancellationToken.None);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        await manager.ReleaseDbLockAsync(CancellationToken.None);
        await manager.AcquireMigrationLockAsync(CancellationToken.None);
        MigrationDescriptor[] run = [new(1, "One", true, MigrationStatus.Pending), new(2, "Two", true, MigrationStatus.Pending), new(3, "Three", true, MigrationStatus.Pending)];
        await manager.PersistPendingAsync(run, CancellationToken.None);
        const string OursInTransaction = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'";

        await using (var one = await manager.BeginMigrationAsync(run[0], CancellationToken.None))
        {
            await one!.CompleteAsync(CancellationToken.None);
        }

        // One's commit began Two's transaction. Three comes instead (COMPLETED already): Two's transaction is rolled back.
        Assert.Equal(1, await db.CountAsync(OursInTransaction));
        await db.ExecuteAsync($"UPDATE {db.StatusTable} SET status = 'COMPLETED' WHERE migration_order = 3");
        Assert.Null(await manager.BeginMigrationAsync(run[2], CancellationToken.None));
        Assert.Equal(0, await db.CountAsync(OursInTransaction));

        await using (var two = await manager.BeginMigrationAsync(run[1], CancellationToken.None))
        {
            await two!.CompleteAsync(CancellationToken.None);
        }

        // The runner left the list's order: the look-ahead stops for this run.
        Assert.Equal(0, await db.CountAsync(OursInTransaction));

        // The next run's list: Four's commit begins Five's transaction; the run ends instead: released, nothing stays open.
        MigrationDescriptor[] next = [new(4, "Four", true, MigrationStatus.Pending), new(5, "Five", true, MigrationStatus.Pending)];
        await manager.PersistPendingAsync(next, CancellationToken.None);
        await using (var four = await manager.BeginMigrationAsync(next[0], CancellationToken.None))
        {
            await four!.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(1, await db.CountAsync(OursInTransaction));
        await manager.ReleaseMigrationLockAsync(CancellationToken.None);
        Assert.Equal(0, await db.CountAsync(OursInTransaction));
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED", [4] = "COMPLETED", [5] = "PENDING" }, await db.StatusesAsync());
        await ((IAsyncDisposable)manager).DisposeAsync();
    }

    [DbFact]
    public async Task A_lease_taken_between_a_commit_and_the_next_migration_begun_with_it_is_caught_by_the_next_commit()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var manager = (ITransactionalMigrationManager)db.CreateManager();
        await manager.AcquireDbLockAsync(CancellationToken.None);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        await manager.ReleaseDbLockAsync(CancellationToken.None);
        await manager.AcquireMigrationLockAsync(CancellationToken.None);
        MigrationDescriptor[] run = [new(1, "One", true, MigrationStatus.Pending), new(2, "Two", true, MigrationStatus.Pending)];
        await manager.PersistPendingAsync(run, CancellationToken.None);
        await using (var one = await manager.BeginMigrationAsync(run[0], CancellationToken.None))
        {
            await one!.CompleteAsync(CancellationToken.None);
        }

        // One's commit extended the lease and read Two's checks; the lease is then taken by force (no runner takes a lease
        // before it expires). Two's statements run in the transaction begun for it, and its COMPLETED is refused.
        await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief', expires_at = now() + interval '1 hour'");
        await using (var two = await manager.BeginMigrationAsync(run[1], CancellationToken.None))
        {
            var connection = (NpgsqlConnection)((IServiceProvider)manager).GetService(typeof(NpgsqlConnection))!;
            await using (var insert = new NpgsqlCommand("INSERT INTO side_effect (migration_order, previous_status, pid) VALUES (2, 'PENDING', 0)", connection))
            {
                await insert.ExecuteNonQueryAsync();
            }

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => two!.CompleteAsync(CancellationToken.None));
            Assert.Contains("thief", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await db.SideEffectCountAsync(2));
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "PENDING" }, await db.StatusesAsync());
        await ((IAsyncDisposable)manager).DisposeAsync();
    }

    /// <summary>Records the text of every command and batch Npgsql executes (its Debug event "Executing …").</summary>
    private sealed class CommandRecorder : ILoggerFactory
    {
        public ConcurrentQueue<string> Executed { get; } = new();

        /// <summary>A data source whose commands this recorder records.</summary>
        public NpgsqlDataSource DataSource(string connectionString)
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.UseLoggerFactory(this);
            return builder.Build();
        }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => categoryName == "Npgsql.Command" ? new Recorder(Executed) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Recorder(ConcurrentQueue<string> executed) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var message = formatter(state, exception);
                if (message.StartsWith("Executing ", StringComparison.Ordinal))
                {
                    executed.Enqueue(message);
                }
            }
        }
    }
}
