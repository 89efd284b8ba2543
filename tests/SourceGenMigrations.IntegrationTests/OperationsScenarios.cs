using Microsoft.Data.Sqlite;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// IMigrationOperations on both databases: statuses and lease read without creating a database, schema or table; who
/// applied each migration (owner and build); the lease read by the database's clock and released by force, only while
/// an expected holder holds it; a live lease released by force fences its holder.
/// </summary>
public abstract class OperationsScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected abstract Task<DbTarget> CreateTargetAsync();

    /// <summary>Asserts that nothing exists yet: no database file (SQLite), no table and no schema (PostgreSQL).</summary>
    protected abstract Task AssertNothingCreatedAsync(DbTarget db);

    /// <summary>Creates the two tables exactly as release 0.1.0 did, with migrations 1 to 3 COMPLETED.</summary>
    protected abstract Task CreateFirstReleaseTablesAsync(DbTarget db);

    private static MigrationOptions Options(string? buildVersion = null) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 10_000, DeadlineMilliseconds = 60_000 },
        BuildVersion = buildVersion,
    };

    private static MigrationRegistration[] Migrations(int count) =>
        Enumerable.Range(1, count).Select(order => new MigrationRegistration(order, (_, _) => Task.CompletedTask, name: "Shop.Migrations.M" + order)).ToArray();

    private static IMigrationOperations Operations(IMigrationManager manager) => Assert.IsAssignableFrom<IMigrationOperations>(manager);

    [DbFact]
    public async Task A_plan_on_a_database_that_was_never_migrated_says_everything_would_run_and_creates_nothing()
    {
        await using var db = await CreateTargetAsync();
        var manager = db.CreateManager();
        await using (manager as IAsyncDisposable)
        {
            var plan = await MigrationRunner.PlanAsync(manager, Migrations(3), Options()).WaitAsync(Patience);

            Assert.Equal(3, plan.RunCount);
            Assert.All(plan.Entries, static e => Assert.Null(e.PersistedStatus));
            Assert.Empty(await Operations(manager).ReadStatusesAsync(default));
            Assert.Null(await Operations(manager).ReadLeaseAsync(default));
            Assert.Null(await Operations(manager).ForceReleaseLeaseAsync(null, default));
        }

        await AssertNothingCreatedAsync(db);
    }

    [DbFact]
    public async Task The_statuses_say_which_runner_and_which_build_applied_each_migration_and_when()
    {
        await using var db = await CreateTargetAsync();
        var manager = db.CreateManager(new ManagerSettings(OwnerId: "job-7/42/abc"));
        await using (manager as IAsyncDisposable)
        {
            var before = DateTimeOffset.UtcNow.AddSeconds(-5);
            await MigrationRunner.RunAsync(manager, Migrations(2), Options("Shop 2.0.0+3f2a1c9")).WaitAsync(Patience);

            var statuses = await Operations(manager).ReadStatusesAsync(default);
            Assert.Equal([1L, 2L], statuses.Select(static s => s.Order));
            Assert.All(statuses, status =>
            {
                Assert.Equal(MigrationStatus.Completed, status.Status);
                Assert.Equal("job-7/42/abc (Shop 2.0.0+3f2a1c9)", status.AppliedBy);
                Assert.InRange(status.UpdatedAt!.Value, before, DateTimeOffset.UtcNow.AddSeconds(5));
            });
            Assert.Equal("Shop.Migrations.M2", statuses[1].Name);

            var plan = await MigrationRunner.PlanAsync(manager, Migrations(2), Options()).WaitAsync(Patience);
            Assert.True(plan.IsUpToDate);
            Assert.Equal("job-7/42/abc (Shop 2.0.0+3f2a1c9)", plan.Entries[0].AppliedBy);
            Assert.Contains("job-7/42/abc (Shop 2.0.0+3f2a1c9)", plan.ToString(), StringComparison.Ordinal);
        }
    }

    [DbFact]
    public async Task A_status_table_of_release_0_1_0_is_read_as_it_is_and_not_upgraded_by_reading()
    {
        await using var db = await CreateTargetAsync();
        await CreateFirstReleaseTablesAsync(db);
        var manager = db.CreateManager();
        await using (manager as IAsyncDisposable)
        {
            var statuses = await Operations(manager).ReadStatusesAsync(default);
            var plan = await MigrationRunner.PlanAsync(manager, Migrations(4), Options()).WaitAsync(Patience);

            Assert.Equal([1L, 2L, 3L], statuses.Select(static s => s.Order));
            Assert.All(statuses, static s => Assert.True(s.Status == MigrationStatus.Completed && s.Name is null && s.AppliedBy is null && s.UpdatedAt is not null && !s.BreaksOlderBuilds));
            Assert.Equal(1, plan.RunCount);
        }

        Assert.Equal(3, await db.CountAsync(StatusColumnCountSql));
    }

    /// <summary>How many columns the status table has.</summary>
    protected abstract string StatusColumnCountSql { get; }

    [DbFact]
    public async Task The_lease_is_read_with_its_holder_and_expiry_by_the_database_clock_and_released_only_while_the_expected_holder_holds_it()
    {
        await using var db = await CreateTargetAsync();
        var holder = db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromSeconds(1), OwnerId: "job-7/42/abc"));
        var operatorManager = db.CreateManager(new ManagerSettings(OwnerId: "operator"));
        await using (holder as IAsyncDisposable)
        await using (operatorManager as IAsyncDisposable)
        {
            await holder.AcquireDbLockAsync(default);
            await holder.EnsureDataStoresAsync(default);
            await holder.ReleaseDbLockAsync(default);
            await holder.AcquireMigrationLockAsync(default);
            var operations = Operations(operatorManager);

            var live = await operations.ReadLeaseAsync(default);
            Assert.NotNull(live);
            Assert.Equal("job-7/42/abc", live.OwnerId);
            Assert.False(live.IsExpired);
            Assert.InRange((live.ExpiresAt - live.AcquiredAt).TotalMilliseconds, 900, 1_100);
            Assert.Equal(TimeSpan.FromSeconds(1), Operations(holder).LeaseDuration);

            await Task.Delay(1_300);
            var expired = await operations.ReadLeaseAsync(default);
            Assert.True(expired!.IsExpired);
            Assert.Contains("expired", expired.ToString(), StringComparison.Ordinal);

            Assert.Null(await operations.ForceReleaseLeaseAsync("someone-else", default));
            Assert.Single(await db.ReadLeaseAsync());
            var released = await operations.ForceReleaseLeaseAsync("job-7/42/abc", default);
            Assert.Equal("job-7/42/abc", released?.OwnerId);
            Assert.Empty(await db.ReadLeaseAsync());
            Assert.Null(await operations.ReadLeaseAsync(default));

            // The holder finds its lease gone.
            var lost = await Assert.ThrowsAsync<InvalidOperationException>(() => holder.MigrationLockHeartbeatAsync(default));
            Assert.Contains("was lost", lost.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Runs a transactional migration that waits inside its transaction, forces the lease away meanwhile, and lets it finish.</summary>
    protected static async Task<(MigrationException RunError, Exception? ReleaseError)> ForceReleaseDuringATransactionalMigrationAsync(DbTarget db)
    {
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var proceed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await db.CreateSideEffectTableAsync();
        var holder = db.CreateManager(new ManagerSettings(Lease: TimeSpan.FromSeconds(30), OwnerId: "holder"));
        var operatorManager = db.CreateManager(new ManagerSettings(OwnerId: "operator"));
        await using (holder as IAsyncDisposable)
        await using (operatorManager as IAsyncDisposable)
        {
            var run = MigrationRunner.RunAsync(holder, [new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                inside.SetResult();
                await proceed.Task.WaitAsync(ct);
            }, name: "Shop.Migrations.M1")], Options());
            await inside.Task.WaitAsync(Patience);

            Exception? releaseError = null;
            try
            {
                Assert.Equal("holder", (await Operations(operatorManager).ForceReleaseLeaseAsync("holder", default))?.OwnerId);
            }
            catch (InvalidOperationException e)
            {
                releaseError = e;
            }

            proceed.SetResult();
            try
            {
                await run.WaitAsync(Patience);
                return (null!, releaseError);
            }
            catch (MigrationException e)
            {
                return (e, releaseError);
            }
        }
    }
}

