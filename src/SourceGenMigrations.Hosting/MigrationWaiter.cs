using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SourceGenMigrations.Hosting;

/// <summary>
/// <see cref="MigrationHostingMode.WaitForCompletion"/>: reads the plan (read-only, no lease) every poll interval until
/// every enabled migration is completed, bounded by the deadline.
/// </summary>
/// <remarks>
/// A <c>FAILED</c> migration is transient while a Job retries it (its retry marks it <c>PENDING</c> again and holds the
/// lease). The wait fails only when a migration stays <c>FAILED</c> while nobody holds a live lease for the manager's
/// lease duration (<see cref="IMigrationOperations.LeaseDuration"/>: the time a dead runner's lease takes to expire, so a
/// retrying Job has had its chance), counted from the first poll that saw it so; any change of the statuses, or a live
/// lease, starts the count again. A plan error (an unknown or out-of-order migration) fails at once: waiting cannot fix it.
/// </remarks>
internal sealed class MigrationWaiter(
    IMigrationManager manager,
    IReadOnlyList<MigrationRegistration> registrations,
    MigrationConfig config,
    MigrationOptions runOptions,
    TimeSpan pollInterval,
    Action<string> onWaiting)
{
    private readonly TimeProvider _time = runOptions.TimeProvider ?? TimeProvider.System;
    private readonly ILogger _logger = runOptions.Logger ?? NullLogger.Instance;

    /// <exception cref="MigrationException">The plan has an error, a migration stayed FAILED, or the deadline expired.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the host stops).</exception>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        if (manager is not IMigrationOperations operations)
        {
            throw new MigrationException(
                "failed to wait for the migrations",
                new NotSupportedException($"Mode {nameof(MigrationHostingMode.WaitForCompletion)} reads the statuses and the lease without creating anything, which needs a manager that implements {nameof(IMigrationOperations)}; {manager.GetType().Name} does not."));
        }

        var started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(config.DeadlineMilliseconds), _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);

        // The first plan logs what a plan logs (a tolerated newer migration, a disabled one that ran); the polls after it do not repeat it.
        var quietOptions = new MigrationOptions
        {
            ConfigProvider = () => config,
            TimeProvider = runOptions.TimeProvider,
            Services = runOptions.Services,
            BuildVersion = runOptions.BuildVersion,
        };
        var planOptions = new MigrationOptions
        {
            ConfigProvider = () => config,
            TimeProvider = runOptions.TimeProvider,
            Services = runOptions.Services,
            BuildVersion = runOptions.BuildVersion,
            Logger = runOptions.Logger,
        };

        string? waitingFor = null;
        long? failedSince = null;
        try
        {
            while (true)
            {
                var plan = await MigrationRunner.PlanAsync(manager, registrations, planOptions, wait.Token).ConfigureAwait(false);
                planOptions = quietOptions;
                if (plan.Error is { } error)
                {
                    throw error;
                }

                if (plan.IsUpToDate)
                {
                    var waited = (long)_time.GetElapsedTime(started).TotalMilliseconds;
                    Log.WaitCompleted(_logger, waited);
                    return;
                }

                var now = Describe(plan);
                if (!string.Equals(now, waitingFor, StringComparison.Ordinal))
                {
                    // Progress (or a retry) since the last poll: a FAILED migration gets its full lease duration again.
                    waitingFor = now;
                    failedSince = null;
                    onWaiting(now);
                    Log.WaitingForMigrations(_logger, now, pollInterval);
                }

                if (plan.Entries.FirstOrDefault(static e => e.Action == MigrationAction.Run && e.PersistedStatus == MigrationStatus.Failed) is { } failed)
                {
                    var lease = await operations.ReadLeaseAsync(wait.Token).ConfigureAwait(false);
                    if (lease is { IsExpired: false })
                    {
                        failedSince = null;
                    }
                    else if (failedSince is null)
                    {
                        failedSince = _time.GetTimestamp();
                        Log.FailedWithoutLease(_logger, failed.Order, failed.Name, operations.LeaseDuration);
                    }
                    else if (_time.GetElapsedTime(failedSince.Value) >= operations.LeaseDuration)
                    {
                        throw StayedFailed(failed, operations.LeaseDuration);
                    }
                }
                else
                {
                    failedSince = null;
                }

                await Task.Delay(pollInterval, _time, wait.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var milliseconds = config.DeadlineMilliseconds.ToString(CultureInfo.InvariantCulture);
            throw new MigrationException(
                $"the migration deadline of {milliseconds} ms expired",
                new TimeoutException(
                    $"Waited {milliseconds} ms for another runner to complete the migrations ({waitingFor ?? "none read yet"}). Raise {MigrationConfig.DeadlineVariable} if they need longer, and check the Job or replica that applies them."));
        }
    }

    /// <summary>What the replica waits for: each migration a run would still run, with its status.</summary>
    internal static string Describe(MigrationPlan plan)
    {
        var waiting = plan.Entries.Where(static e => e.Action == MigrationAction.Run).ToList();
        const int Shown = 10;
        var text = string.Join(", ", waiting.Take(Shown).Select(static e =>
            e.Order.ToString(CultureInfo.InvariantCulture) + " (" + (e.PersistedStatus is { } status ? MigrationStatusText.ToText(status) : "not started") + ")"));
        return waiting.Count > Shown
            ? string.Create(CultureInfo.InvariantCulture, $"{waiting.Count} migration(s): {text} and {waiting.Count - Shown} more")
            : $"migration(s) {text}";
    }

    private static MigrationException StayedFailed(MigrationPlanEntry failed, TimeSpan leaseDuration)
    {
        var order = failed.Order.ToString(CultureInfo.InvariantCulture);
        return new MigrationException(
            $"the migration with order {order} stayed FAILED",
            failed.Order,
            new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"Migration {order} ({failed.Name}) is FAILED and no runner has held the migration lease for {leaseDuration.TotalSeconds:0.###} s (the manager's lease duration): the runner that applies the migrations (a Job, an init container) failed and is not retrying it. Fix the migration and run it again; this replica stops.")));
    }
}
