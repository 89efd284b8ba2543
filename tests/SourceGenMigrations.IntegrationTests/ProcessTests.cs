using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Real runner processes (tests/SourceGenMigrations.IntegrationTests.Runner, started with <c>dotnet &lt;dll&gt;</c>):
/// eight at once on one database, and one killed with SIGKILL mid-migration and taken over by the next.
/// </summary>
public abstract class ProcessScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    protected abstract Task<DbTarget> CreateTargetAsync();

    private static string RunnerPath()
    {
        var path = Environment.GetEnvironmentVariable("SGM_RUNNER_PATH")
            ?? typeof(ProcessScenarios).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RunnerPath").Value!;
        Assert.True(File.Exists(path), "runner program not built: " + path);
        return path;
    }

    private static Process StartRunner(DbTarget db, int count, int leaseMs, long? blockOrder = null, string? marker = null)
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

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the runner");
    }

    private static async Task<(int ExitCode, string Errors)> WaitAsync(Process process)
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
    public async Task Runner_killed_mid_migration_is_taken_over_after_its_lease_expires_and_the_started_migration_runs_again()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var marker = Path.Combine(Path.GetTempPath(), "sgm-marker-" + Guid.NewGuid().ToString("N"));

        using var victim = StartRunner(db, count: 5, leaseMs: 2000, blockOrder: 3, marker: marker);
        var deadline = DateTime.UtcNow + Patience;
        while (!File.Exists(marker))
        {
            Assert.False(victim.HasExited, "the runner exited before migration 3 started: " + (victim.HasExited ? await victim.StandardError.ReadToEndAsync() : ""));
            Assert.True(DateTime.UtcNow < deadline, "migration 3 never started");
            await Task.Delay(50);
        }

        victim.Kill(); // SIGKILL: no finally block, no lease release
        await victim.WaitForExitAsync();
        File.Delete(marker);

        Assert.Equal("STARTED", (await db.StatusesAsync())[3]);
        Assert.Single(await db.ReadLeaseAsync());

        using var successor = StartRunner(db, count: 5, leaseMs: 2000);
        var result = await WaitAsync(successor);

        Assert.True(result.ExitCode == 0, "the successor failed: " + result.Errors);
        Assert.All((await db.StatusesAsync()).Values, s => Assert.Equal("COMPLETED", s));
        Assert.Equal(5, (await db.StatusesAsync()).Count);
        for (var order = 1; order <= 5; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 3 AND previous_status = 'STARTED'"));
        Assert.Empty(await db.ReadLeaseAsync());
    }
}

public sealed class SqliteProcessTests : ProcessScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());
}

public sealed class PostgreSqlProcessTests : ProcessScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();
}