public sealed class SqliteOperationsTests : OperationsScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());

    protected override string StatusColumnCountSql => "SELECT COUNT(*) FROM pragma_table_info('migration_status')";

    protected override Task AssertNothingCreatedAsync(DbTarget db)
    {
        var file = new SqliteConnectionStringBuilder(db.ConnectionString).DataSource;
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!));
        return Task.CompletedTask;
    }

    protected override Task CreateFirstReleaseTablesAsync(DbTarget db)
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sqlite-written-by-0.1.0.db"), new SqliteConnectionStringBuilder(db.ConnectionString).DataSource);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_plan_on_a_file_that_does_not_exist_through_the_generated_path_leaves_no_file_no_journal_no_wal()
    {
        await using var db = new SqliteTarget();
        await using (var manager = new SqliteMigrationManager(db.ConnectionString, new SqliteMigrationManagerOptions { UseWriteAheadLog = true }))
        {
            var plan = await MigrationRunner.PlanAsync(manager, [new MigrationRegistration(1, (_, _) => Task.CompletedTask)], new MigrationOptions { ConfigProvider = () => new MigrationConfig() });
            Assert.Equal(1, plan.RunCount);
        }

        SqliteConnection.ClearAllPools();
        await AssertNothingCreatedAsync(db);
    }

    [Fact]
    public async Task A_database_file_that_cannot_be_written_is_read_read_only()
    {
        await using var db = new SqliteTarget();
        await using (var manager = (SqliteMigrationManager)db.CreateManager())
        {
            await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, (_, _) => Task.CompletedTask)], new MigrationOptions { ConfigProvider = () => new MigrationConfig() });
        }

        SqliteConnection.ClearAllPools();
        var file = new SqliteConnectionStringBuilder(db.ConnectionString).DataSource;
        await using (var readOnly = new SqliteMigrationManager(db.ConnectionString + ";Mode=ReadOnly"))
        {
            var statuses = await readOnly.ReadStatusesAsync(default);
            Assert.Equal(MigrationStatus.Completed, Assert.Single(statuses).Status);
        }

        Assert.True(File.Exists(file));
    }

    [Fact]
    public async Task A_live_lease_cannot_be_forced_away_while_its_holders_migration_holds_the_write_lock()
    {
        await using var db = new SqliteTarget();

        var (runError, releaseError) = await ForceReleaseDuringATransactionalMigrationAsync(db);

        // SQLite: the holder's transaction holds the database's write lock; nobody can write the lease row meanwhile.
        var busy = Assert.IsType<InvalidOperationException>(releaseError);
        Assert.Contains("stayed busy", busy.Message, StringComparison.Ordinal);
        Assert.Null(runError);
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[1]);
    }
}

