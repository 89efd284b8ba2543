using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SourceGenMigrations;

/// <summary>
/// Runs a table of migrations against an <see cref="IMigrationManager"/>, safely from many replicas at once: a
/// database lock while the data stores are created, a migration lock kept alive by a heartbeat, persisted statuses,
/// retries of unfinished migrations, errors on unknown or out-of-order ones, and a deadline.
/// </summary>
/// <remarks>Services usually call the generated <c>GeneratedMigrations.RunAsync(manager)</c>, which calls this with the generated table.</remarks>
public static class MigrationRunner
{
    /// <summary>Runs every enabled migration that has not completed yet, in ascending order.</summary>
    /// <param name="manager">Stores statuses and coordinates runners (SQLite, PostgreSQL or your own).</param>
    /// <param name="registrations">The migrations; orders must be unique, disabled ones included.</param>
    /// <param name="options">Configuration source, logger, services and clock; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the run. Locks are still released, each within its unlock deadline.</param>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/>, <paramref name="registrations"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentException">Two registrations share an order.</exception>
    /// <exception cref="MigrationException">The run failed; the message names the step (or steps), the cause is inside.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the run's errors, if any, are inside.</exception>
    public static async Task RunAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var sorted = SortAndCheck(registrations);
        options ??= new MigrationOptions();
        var config = GetConfig(options.ConfigProvider);
        cancellationToken.ThrowIfCancellationRequested();

        using var run = new Run(manager, sorted, config, options, cancellationToken);
        await run.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Tells what <see cref="RunAsync"/> would do now, without running or writing anything but the data stores: steps
    /// 1 to 4, 7 and 8 of a run (arguments, configuration, deadline, the database lock while the data stores are
    /// ensured, the persisted statuses, the walk). The migration lock is not taken, so it answers while another runner
    /// migrates. The error a run would raise on unknown or out-of-order migrations is returned in
    /// <see cref="MigrationPlan.Error"/>, not thrown.
    /// </summary>
    /// <inheritdoc cref="RunAsync" path="/param"/>
    /// <returns>One entry per registration with its persisted status and action.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/>, <paramref name="registrations"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentException">Two registrations share an order.</exception>
    /// <exception cref="MigrationException">A step failed (configuration, database lock, data stores, listing, an invalid persisted status).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MigrationPlan> PlanAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var sorted = SortAndCheck(registrations);
        options ??= new MigrationOptions();
        var config = GetConfig(options.ConfigProvider);
        cancellationToken.ThrowIfCancellationRequested();

