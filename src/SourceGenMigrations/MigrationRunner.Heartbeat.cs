using System.Globalization;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Step 6: the heartbeat that keeps the migration lock alive, its schedule, and the release when it stops.
    private sealed partial class Run
    {
        /// <summary>
        /// Step 6 beside steps 7 to 9. Nothing beats before the first interval has passed: a run that ends sooner (every
        /// start with nothing to do) starts no heartbeat loop and releases the lease on its own thread when it stops.
        /// After the first interval <see cref="HeartbeatAsync"/> beats until stopped. Whatever stops it (the end of the
        /// migrations, the run's cancellation, too many failed beats), the migration lock is released exactly once, and
        /// <see cref="StopAsync"/> returns only after that release.
        /// </summary>
        private sealed class Heartbeat : IDisposable
        {
            private readonly Run _run;
            private readonly BeatSchedule _beats;
            private readonly object _gate = new();
            private readonly ITimer _firstBeat;
            private readonly CancellationTokenRegistration _runCancelled;
            private CancellationTokenSource? _stopBeating;
            private Task? _running;
            private bool _stopped;

            public Heartbeat(Run run, TimeSpan interval)
            {
                _run = run;
                _beats = new BeatSchedule(run._time, interval);
                _firstBeat = run._time.CreateTimer(static state => ((Heartbeat)state!).Start(), this, interval, Timeout.InfiniteTimeSpan);

                // A cancelled run releases the lease at once, even while a migration ignores its token; never inside the
                // canceller's Cancel call (the callback only queues the release).
                _runCancelled = run.RunToken.UnsafeRegister(static state => ((Heartbeat)state!).OnRunCancelled(), this);
            }

            /// <summary>Stops the heartbeat and releases the migration lock (once), or waits for the release already under way.</summary>
            public Task StopAsync()
            {
                Task? running;
                lock (_gate)
                {
                    _stopped = true;
                    running = _running;
                }

                _firstBeat.Dispose();
                if (running is null)
                {
                    // Never started: the release runs here, on the run's own thread (synchronously when the manager's does).
                    _runCancelled.Dispose();
                    return _run.ReleaseMigrationLockAsync();
                }

                // A heartbeat waiting for its next beat exits inline; a beat in flight is cancelled. Cancel, not
                // CancelAsync: CancelAsync runs the callbacks on the thread pool even when they are only disposed
                // registrations.
                _beats.Stop();
#pragma warning disable CA1849 // Call async methods when in an async method
                _stopBeating?.Cancel();
#pragma warning restore CA1849
                return running;
            }

            public void Dispose()
            {
                _runCancelled.Dispose();
                _stopBeating?.Dispose();
            }

            // The first interval passed: beat now, then every interval (on the timer's thread, as a beat always started).
            private void Start()
            {
                Task<Task> loop;
                lock (_gate)
                {
                    if (_stopped || _running is not null)
                    {
                        return;
                    }

                    _stopBeating = CancellationTokenSource.CreateLinkedTokenSource(_run.RunToken);
                    var stopToken = _stopBeating.Token;
                    loop = new Task<Task>(() => _run.HeartbeatAsync(_beats, stopToken));
                    _running = loop.Unwrap();
                }

                loop.RunSynchronously(TaskScheduler.Default);
            }

            private void OnRunCancelled()
            {
                lock (_gate)
                {
                    if (_stopped || _running is not null)
                    {
                        // Stopping already, or beating: the loop sees the cancellation and releases.
                        return;
                    }

                    _running = Task.Run(_run.ReleaseMigrationLockAsync);
                }
            }
        }

        /// <summary>
        /// Beats now and then every interval (measured from the end of the previous beat) until stopped or until too many
        /// consecutive failures, which cancel the run. Releases the migration lock exactly once when it stops.
        /// </summary>
        private async Task HeartbeatAsync(BeatSchedule beats, CancellationToken stopToken)
        {
            try
            {
                var failures = 0;
                do
                {
                    try
                    {
                        stopToken.ThrowIfCancellationRequested();
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
                                $"heartbeat failed {failures.ToString(CultureInfo.InvariantCulture)} time(s) with latest error of ({MigrationException.Cause(exception)})", exception));
                            Log.HeartbeatGaveUp(_logger, failures);
                            await CancelRunAsync().ConfigureAwait(false);
                            return;
                        }
                    }
                }
                while (await beats.WaitAsync(stopToken).ConfigureAwait(false));
            }
            finally
            {
                await ReleaseMigrationLockAsync().ConfigureAwait(false);
            }
        }

        private Task<bool> ReleaseMigrationLockAsync() =>
            ReleaseAsync(_manager.ReleaseMigrationLockAsync, "failed to release the migration lock", "migration");

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
    }
}