public sealed class PostgreSqlOperationsTests : OperationsScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();

    protected override string StatusColumnCountSql => "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'migration_status'";

    protected override async Task AssertNothingCreatedAsync(DbTarget db) =>
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"));

    protected override Task CreateFirstReleaseTablesAsync(DbTarget db) => db.ExecuteAsync(
        """
        CREATE TABLE "public"."migration_lock" (lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1), owner_id text NOT NULL, acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
        CREATE TABLE "public"."migration_status" (migration_order bigint NOT NULL PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL);
        INSERT INTO "public"."migration_status" VALUES (1, 'COMPLETED', now()), (2, 'COMPLETED', now()), (3, 'COMPLETED', now());
        """);

    [DbFact]
    public async Task A_plan_in_a_schema_that_does_not_exist_creates_no_schema()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await using (var manager = new PostgreSqlMigrationManager(db.ConnectionString, new PostgreSqlMigrationManagerOptions { Schema = "deploy" }))
        {
            var plan = await MigrationRunner.PlanAsync(manager, [new MigrationRegistration(1, (_, _) => Task.CompletedTask)], new MigrationOptions { ConfigProvider = () => new MigrationConfig() });
            Assert.Equal(1, plan.RunCount);
            Assert.Null(await manager.ReadLeaseAsync(default));
        }

        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM pg_catalog.pg_namespace WHERE nspname = 'deploy'"));
    }

    [DbFact]
    public async Task A_live_lease_forced_away_during_a_transactional_migration_fences_its_holder_whose_work_is_rolled_back()
    {
        await using var db = await PostgresTarget.CreateAsync();

        var (runError, releaseError) = await ForceReleaseDuringATransactionalMigrationAsync(db);

        Assert.Null(releaseError);
        // Its commit is fenced (COMPLETED needs the lease), and so is its FAILED.
        Assert.StartsWith("failed to complete the migration with order 1", runError.Message, StringComparison.Ordinal);
        Assert.Contains("was lost", ManagerScenarios.FullText(runError), StringComparison.Ordinal);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.NotEqual("COMPLETED", (await db.StatusesAsync()).GetValueOrDefault(1));
    }
}
