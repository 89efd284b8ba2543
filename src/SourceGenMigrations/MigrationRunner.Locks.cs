namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Steps 4 and 5: the database lock around the data stores, then the migration lock around the migrations (released
    // by the heartbeat when it stops, step 6). Every release has its own deadline and ignores the run's cancellation.
    private sealed partial class Run
    {
        /// <summary>Step 4: AcquireDbLock, EnsureDataStores, ReleaseDbLock; true when all three succeeded.</summary>
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

        /// <summary>Step 5: AcquireMigrationLock, then the heartbeat (step 6) beside steps 7 to 9.</summary>
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
            using var heartbeat = new Heartbeat(this, TimeSpan.FromMilliseconds(_config.HeartbeatIntervalMilliseconds));
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
                await heartbeat.StopAsync().ConfigureAwait(false);
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
    }
}
