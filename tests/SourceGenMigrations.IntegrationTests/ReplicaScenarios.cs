using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Replicas started together (8 and 32 runner processes): every runner process exits 0, each migration runs exactly once
/// and is <c>COMPLETED</c>, no lock of the manager is left on the server afterwards (asked of the server, each database
/// its way), the lease row is gone, and a further run finishes at once. Every observation is
/// collected before asserting, so one failure reports them all. In a collection of its own that runs after the
/// parallel ones: 32 processes at once take every core, and would starve the timing-sensitive tests (heartbeats
/// every 500 ms on a 3 s lease) running beside them.
/// </summary>
public abstract class ReplicaScenarios(ITestOutputHelper output)
{
    public const string Alone = "many runner processes at once, alone";

    private const int MigrationCount = 20;

    /// <summary>The further run's deadline: it must not wait for a lock, so it ends long before this.</summary>
    private static readonly TimeSpan FurtherRunDeadline = TimeSpan.FromSeconds(20);

    [DbFact]
    public Task Eight_runner_processes_started_together_leave_no_lock_and_a_further_run_finishes_at_once() => RunReplicasAsync(8);

    [DbFact]
    public Task Thirty_two_runner_processes_started_together_leave_no_lock_and_a_further_run_finishes_at_once() => RunReplicasAsync(32);

    protected abstract Task<DbTarget> CreateTargetAsync();

    /// <summary>The manager's locks left on the server after every runner exited, and who holds them (for the failure message).</summary>
    protected abstract Task<(long Count, string Holders)> LocksLeftAsync(DbTarget db);

    private async Task RunReplicasAsync(int replicas)
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();

        var clock = Stopwatch.StartNew();
        var processes = Enumerable.Range(0, replicas).Select(_ => ProcessScenarios.StartRunner(db, MigrationCount, leaseMs: 15_000)).ToList();
        var results = await Task.WhenAll(processes.Select(WaitOrTimeoutAsync));
        foreach (var process in processes)
        {
            process.Dispose();
        }

        var replicasElapsed = clock.Elapsed;
        var failures = results.Where(r => r.ExitCode != 0).ToList();
        var statuses = await db.StatusesAsync();
        var sideEffects = new Dictionary<long, long>();
        for (var order = 1L; order <= MigrationCount; order++)
        {
            sideEffects[order] = await db.SideEffectCountAsync(order);
        }

        var (locksLeft, lockHolders) = await LocksLeftAsync(db);
        var lease = await db.ReadLeaseAsync();
        var (furtherError, furtherElapsed) = await FurtherRunAsync(db);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{replicas} runner processes: {replicasElapsed.TotalSeconds:F1} s; further run: {furtherElapsed.TotalMilliseconds:F0} ms"));

        Assert.Multiple(
            () => Assert.True(failures.Count == 0, $"{failures.Count} of {replicas} runners exited non-zero; first errors: {string.Join(" ||| ", failures.Take(3).Select(f => $"exit {f.ExitCode}: {FirstLines(f.Errors)}"))}"),
            () => Assert.Equal(MigrationCount, statuses.Count),
            () => Assert.All(statuses.Values, s => Assert.Equal("COMPLETED", s)),
            () => Assert.All(sideEffects, e => Assert.True(e.Value == 1, $"migration {e.Key} ran {e.Value} times")),
            () => Assert.True(locksLeft == 0, $"{locksLeft} lock(s) left on the server after every runner exited: {lockHolders}"),
            () => Assert.Empty(lease),
            () => Assert.True(furtherError is null, $"a further run failed after {furtherElapsed.TotalSeconds:F1} s: {furtherError}"));
    }

    // In process: the runner program has a fixed 120 s deadline and no knob for it.
    private static async Task<(string? Error, TimeSpan Elapsed)> FurtherRunAsync(DbTarget db)
    {
        var registrations = Enumerable.Range(1, MigrationCount).Select(o => new MigrationRegistration(o, DbTarget.InsertSideEffectAsync)).ToList();
        var options = new MigrationOptions
        {
            ConfigProvider = () => new MigrationConfig { DeadlineMilliseconds = (int)FurtherRunDeadline.TotalMilliseconds, UnlockDeadlineMilliseconds = 5_000 },
        };
        var manager = db.CreateManager();
        var clock = Stopwatch.StartNew();
        try
        {
            await MigrationRunner.RunAsync(manager, registrations, options).WaitAsync(FurtherRunDeadline + TimeSpan.FromSeconds(10));
            return (null, clock.Elapsed);
        }
        catch (Exception e) when (e is MigrationException or OperationCanceledException or TimeoutException)
        {
            return (e.ToString(), clock.Elapsed);
        }
        finally
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }
    }

    private static string FirstLines(string text) => string.Join(" / ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(4));

    // A runner that hangs is killed by ProcessScenarios.WaitAsync after its patience; it is counted as a failure here
    // so that the other observations (locks left, the further run) are still reported.
    private static async Task<(int ExitCode, string Errors)> WaitOrTimeoutAsync(Process process)
    {
        try
        {
            return await ProcessScenarios.WaitAsync(process);
        }
        catch (TimeoutException e)
        {
            return (-1, e.Message);
        }
    }
}

[CollectionDefinition(ReplicaScenarios.Alone, DisableParallelization = true)]
public sealed class ReplicaScenariosRunAlone;
