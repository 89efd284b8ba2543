using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Before step 4: a start with nothing to do ends on one read, taking no lock (issue 14).
    private sealed partial class Run
    {
        /// <summary>
        /// The statuses read without locks (<see cref="ITransactionalMigrationManager.ListStatusesWithoutLocksAsync"/>),
        /// or null when the manager offers no such read.
        /// </summary>
        private Task<IReadOnlyList<PersistedStatus>?>? ReadWithoutLocks()
        {
            if (_manager is not ITransactionalMigrationManager manager)
            {
                return null;
            }

            try
            {
                return manager.ListStatusesWithoutLocksAsync(RunToken);
            }
            catch (Exception exception)
            {
                return CompletedTasks.Failed<IReadOnlyList<PersistedStatus>?>(exception);
            }
        }

        /// <summary>
        /// Whether the statuses read without locks show a start with nothing to do, logged as the run under the locks
        /// would log it: every persisted status <c>COMPLETED</c> (none in progress, none failed, whichever build wrote it)
        /// and the plan finds nothing to run and no error. Anything else, a failed read included, and the run takes the
        /// locks and reads the statuses again under them, where every error is reported as before.
        /// </summary>
        private bool NothingToDo(Task<IReadOnlyList<PersistedStatus>?> reading)
        {
            IReadOnlyList<PersistedStatus>? statuses;
            try
            {
                statuses = reading.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                Log.ReadWithoutLocksFailed(_logger, exception);
                return false;
            }

            if (statuses is null || RunToken.IsCancellationRequested)
            {
                return false;
            }

            // The usual case, decided in one walk without a plan (the plan logs each skip at Debug: it decides then).
            if (!_logger.IsEnabled(LogLevel.Debug) && MigrationPlan.IsEveryEnabledCompleted(_registrations, statuses, out var enabledCount))
            {
                Log.NothingToRunWithoutLocks(_logger);
                Log.NothingToRun(_logger, enabledCount);
                return true;
            }

            foreach (var status in statuses)
            {
                if (status.Status != MigrationStatus.Completed)
                {
                    return false;
                }
            }

            MigrationPlan plan;
            try
            {
                plan = MigrationPlan.Create(_registrations, MigrationPlan.CheckStatuses(statuses), _config.AllowNewerMigrations);
            }
            catch (MigrationException)
            {
                // A status the checks refuse (a duplicate order): the run under the locks reports it.
                return false;
            }

            if (!plan.IsUpToDate)
            {
                return false;
            }

            LogPlan(plan);
            Log.NothingToRunWithoutLocks(_logger);
            LogNothingToRun(plan);
            return true;
        }
    }
}