        using var run = new Run(manager, sorted, config, options, cancellationToken);
        return await run.PlanAsync().ConfigureAwait(false);
    }

    private static MigrationRegistration[] SortAndCheck(IReadOnlyList<MigrationRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        var sorted = new MigrationRegistration[registrations.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = registrations[i] ?? throw new ArgumentNullException(nameof(registrations), $"The registration at index {i.ToString(CultureInfo.InvariantCulture)} is null.");
        }

        // The generated table is sorted already: one pass tells, and saves the sort on every service start.
        if (!IsSortedByOrder(sorted))
        {
            Array.Sort(sorted, static (left, right) => left.Order.CompareTo(right.Order));
        }

        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Order == sorted[i - 1].Order)
            {
                throw new ArgumentException(
                    $"Two registrations share the order {sorted[i].Order.ToString(CultureInfo.InvariantCulture)}: '{sorted[i - 1].DisplayName}' and '{sorted[i].DisplayName}'. Orders must be unique, disabled registrations included.",
                    nameof(registrations));
            }
        }

        return sorted;
    }

    private static bool IsSortedByOrder(MigrationRegistration[] registrations)
    {
        for (var i = 1; i < registrations.Length; i++)
        {
            if (registrations[i].Order < registrations[i - 1].Order)
            {
                return false;
            }
        }

        return true;
    }

    private static MigrationConfig GetConfig(Func<MigrationConfig>? provider)
    {
        try
        {
            var config = (provider ?? MigrationConfig.FromEnvironment)()
                ?? throw new InvalidOperationException($"The {nameof(MigrationOptions.ConfigProvider)} returned null.");
            config.Validate();
            return config;
        }
        catch (Exception exception)
        {
            throw new MigrationException("failed to get the migration configuration", exception);
        }
    }

    /// <summary>The state of one run: its tokens and the errors collected on the way.</summary>
    private sealed class Run : IDisposable
    {
        private readonly IMigrationManager _manager;
        private readonly MigrationRegistration[] _registrations;
        private readonly MigrationConfig _config;
        private readonly ILogger _logger;
        private readonly TimeProvider _time;
        private readonly IServiceProvider? _services;
        private readonly CancellationToken _callerToken;
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _runSource;

        // Errors are kept by kind and reported in a fixed order: steps, heartbeat, deadline, releases.
        private readonly List<MigrationException> _stepErrors = [];
        private readonly List<MigrationException> _releaseErrors = [];
        private MigrationException? _heartbeatError;
        private int _appliedCount;

        public Run(IMigrationManager manager, MigrationRegistration[] registrations, MigrationConfig config, MigrationOptions options, CancellationToken callerToken)
        {
            _manager = manager;
            _registrations = registrations;
            _config = config;
            _logger = options.Logger ?? NullLogger.Instance;
            _time = options.TimeProvider ?? TimeProvider.System;
            _services = options.Services ?? manager as IServiceProvider;
            _callerToken = callerToken;
            _deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(config.DeadlineMilliseconds), _time);
            _runSource = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _deadline.Token);
        }

        private CancellationToken RunToken => _runSource.Token;

        public async Task ExecuteAsync()
        {
            using var activity = Telemetry.StartRun(Telemetry.RunSpan, _registrations.Length);
            try
            {
                var started = _time.GetTimestamp();
                Log.RunStarting(_logger, _registrations.Length);
                if (await RunDbLockPhaseAsync().ConfigureAwait(false))
                {
                    await RunMigrationLockPhaseAsync().ConfigureAwait(false);
                }

                ThrowIfFailed(started, planning: false);
            }
            catch (Exception exception) when (Telemetry.RunFailed(activity, _appliedCount, exception))
            {
                throw; // Not reached: the filter only tags the span and lets the exception through.
            }

            Telemetry.RunCompleted(activity, _appliedCount);
        }

        public async Task<MigrationPlan> PlanAsync()
        {
            using var activity = Telemetry.StartRun(Telemetry.PlanSpan, _registrations.Length);
            MigrationPlan? plan = null;
            try
            {
                var started = _time.GetTimestamp();
                if (await RunDbLockPhaseAsync().ConfigureAwait(false))
                {
                    plan = await ListAndPlanAsync().ConfigureAwait(false);
                }

                ThrowIfFailed(started, planning: true);
            }
            catch (Exception exception) when (Telemetry.RunFailed(activity, 0, exception))
            {
                throw; // Not reached: the filter only tags the span and lets the exception through.
            }

            Telemetry.RunCompleted(activity, 0);
            return plan!;
        }

        public void Dispose()
        {
            _runSource.Dispose();
            _deadline.Dispose();
        }

        private async Task<bool> RunDbLockPhaseAsync()
        {
            var lockWait = Telemetry.StartLockWait(Telemetry.DatabaseLock, _time);
            try
            {
                await _manager.AcquireDbLockAsync(RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                lockWait.Stop(exception);
                AddStepError("failed to acquire the database lock", exception);
                return false;
            }

            lockWait.Stop(null);

            Log.DbLockAcquired(_logger);
            var succeeded = true;
            try
            {
                await _manager.EnsureDataStoresAsync(RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                AddStepError("failed to ensure the data stores are created", exception);
                succeeded = false;
            }

            // Always released once acquired, even when the run was cancelled: the release has its own deadline.
            return await ReleaseAsync(_manager.ReleaseDbLockAsync, "failed to release the database lock", "database").ConfigureAwait(false)
                && succeeded;
        }

        private async Task RunMigrationLockPhaseAsync()
        {
            var waitStarted = _time.GetTimestamp();
            var lockWait = Telemetry.StartLockWait(Telemetry.MigrationLock, _time);
            try
            {
                await _manager.AcquireMigrationLockAsync(RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                lockWait.Stop(exception);
                AddStepError("failed to acquire the migration lock", exception);
                return;
            }

            lockWait.Stop(null);

            var waited = ElapsedMilliseconds(waitStarted);
            Log.MigrationLockAcquired(_logger, waited);
            var beats = new BeatSchedule(_time, TimeSpan.FromMilliseconds(_config.HeartbeatIntervalMilliseconds));
            using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(RunToken);
            var heartbeat = HeartbeatAsync(beats, heartbeatStop.Token);
            try
            {
                await MigrateAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // MigrateAsync records its own failures; this is a last resort so the lock is still released.
                AddStepError("the migration run failed unexpectedly", exception);
            }
            finally
            {
                // A heartbeat waiting for its next beat exits here, inline, releasing the lease; a beat in flight is
                // cancelled. Cancel, not CancelAsync: CancelAsync runs the callbacks on the thread pool even when they
                // are only disposed registrations, a thread wake-up on every start.
                beats.Stop();
#pragma warning disable CA1849 // Call async methods when in an async method
                heartbeatStop.Cancel();
#pragma warning restore CA1849
                await heartbeat.ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Beats every interval (measured from the end of the previous beat) until stopped or until too many
        /// consecutive failures, which cancel the run. Releases the migration lock exactly once when it stops.
        /// </summary>
        private async Task HeartbeatAsync(BeatSchedule beats, CancellationToken stopToken)
        {
            try
            {
                var failures = 0;
                while (true)
                {
                    try
                    {
                        if (!await beats.WaitAsync(stopToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        await _manager.MigrationLockHeartbeatAsync(stopToken).ConfigureAwait(false);
                        failures = 0;
                    }
                    catch (Exception) when (stopToken.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception exception)
                    {
                        failures++;
                        Log.HeartbeatFailed(_logger, exception, failures, _config.HeartbeatFailureRetryCount);
                        if (failures > _config.HeartbeatFailureRetryCount)
                        {
                            Volatile.Write(ref _heartbeatError, new MigrationException(
                                $"heartbeat failed {failures.ToString(CultureInfo.InvariantCulture)} time(s) with latest error of ({exception.Message})", exception));
                            Log.HeartbeatGaveUp(_logger, failures);
                            await CancelRunAsync().ConfigureAwait(false);
                            return;
                        }
                    }
                }
            }
            finally
            {
                await ReleaseAsync(_manager.ReleaseMigrationLockAsync, "failed to release the migration lock", "migration").ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The heartbeat's wait between beats: the interval's timer, <see cref="Stop"/> (the migrations are done) or the
        /// cancellation of the run, whichever comes first. <see cref="Stop"/> ends the wait inline, so a run releases its
        /// lease on its own thread (Task.Delay's cancellation would resume the heartbeat on the thread pool, a thread
        /// wake-up on every start); the run's cancellation ends it from the thread pool, never inside the canceller's
        /// Cancel call.
        /// </summary>
        private sealed class BeatSchedule(TimeProvider time, TimeSpan interval)
        {
            private TaskCompletionSource<bool>? _pending;
            private int _stopped;

            /// <summary>True when the interval elapsed; false when stopped or <paramref name="cancellationToken"/> was cancelled.</summary>
            public async Task<bool> WaitAsync(CancellationToken cancellationToken)
            {
                // Continuations run synchronously: whoever completes the signal resumes the heartbeat.
                var signal = new TaskCompletionSource<bool>();

                // Published before the stop flag is read (both with full fences): a Stop either sees this signal or is seen here.
                Interlocked.Exchange(ref _pending, signal);
                if (Volatile.Read(ref _stopped) != 0 || cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                using var cancellation = cancellationToken.UnsafeRegister(
                    static state => ThreadPool.UnsafeQueueUserWorkItem(static pending => pending.TrySetResult(false), (TaskCompletionSource<bool>)state!, preferLocal: false),
                    signal);
                using var timer = time.CreateTimer(static state => ((TaskCompletionSource<bool>)state!).TrySetResult(true), signal, interval, Timeout.InfiniteTimeSpan);
                return await signal.Task.ConfigureAwait(false);
            }

            /// <summary>Ends the current wait (inline) and every later one.</summary>
            public void Stop()
            {
                Interlocked.Exchange(ref _stopped, 1);
                Volatile.Read(ref _pending)?.TrySetResult(false);
            }
        }

        private async Task CancelRunAsync()
        {
            try
            {
                await _runSource.CancelAsync().ConfigureAwait(false);
            }
            catch (AggregateException exception)
            {
                // A callback registered on the run's token threw; the run is cancelled all the same.
                AddStepError("a cancellation callback of the run failed", exception);
            }
        }

        private async Task MigrateAsync()
        {
            var plan = await ListAndPlanAsync().ConfigureAwait(false);
            if (plan is null)
            {
                return;
            }

            if (plan.Errors.Count > 0)
            {
                AddStepErrors(plan.Errors);
                return;
            }

            if (plan.RunCount == 0)
            {
                var enabledCount = 0;
                foreach (var entry in plan.Entries)
                {
                    enabledCount += entry.Enabled ? 1 : 0;
                }

                Log.NothingToRun(_logger, enabledCount);
                return;
            }

            var toRun = plan.Entries.Where(static entry => entry.Action == MigrationAction.Run).ToArray();

            Log.MigrationsToRun(_logger, toRun.Length, toRun[0].Order, toRun[^1].Order);
            foreach (var entry in toRun)
            {
                if (!await PersistAsync(entry.Order, MigrationStatus.Pending).ConfigureAwait(false))
                {
                    return;
                }
            }

            foreach (var entry in toRun)
            {
                if (!await RunOneAsync(entry.Registration, entry.PreviousStatus).ConfigureAwait(false))
                {
                    return;
                }
            }
        }

        /// <summary>Steps 7 and 8: lists and checks the persisted statuses, then walks the registrations; null on failure.</summary>
        private async Task<MigrationPlan?> ListAndPlanAsync()
        {
            IReadOnlyList<PersistedStatus> statuses;
            try
            {
                statuses = await _manager.ListStatusesAsync(RunToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"{nameof(IMigrationManager.ListStatusesAsync)} returned null.");
            }
            catch (Exception exception)
            {
                AddStepError("failed to list the persisted statuses", exception);
                return null;
            }

            try
            {
                statuses = MigrationPlan.CheckStatuses(statuses);
            }
            catch (MigrationException exception)
            {
                AddStepErrors([exception]);
                return null;
            }

            var plan = MigrationPlan.Create(_registrations, statuses);

            // One check instead of a thousand calls that each find Debug off: this loop runs on every start.
            var debug = _logger.IsEnabled(LogLevel.Debug);
            foreach (var entry in plan.Entries)
            {
                switch (entry.Action)
                {
                    case MigrationAction.SkipDisabled when entry.PersistedStatus is { } status:
                        Log.DisabledButPersisted(_logger, entry.Order, entry.Name, MigrationStatusText.ToText(status));
                        break;
                    case MigrationAction.SkipDisabled when debug:
                        Log.SkippedDisabled(_logger, entry.Order, entry.Name);
                        break;
                    case MigrationAction.SkipCompleted when debug:
                        Log.SkippedCompleted(_logger, entry.Order, entry.Name);
                        break;
                }
            }

            return plan;
        }

        private async Task<bool> RunOneAsync(MigrationRegistration registration, MigrationStatus previousStatus)
        {
            var order = registration.Order;
            var name = registration.DisplayName;
            using var activity = Telemetry.StartMigration(order, name, previousStatus);
            if (!await PersistAsync(order, MigrationStatus.Started).ConfigureAwait(false))
            {
                Telemetry.MigrationStopped(activity, null, LastStepError(), RunToken.IsCancellationRequested);
                return false;
            }

            var context = new MigrationContext(order, name, previousStatus, _services, _logger);
            var previousText = MigrationStatusText.ToText(previousStatus);
            Log.MigrationStarted(_logger, order, name, previousText);
            var started = _time.GetTimestamp();
            try
            {
                await registration.Migrate(context, RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                var failedAfter = ElapsedMilliseconds(started);
                Telemetry.MigrationStopped(activity, _time.GetElapsedTime(started), exception, RunToken.IsCancellationRequested);
                Log.MigrationFailed(_logger, exception, order, name, failedAfter);
                AddStepError($"failed to complete the migration with order {Format(order)}", exception);

                // Once the run is cancelled nothing more is written: the migration stays STARTED and is retried.
                if (!RunToken.IsCancellationRequested)
                {
                    await PersistAsync(order, MigrationStatus.Failed).ConfigureAwait(false);
                }

                return false;
            }

            var ran = _time.GetElapsedTime(started);
            var took = ElapsedMilliseconds(started);
            Log.MigrationCompleted(_logger, order, name, took);
            if (!await PersistAsync(order, MigrationStatus.Completed).ConfigureAwait(false))
            {
                Telemetry.MigrationStopped(activity, ran, LastStepError(), RunToken.IsCancellationRequested);
                return false;
            }

            Telemetry.MigrationStopped(activity, ran, null, cancelled: false);

            _appliedCount++;
            return true;
        }

        private async Task<bool> PersistAsync(long order, MigrationStatus status)
        {
            try
            {
                RunToken.ThrowIfCancellationRequested();
                await _manager.PersistStatusAsync(order, status, RunToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception exception)
            {
                AddStepError($"failed to persist the status {MigrationStatusText.ToText(status)} for the migration order {Format(order)}", exception);
                return false;
            }
        }

        private async Task<bool> ReleaseAsync(Func<CancellationToken, Task> release, string message, string lockName)
        {
            using var unlockDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(_config.UnlockDeadlineMilliseconds), _time);
            try
            {
                await release(unlockDeadline.Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception exception)
            {
                Log.ReleaseFailed(_logger, exception, lockName);
                lock (_releaseErrors)
                {
                    _releaseErrors.Add(new MigrationException(message, exception));
                }

                return false;
            }
        }

        private void AddStepError(string message, Exception? cause) => AddStepErrors([new MigrationException(message, cause)]);

        /// <summary>The error a failed step just recorded (for telemetry).</summary>
        private MigrationException LastStepError()
        {
            lock (_stepErrors)
            {
                return _stepErrors.Count == 0 ? new MigrationException() : _stepErrors[^1];
            }
        }

        private void AddStepErrors(IEnumerable<MigrationException> errors)
        {
            lock (_stepErrors)
            {
                _stepErrors.AddRange(errors);
            }
        }

        private void ThrowIfFailed(long started, bool planning)
        {
            var errors = new List<MigrationException>();
            lock (_stepErrors)
            {
                errors.AddRange(_stepErrors);
            }

            if (Volatile.Read(ref _heartbeatError) is { } heartbeatError)
            {
                errors.Add(heartbeatError);
            }

            if (errors.Count > 0 && _deadline.IsCancellationRequested && !_callerToken.IsCancellationRequested)
            {
                var deadline = Format(_config.DeadlineMilliseconds);
                errors.Add(new MigrationException(
                    $"the migration deadline of {deadline} ms expired",
                    new TimeoutException($"The migration run did not finish within {deadline} ms; raise {MigrationConfig.DeadlineVariable} if it needs longer.")));
            }

            lock (_releaseErrors)
            {
                errors.AddRange(_releaseErrors);
            }

            var elapsed = ElapsedMilliseconds(started);
            if (errors.Count == 0)
            {
                if (planning)
                {
                    Log.PlanMade(_logger, elapsed);
                }
                else
                {
                    Log.RunCompleted(_logger, _appliedCount, elapsed);
                }

                return;
            }

            var failure = MigrationException.Combine(errors);
            Log.RunFailed(_logger, planning ? "plan" : "run", elapsed, failure.Message);
            if (_callerToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The migration run was cancelled.", failure, _callerToken);
            }

            throw failure;
        }

        private long ElapsedMilliseconds(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

        private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
