using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Deployments as they happen, with real processes of two builds of one service (tests/SourceGenMigrations.DeploymentService:
/// Shop 1.0.0 with migrations 1-5, Shop 2.0.0 with 1-7, Shop 2.1.0 with 7 marked BreaksOlderBuilds) on one database: a
/// rollback to the older build, a migrating Job beside a waiting replica, a failed Job, the operator's unlock, SIGTERM.
/// </summary>
public abstract class DeploymentScenarios
{
    protected abstract Task<DbTarget> CreateTargetAsync();

    private static async Task<IReadOnlyList<PersistedStatus>> ReadStatusesAsync(DbTarget db)
    {
        var manager = db.CreateManager();
        await using (manager as IAsyncDisposable)
        {
            return await ((IMigrationOperations)manager).ReadStatusesAsync(default);
        }
    }

    private static async Task<MigrationLease?> ReadLeaseAsync(DbTarget db)
    {
        var manager = db.CreateManager();
        await using (manager as IAsyncDisposable)
        {
            return await ((IMigrationOperations)manager).ReadLeaseAsync(default);
        }
    }

    private static async Task MigrateWithAsync(string build, DbTarget db)
    {
        var result = await ShopProcess.Start(build, db, ["migrate"]).WaitAsync();
        Assert.True(result.Code == 0, $"{build} migrate failed: {result.Err}");
    }

    [DbFact]
    public async Task An_older_build_after_a_newer_one_fails_naming_6_and_7_unless_newer_migrations_are_allowed_and_then_runs_nothing()
    {
        await using var db = await CreateTargetAsync();

        // The status command of the newer build on a database never migrated: reads only.
        var status = await ShopProcess.Start(ShopProcess.V2, db, ["status"]).WaitAsync();
        Assert.Equal(0, status.Code);
        Assert.Contains("7 migration(s) to run, from order 1 to 7", status.Out, StringComparison.Ordinal);
        await AssertNothingCreatedAsync(db);

        await MigrateWithAsync(ShopProcess.V2, db);
        var migrated = await ReadStatusesAsync(db);
        Assert.Equal(7, migrated.Count);
        Assert.All(migrated, static s => Assert.Contains("(Shop 2.0.0", s.AppliedBy, StringComparison.Ordinal));

        // The rollback: Shop 1.0.0 starts again, as it did before.
        var refused = await ShopProcess.Start(ShopProcess.V1, db, []).WaitAsync();
        Assert.Equal(1, refused.Code);
        Assert.Contains("error: found persisted migration(s) that are not in the registry: 6, 7", refused.Err, StringComparison.Ordinal);
        Assert.Contains("MIGRATION_ALLOW_NEWER_MIGRATIONS=true", refused.Err, StringComparison.Ordinal);

        var allowed = await ShopProcess.Start(ShopProcess.V1, db, [], new() { ["MIGRATION_ALLOW_NEWER_MIGRATIONS"] = "true" }).WaitAsync();
        Assert.True(allowed.Code == 0, allowed.Err);
        Assert.Contains("The database has migration(s) 6, 7 applied by a newer build (this build knows orders up to 5)", allowed.Out, StringComparison.Ordinal);
        Assert.Contains("readiness: Healthy", allowed.Out, StringComparison.Ordinal);
        Assert.Equal(migrated, await ReadStatusesAsync(db));

        var olderStatus = await ShopProcess.Start(ShopProcess.V1, db, ["status"], new() { ["MIGRATION_ALLOW_NEWER_MIGRATIONS"] = "true" }).WaitAsync();
        Assert.Equal(0, olderStatus.Code);
        Assert.Matches(@"(?m)^    7  COMPLETED  newer           Shop\.Migrations\.CreateLegacyArchive", olderStatus.Out);
        Assert.Contains("tolerated: migration(s) 6, 7 applied by a newer build", olderStatus.Out, StringComparison.Ordinal);
    }

    [DbFact]
    public async Task An_older_build_refuses_a_database_where_a_migration_that_breaks_older_builds_took_effect_even_when_newer_ones_are_allowed()
    {
        await using var db = await CreateTargetAsync();
        await MigrateWithAsync(ShopProcess.V2Breaking, db);

        var refused = await ShopProcess.Start(ShopProcess.V1, db, [], new() { ["MIGRATION_ALLOW_NEWER_MIGRATIONS"] = "true" }).WaitAsync();

        Assert.Equal(1, refused.Code);
        Assert.Contains("error: found persisted migration(s) that break older builds: 7 (Shop.Migrations.CreateLegacyArchive)", refused.Err, StringComparison.Ordinal);
        Assert.Equal(7, (await ReadStatusesAsync(db)).Count);
    }

    [DbFact]
    public async Task A_replica_in_Verify_mode_starts_only_on_an_up_to_date_database()
    {
        await using var db = await CreateTargetAsync();
        var verify = new Dictionary<string, string> { ["Migration__Mode"] = "Verify" };

        var behind = await ShopProcess.Start(ShopProcess.V2, db, [], verify).WaitAsync();
        Assert.Equal(1, behind.Code);
        Assert.Contains("error: the database is not up to date with this build: Mode Verify starts only on a database that is up to date: 7 migration(s) to run, from order 1 to 7", behind.Err, StringComparison.Ordinal);
        await AssertNothingCreatedAsync(db);

        await MigrateWithAsync(ShopProcess.V2, db);
        var upToDate = await ShopProcess.Start(ShopProcess.V2, db, [], verify).WaitAsync();
        Assert.True(upToDate.Code == 0, upToDate.Err);
    }

    [DbFact]
    public async Task A_waiting_replica_started_with_the_Job_is_not_ready_while_the_Job_migrates_and_ready_only_after_it_finished()
    {
        await using var db = await CreateTargetAsync();
        using var waiter = ShopProcess.Start(ShopProcess.V2, db, [], new() { ["Migration__Mode"] = "WaitForCompletion" });
        using var job = ShopProcess.Start(ShopProcess.V2, db, ["migrate"], new() { ["SHOP_MIGRATION_DELAY_MS"] = "300" });

        var jobResult = await job.WaitAsync();
        var waiterResult = await waiter.WaitAsync();

        Assert.True(jobResult.Code == 0, "the Job failed: " + jobResult.Err);
        Assert.True(waiterResult.Code == 0, "the waiting replica failed: " + waiterResult.Err);
        var statuses = await ReadStatusesAsync(db);
        Assert.Equal(7, statuses.Count);
        Assert.All(statuses, status =>
        {
            Assert.Equal(MigrationStatus.Completed, status.Status);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"/{job.Id}/"), status.AppliedBy, StringComparison.Ordinal);
        });

        // Not ready while the Job ran its migrations; ready only once the last was completed.
        var notReady = waiter.FirstLineAt("readiness: Unhealthy");
        var ready = waiter.FirstLineAt("readiness: Healthy");
        Assert.NotNull(notReady);
        Assert.NotNull(ready);
        var last = statuses.Max(static s => s.UpdatedAt!.Value);
        Assert.True(notReady < last, $"the replica was never seen not ready while migrations ran ({notReady:O} vs the last completed at {last:O})");
        Assert.True(ready >= last.AddMilliseconds(-20), $"the replica was ready at {ready:O}, before the last migration completed at {last:O}");
        Assert.Contains("Waiting for another runner to complete the migrations", waiterResult.Out, StringComparison.Ordinal);
    }

    [DbFact]
    public async Task A_failed_Job_makes_the_waiting_replica_fail_once_the_migration_stayed_FAILED_for_a_lease_duration()
    {
        await using var db = await CreateTargetAsync();
        var lease = new Dictionary<string, string> { ["Shop__LeaseMilliseconds"] = "1000" };
        using var waiter = ShopProcess.Start(ShopProcess.V2, db, [], new(lease) { ["Migration__Mode"] = "WaitForCompletion" });
        using var job = ShopProcess.Start(ShopProcess.V2, db, ["migrate"], new(lease) { ["SHOP_FAIL_ORDER"] = "6" });

        var jobResult = await job.WaitAsync();
        var waiterResult = await waiter.WaitAsync();

        Assert.Equal(1, jobResult.Code);
        Assert.Contains("error: failed to complete the migration with order 6", jobResult.Err, StringComparison.Ordinal);
        Assert.Equal(1, waiterResult.Code);
        Assert.Contains("error: the migration with order 6 stayed FAILED", waiterResult.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("readiness: Healthy", waiterResult.Out, StringComparison.Ordinal);
    }

    [DbFact]
    public async Task Unlock_releases_an_expired_lease_and_a_live_one_only_with_force_after_which_the_next_Job_migrates_at_once()
    {
        await using var db = await CreateTargetAsync();

        // A Job killed (kill -9) inside its first migration leaves its lease row, live until it expires: long enough
        // (15 s) to outlast the two process starts below on a loaded machine, where 5 s did not.
        var dead = await KillAJobInItsFirstMigrationAsync(db, leaseMilliseconds: 15_000);
        var status = await ShopProcess.Start(ShopProcess.V2, db, ["status"]).WaitAsync();
        Assert.Contains("migration lease: held by " + dead.OwnerId, status.Out, StringComparison.Ordinal);
        var refused = await ShopProcess.Start(ShopProcess.V2, db, ["unlock"]).WaitAsync();
        Assert.Equal(1, refused.Code);
        Assert.Contains("error: the migration lease is live (held by " + dead.OwnerId, refused.Err, StringComparison.Ordinal);
        Assert.NotNull(await ReadLeaseAsync(db));

        var deadline = DateTime.UtcNow + ShopProcess.Patience;
        while (await ReadLeaseAsync(db) is { IsExpired: false })
        {
            Assert.True(DateTime.UtcNow < deadline, "the lease never expired");
            await Task.Delay(50);
        }

        var expired = await ShopProcess.Start(ShopProcess.V2, db, ["unlock"]).WaitAsync();
        Assert.True(expired.Code == 0, expired.Err);
        Assert.Contains("(expired ", expired.Out, StringComparison.Ordinal);
        Assert.Contains("released the expired migration lease of " + dead.OwnerId, expired.Out, StringComparison.Ordinal);
        Assert.Null(await ReadLeaseAsync(db));

        // A live lease of 30 s: released only with --force (logged), and then the next Job need not wait it out.
        var live = await KillAJobInItsFirstMigrationAsync(db, leaseMilliseconds: 30_000);
        var forced = await ShopProcess.Start(ShopProcess.V2, db, ["unlock", "--force"]).WaitAsync();
        Assert.True(forced.Code == 0, forced.Err);
        Assert.Contains($"released the live migration lease of {live.OwnerId} (--force)", forced.Out, StringComparison.Ordinal);
        Assert.Contains("released a live migration lease by force", forced.Out, StringComparison.Ordinal);
        Assert.Null(await ReadLeaseAsync(db));

        var started = Stopwatch.StartNew();
        await MigrateWithAsync(ShopProcess.V2, db);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(25), $"the next Job took {started.Elapsed}");
        Assert.Equal(7, (await ReadStatusesAsync(db)).Count(static s => s.Status == MigrationStatus.Completed));

        var nothing = await ShopProcess.Start(ShopProcess.V2, db, ["unlock"]).WaitAsync();
        Assert.Equal(0, nothing.Code);
        Assert.Contains("migration lease: none (nothing to release)", nothing.Out, StringComparison.Ordinal);
    }

    private static async Task<MigrationLease> KillAJobInItsFirstMigrationAsync(DbTarget db, int leaseMilliseconds)
    {
        using var victim = ShopProcess.Start(ShopProcess.V2, db, ["migrate"], new()
        {
            ["SHOP_MIGRATION_DELAY_MS"] = "60000",
            ["Shop__LeaseMilliseconds"] = leaseMilliseconds.ToString(CultureInfo.InvariantCulture),
        });
        await WaitForLeaseAsync(db, victim);
        victim.Kill();
        return (await ReadLeaseAsync(db))!;
    }

    [DbFact]
    public async Task SIGTERM_cancels_a_migrating_Job_which_releases_its_lease_and_exits_130()
    {
        await using var db = await CreateTargetAsync();
        using var job = ShopProcess.Start(ShopProcess.V2, db, ["migrate"], new() { ["SHOP_MIGRATION_DELAY_MS"] = "60000" });
        await WaitForLeaseAsync(db, job);

        job.Terminate();
        var result = await job.WaitAsync();

        Assert.Equal(MigrationExitCodes.Cancelled, result.Code);
        Assert.Contains("error: cancelled (SIGTERM)", result.Err, StringComparison.Ordinal);
        Assert.Null(await ReadLeaseAsync(db));
        Assert.DoesNotContain(await ReadStatusesAsync(db), static s => s.Status == MigrationStatus.Completed);
    }

    private static async Task WaitForLeaseAsync(DbTarget db, ShopProcess process)
    {
        var deadline = DateTime.UtcNow + ShopProcess.Patience;
        while (await ReadLeaseAsync(db) is null)
        {
            Assert.False(process.HasExited, "the Job exited before it took the lease: " + process.Errors);
            Assert.True(DateTime.UtcNow < deadline, "the Job never took the lease");
            await Task.Delay(20);
        }
    }

    protected abstract Task AssertNothingCreatedAsync(DbTarget db);
}

