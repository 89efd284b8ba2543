using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Steps 4 and 5: the database lock around the data stores, then the migration lock around the migrations (released
    // by the heartbeat when it stops, step 6). Every release has its own deadline and ignores the run's cancellation.
    private sealed partial class Run
    {
        // Not async methods: each step continues synchronously when the manager's call completed synchronously (SQLite),
        // so a start with nothing to do compiles no state machine for them (issue 14). When a call does not complete at
        // once (PostgreSQL, MySQL), one async method awaits it and the rest of the phase, as before.

        /// <summary>Step 4: AcquireDbLock, EnsureDataStores, ReleaseDbLock; true when all three succeeded.</summary>
        private Task<bool> RunDbLockPhaseAsync()
        {
            var lockWait = Telemetry.StartLockWait(Telemetry.DatabaseLock, _time);
            var acquiring = Started(_manager.AcquireDbLockAsync, RunToken);
            if (!acquiring.IsCompleted)
            {
                return RunDbLockPhaseAsync(acquiring, lockWait);
            }

            if (!DbLockAcquired(acquiring, lockWait))
            {
                return CompletedTasks.False;
            }

            var ensuring = Started(_manager.EnsureDataStoresAsync, RunToken);
            if (!ensuring.IsCompleted)
            {
                return DataStoresEnsuredAsync(ensuring);
            }

            var succeeded = DataStoresEnsured(ensuring);
            var releasing = ReleaseDbLockAsync();
            if (!releasing.IsCompletedSuccessfully)
            {
                return DbLockReleasedAsync(releasing, succeeded);
            }

            return releasing.Result && succeeded ? CompletedTasks.True : CompletedTasks.False;
        }

        private async Task<bool> RunDbLockPhaseAsync(Task acquiring, Telemetry.LockWait lockWait)
        {
            await acquiring.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return DbLockAcquired(acquiring, lockWait) && await DataStoresEnsuredAsync(Started(_manager.EnsureDataStoresAsync, RunToken)).ConfigureAwait(false);
        }

        private async Task<bool> DataStoresEnsuredAsync(Task ensuring)
        {
            await ensuring.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var succeeded = DataStoresEnsured(ensuring);
            return await ReleaseDbLockAsync().ConfigureAwait(false) && succeeded;
        }

        private static async Task<bool> DbLockReleasedAsync(Task<bool> releasing, bool succeeded) =>
            await releasing.ConfigureAwait(false) && succeeded;

        /// <summary>True when the completed <paramref name="acquiring"/> took the database lock; otherwise records its error.</summary>
        private bool DbLockAcquired(Task acquiring, Telemetry.LockWait lockWait)
        {
            if (Failure(acquiring) is { } exception)
            {
                lockWait.Stop(exception);
                AddStepError("failed to acquire the database lock", exception);
                return false;
            }

            lockWait.Stop(null);
            Log.DbLockAcquired(_logger);
            return true;
        }

        /// <summary>True when the completed <paramref name="ensuring"/> succeeded; otherwise records its error.</summary>
        private bool DataStoresEnsured(Task ensuring)
        {
            if (Failure(ensuring) is not { } exception)
            {
                return true;
            }

            AddStepError("failed to ensure the data stores are created", exception);
            return false;
        }

        // Always released once acquired, even when the run was cancelled: the release has its own deadline.
        private Task<bool> ReleaseDbLockAsync() =>
            ReleaseAsync(_manager.ReleaseDbLockAsync, "failed to release the database lock", "database");

        /// <summary>Step 5: AcquireMigrationLock, then the heartbeat (step 6) beside steps 7 to 9.</summary>
        private Task RunMigrationLockPhaseAsync()
        {
            var waitStarted = _time.GetTimestamp();
            var lockWait = Telemetry.StartLockWait(Telemetry.MigrationLock, _time);
            var acquiring = Started(_manager.AcquireMigrationLockAsync, RunToken);
            if (!acquiring.IsCompleted)
            {
                return RunMigrationLockPhaseAsync(acquiring, lockWait, waitStarted);
            }

            if (!MigrationLockAcquired(acquiring, lockWait, waitStarted))
            {
                return Task.CompletedTask;
            }

            var heartbeat = NewHeartbeat();
            var migrating = Started(MigrateAsync);
            if (!migrating.IsCompleted)
            {
                return MigratedAsync(heartbeat, migrating);
            }

            Migrated(migrating);
            return CompletedTasks.DisposeWhenDone(heartbeat, Started(heartbeat.StopAsync));
        }

        private async Task RunMigrationLockPhaseAsync(Task acquiring, Telemetry.LockWait lockWait, long waitStarted)
        {
            await acquiring.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (MigrationLockAcquired(acquiring, lockWait, waitStarted))
            {
                await MigratedAsync(NewHeartbeat(), Started(MigrateAsync)).ConfigureAwait(false);
            }
        }

        /// <summary>The migrations ended or are under way: once they end the heartbeat stops, which releases the migration lock.</summary>
        private async Task MigratedAsync(Heartbeat heartbeat, Task migrating)
        {
            using (heartbeat)
            {
                try
                {
                    await migrating.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    Migrated(migrating);
                }
                finally
                {
                    await heartbeat.StopAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>True when the completed <paramref name="acquiring"/> took the migration lock; otherwise records its error.</summary>
        private bool MigrationLockAcquired(Task acquiring, Telemetry.LockWait lockWait, long waitStarted)
        {
            if (Failure(acquiring) is { } exception)
            {
                lockWait.Stop(exception);
                AddStepError("failed to acquire the migration lock", exception);
                return false;
            }

            lockWait.Stop(null);

            var waited = ElapsedMilliseconds(waitStarted);
            Log.MigrationLockAcquired(_logger, waited);
            return true;
        }

        private Heartbeat NewHeartbeat() => new(this, TimeSpan.FromMilliseconds(_config.HeartbeatIntervalMilliseconds));

        private void Migrated(Task migrating)
        {
            if (Failure(migrating) is { } exception)
            {
                // MigrateAsync records its own failures; this is a last resort so the lock is still released.
                AddStepError("the migration run failed unexpectedly", exception);
            }
        }

        /// <summary>Calls <paramref name="step"/>; an exception it throws comes back in the task, as from an async method.</summary>
        private static Task Started(Func<CancellationToken, Task> step, CancellationToken cancellationToken)
        {
            try
            {
                return step(cancellationToken);
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed(exception);
            }
        }

        /// <inheritdoc cref="Started(Func{CancellationToken, Task}, CancellationToken)"/>
        private static Task Started(Func<Task> step)
        {
            try
            {
                return step();
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed(exception);
            }
        }

        /// <summary>The exception awaiting the completed <paramref name="task"/> throws; null when it succeeded.</summary>
        private static Exception? Failure(Task task)
        {
            try
            {
                task.GetAwaiter().GetResult();
                return null;
            }
            catch (Exception exception)
            {
                return exception;
            }
        }

        private Task<bool> ReleaseAsync(Func<CancellationToken, Task> release, string message, string lockName)
        {
            // Synchronous when the release is (SQLite): no state machine on a start with nothing to do.
            var unlockDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(_config.UnlockDeadlineMilliseconds), _time);
            var releasing = Started(release, unlockDeadline.Token);
            if (!releasing.IsCompleted)
            {
                return ReleasedAsync(releasing, unlockDeadline, message, lockName);
            }

            unlockDeadline.Dispose();
            return Released(releasing, message, lockName) ? CompletedTasks.True : CompletedTasks.False;
        }

        private async Task<bool> ReleasedAsync(Task releasing, CancellationTokenSource unlockDeadline, string message, string lockName)
        {
            using (unlockDeadline)
            {
                await releasing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return Released(releasing, message, lockName);
            }
        }

        /// <summary>True when the completed <paramref name="releasing"/> succeeded; otherwise records its error.</summary>
        private bool Released(Task releasing, string message, string lockName)
        {
            if (Failure(releasing) is not { } exception)
            {
                return true;
            }

            Log.ReleaseFailed(_logger, exception, lockName);
            lock (_releaseErrors)
            {
                _releaseErrors.Add(new MigrationException(message, exception));
            }

            return false;
        }
    }
}
