using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Real runner processes (tests/SourceGenMigrations.IntegrationTests.Runner, started with <c>dotnet &lt;dll&gt;</c>):
/// eight at once on one database, and runners killed with SIGKILL (mid-migration, right after a migration's effect, at
/// random moments) and taken over by the next: every transactional migration takes effect exactly once.
/// </summary>
public abstract class ProcessScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    protected abstract Task<DbTarget> CreateTargetAsync();

    internal static string RunnerPath()
    {
        var path = Environment.GetEnvironmentVariable("SGM_RUNNER_PATH")
            ?? typeof(ProcessScenarios).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RunnerPath").Value!;
        Assert.True(File.Exists(path), "runner program not built: " + path);
        return path;
    }

    internal static string NewMarkerPath() => Path.Combine(Path.GetTempPath(), "sgm-marker-" + Guid.NewGuid().ToString("N"));

    internal static Process StartRunner(DbTarget db, int count, int leaseMs, long? blockOrder = null, string? marker = null, params string[] flags)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(RunnerPath());
        start.ArgumentList.Add(db.Kind);
        start.ArgumentList.Add(db.ConnectionString);
        start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(leaseMs.ToString(CultureInfo.InvariantCulture));
        if (blockOrder is { } order)
        {
            start.ArgumentList.Add(order.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(marker!);
        }

        foreach (var flag in flags)
        {
            start.ArgumentList.Add(flag);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the runner");
    }

    internal static async Task<(int ExitCode, string Errors)> WaitAsync(Process process)
    {
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("a runner process did not finish: " + await stderr);
        }

        await stdout;
        return (process.ExitCode, await stderr);
    }

    [DbFact]
    public async Task Eight_runner_processes_at_once_run_each_migration_exactly_once()
    {
        const int count = 20;
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();

        var processes = Enumerable.Range(0, 8).Select(_ => StartRunner(db, count, leaseMs: 15000)).ToList();
        var results = await Task.WhenAll(processes.Select(WaitAsync));
        foreach (var p in processes)
        {
            p.Dispose();
        }

        Assert.All(results, r => Assert.True(r.ExitCode == 0, "a runner failed: " + r.Errors));
        var statuses = await db.StatusesAsync();
        Assert.Equal(count, statuses.Count);
        Assert.All(statuses.Values, s => Assert.Equal("COMPLETED", s));
        for (var order = 1; order <= count; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task Runner_killed_in_a_non_transactional_migration_is_taken_over_after_its_lease_expires_and_the_started_migration_runs_again()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var marker = NewMarkerPath();

        using var victim = StartRunner(db, count: 5, leaseMs: 2000, blockOrder: 3, marker: marker, "--non-transactional");
        await KillWhenMarkedAsync(victim, marker);

        Assert.Equal("STARTED", (await db.StatusesAsync())[3]);
        Assert.Single(await db.ReadLeaseAsync());

        using var successor = StartRunner(db, count: 5, leaseMs: 2000, flags: "--non-transactional");
        var result = await WaitAsync(successor);

        Assert.True(result.ExitCode == 0, "the successor failed: " + result.Errors);
        await AssertAllCompletedOnceAsync(db, 5);
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 3 AND previous_status = 'STARTED'"));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task Runner_killed_after_a_transactional_migration_wrote_its_effect_leaves_no_trace_and_the_successor_applies_it_exactly_once()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var marker = NewMarkerPath();

        // Migration 3 has inserted its row (inside its transaction) when the marker appears; then the process dies.
        using var victim = StartRunner(db, count: 5, leaseMs: 2000, blockOrder: 3, marker: marker, "--after-effect");
        await KillWhenMarkedAsync(victim, marker);

        // The crash rolled back its effect and its STARTED together; 1 and 2 committed with their COMPLETED.
        Assert.Equal("PENDING", (await db.StatusesAsync())[3]);
        Assert.Equal(0, await db.SideEffectCountAsync(3));
        Assert.Equal(1, await db.SideEffectCountAsync(2));
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[2]);

        using var successor = StartRunner(db, count: 5, leaseMs: 2000);
        var result = await WaitAsync(successor);

        Assert.True(result.ExitCode == 0, "the successor failed: " + result.Errors);
        await AssertAllCompletedOnceAsync(db, 5);
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 3 AND previous_status = 'PENDING'"));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task Runners_killed_at_random_moments_leave_every_transactional_migration_applied_exactly_once()
    {
        const int count = 40;
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var random = new Random(20261203);

        for (var kill = 0; kill < 5; kill++)
        {
            // Each migration waits 15 ms before its insert, so a kill lands before, inside or after a migration's
            // statements, during a commit, or while the lease is being taken.
            using var victim = StartRunner(db, count, leaseMs: 700, flags: "--migration-ms=15");
            await Task.Delay(random.Next(150, 900));
            victim.Kill();
            await victim.WaitForExitAsync();
        }

        using var successor = StartRunner(db, count, leaseMs: 700);
        var result = await WaitAsync(successor);

        Assert.True(result.ExitCode == 0, "the successor failed: " + result.Errors);
        await AssertAllCompletedOnceAsync(db, count);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE previous_status = 'STARTED'"));
    }

    private static async Task KillWhenMarkedAsync(Process victim, string marker)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!File.Exists(marker))
        {
            Assert.False(victim.HasExited, "the runner exited before the blocked migration started: " + (victim.HasExited ? await victim.StandardError.ReadToEndAsync() : ""));
            Assert.True(DateTime.UtcNow < deadline, "the blocked migration never started");
            await Task.Delay(50);
        }

        victim.Kill(); // SIGKILL: no finally block, no rollback by the process, no lease release
        await victim.WaitForExitAsync();
        File.Delete(marker);
    }

    private static async Task AssertAllCompletedOnceAsync(DbTarget db, int count)
    {
        var statuses = await db.StatusesAsync();
        Assert.Equal(count, statuses.Count);
        Assert.All(statuses.Values, s => Assert.Equal("COMPLETED", s));
        for (var order = 1; order <= count; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }
    }
}

public sealed class SqliteProcessTests : ProcessScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());

    [Fact]
    public async Task Two_transactional_migrations_each_three_leases_long_complete_while_a_second_process_waits_and_runs_none_of_them()
    {
        await using var db = new SqliteTarget();
        await db.CreateSideEffectTableAsync();

        // Lease 1 s; each migration takes 3 s inside its transaction, which holds SQLite's write lock throughout.
        using var first = StartRunner(db, count: 2, leaseMs: 1_000, flags: "--migration-ms=3000");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await db.CountAsync("SELECT COUNT(*) FROM sqlite_master WHERE name = 'migration_lock'") == 0 || (await db.ReadLeaseAsync()).Count == 0)
        {
            Assert.False(first.HasExited, "the first runner exited early: " + (first.HasExited ? await first.StandardError.ReadToEndAsync() : ""));
            Assert.True(DateTime.UtcNow < deadline, "the first runner never took the lease");
            await Task.Delay(20);
        }

        using var second = StartRunner(db, count: 2, leaseMs: 1_000);
        var results = await Task.WhenAll(WaitAsync(first), WaitAsync(second));

        Assert.True(results[0].ExitCode == 0, "the first runner failed: " + results[0].Errors);
        Assert.True(results[1].ExitCode == 0, "the waiting runner failed: " + results[1].Errors);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(2, await db.CountAsync($"SELECT COUNT(*) FROM side_effect WHERE pid = {first.Id}"));
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM side_effect WHERE pid = {second.Id}"));
        Assert.Empty(await db.ReadLeaseAsync());
    }
}

public sealed class PostgreSqlProcessTests : ProcessScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();
}