public sealed class SqliteDeploymentTests : DeploymentScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());

    protected override Task AssertNothingCreatedAsync(DbTarget db)
    {
        Assert.False(File.Exists(new SqliteConnectionStringBuilder(db.ConnectionString).DataSource), "the status command created the database file");
        return Task.CompletedTask;
    }
}

public sealed class PostgreSqlDeploymentTests : DeploymentScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();

    protected override async Task AssertNothingCreatedAsync(DbTarget db) =>
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"));
}

/// <summary>One process of the Shop service (a build of tests/SourceGenMigrations.DeploymentService) on a test database.</summary>
internal sealed class ShopProcess : IDisposable
{
    public const string V1 = "ShopV1Path";
    public const string V2 = "ShopV2Path";
    public const string V2Breaking = "ShopV2BreakingPath";

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly ConcurrentQueue<(DateTimeOffset At, string Line)> _out = new();
    private readonly ConcurrentQueue<string> _err = new();

    private ShopProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Errors => string.Join('\n', _err);

    /// <summary>Starts the build (<see cref="V1"/>, <see cref="V2"/>, <see cref="V2Breaking"/>) with <paramref name="args"/> on <paramref name="db"/>.</summary>
    public static ShopProcess Start(string build, DbTarget db, string[] args, Dictionary<string, string>? environment = null)
    {
        var path = typeof(ShopProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == build).Value!;
        Assert.True(File.Exists(path), "the service is not built: " + path);
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Only what the test sets: no MIGRATION_* or Migration__* from the machine.
        foreach (var key in start.Environment.Keys.Where(static k => k.StartsWith("MIGRATION", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Shop__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["Shop__Database"] = db.Kind;
        start.Environment["Shop__ConnectionString"] = db.ConnectionString;
        start.Environment["Shop__PollMilliseconds"] = "50";
        start.Environment["Shop__ExitWhenReady"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var shop = new ShopProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                shop._out.Enqueue((DateTimeOffset.UtcNow, line));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                shop._err.Enqueue(line);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return shop;
    }

    /// <summary>Waits for the process to exit (killing it after <see cref="Patience"/>).</summary>
    public async Task<(int Code, string Out, string Err)> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("the service did not exit: " + Errors + "\n" + string.Join('\n', _out.Select(static l => l.Line)));
        }

        // WaitForExitAsync returns once the redirected streams reached their end.
        return (_process.ExitCode, string.Join('\n', _out.Select(static l => l.Line)), Errors);
    }

    /// <summary>When the first line starting with <paramref name="prefix"/> was printed; null when none was.</summary>
    public DateTimeOffset? FirstLineAt(string prefix) =>
        _out.Where(l => l.Line.StartsWith(prefix, StringComparison.Ordinal)).Select(static l => (DateTimeOffset?)l.At).FirstOrDefault();

    /// <summary>SIGKILL: no finally block, no lease release.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
