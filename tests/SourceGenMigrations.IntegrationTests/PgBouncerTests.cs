using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Every runner process scenario (eight at once, runners killed with SIGKILL) with the runners connected through PgBouncer.</summary>
public sealed class PgBouncerProcessTests : ProcessScenarios, IPgBouncerTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PgBouncerTarget.CreateAsync();
}

/// <summary>Every manager scenario with the manager connected through PgBouncer (assertions straight to the server).</summary>
public sealed class PgBouncerManagerTests : ManagerScenarios, IPgBouncerTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PgBouncerTarget.CreateAsync();
}

/// <summary>
/// Replicas started together through PgBouncer in transaction pooling mode (issue 13): every runner process exits 0,
/// each migration runs exactly once and is <c>COMPLETED</c>, no advisory lock is left on any server connection
/// afterwards (asked of the server), and a further run through PgBouncer finishes at once. Every observation is
/// collected before asserting, so one failure reports them all. In a collection of its own that runs after the
/// parallel ones: 32 processes at once take every core, and would starve the timing-sensitive tests (heartbeats
/// every 500 ms on a 3 s lease) running beside them.
/// </summary>
[Collection(PgBouncerConcurrencyTests.Alone)]
public sealed class PgBouncerConcurrencyTests(ITestOutputHelper output)
{
    public const string Alone = "runner processes through PgBouncer, alone";

    private const int MigrationCount = 20;

    /// <summary>The further run's deadline: it must not wait for a lock, so it ends long before this.</summary>
    private static readonly TimeSpan FurtherRunDeadline = TimeSpan.FromSeconds(20);

    [PgBouncerFact]
    public Task Eight_runner_processes_started_together_through_PgBouncer_leave_no_lock_and_a_further_run_finishes_at_once() => RunReplicasAsync(8);

    [PgBouncerFact]
    public Task Thirty_two_runner_processes_started_together_through_PgBouncer_leave_no_lock_and_a_further_run_finishes_at_once() => RunReplicasAsync(32);

    private async Task RunReplicasAsync(int replicas)
    {
        await using var db = await PgBouncerTarget.CreateAsync();
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

        var advisoryLocks = await db.AdvisoryLockCountAsync();
        var advisoryLockHolders = await db.DescribeAdvisoryLocksAsync();
        var lease = await db.ReadLeaseAsync();
        var (furtherError, furtherElapsed) = await FurtherRunAsync(db);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{replicas} runner processes: {replicasElapsed.TotalSeconds:F1} s; further run: {furtherElapsed.TotalMilliseconds:F0} ms"));

        Assert.Multiple(
            () => Assert.True(failures.Count == 0, $"{failures.Count} of {replicas} runners exited non-zero; first errors: {string.Join(" ||| ", failures.Take(3).Select(f => $"exit {f.ExitCode}: {FirstLines(f.Errors)}"))}"),
            () => Assert.Equal(MigrationCount, statuses.Count),
            () => Assert.All(statuses.Values, s => Assert.Equal("COMPLETED", s)),
            () => Assert.All(sideEffects, e => Assert.True(e.Value == 1, $"migration {e.Key} ran {e.Value} times")),
            () => Assert.True(advisoryLocks == 0, $"{advisoryLocks} advisory lock(s) left on the server after every runner exited: {advisoryLockHolders}"),
            () => Assert.Empty(lease),
            () => Assert.True(furtherError is null, $"a further run through PgBouncer failed after {furtherElapsed.TotalSeconds:F1} s: {furtherError}"));
    }

    // In process: the runner program has a fixed 120 s deadline and no knob for it.
    private static async Task<(string? Error, TimeSpan Elapsed)> FurtherRunAsync(PgBouncerTarget db)
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

[CollectionDefinition(PgBouncerConcurrencyTests.Alone, DisableParallelization = true)]
public sealed class PgBouncerConcurrencyRunsAlone;
