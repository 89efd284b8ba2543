using System.Globalization;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Step 6: the heartbeat that keeps the migration lock alive, its schedule, and the release when it stops.
    private sealed partial class Run
    {
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
    }
}
