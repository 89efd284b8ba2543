using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Steps 7 to 9: the persisted statuses, the walk, and each migration between its statuses.
    private sealed partial class Run
    {
        /// <summary>Steps 7 to 9 under the migration lock: the plan, then PENDING for each migration to run, then each in turn.</summary>
        /// <remarks>Not an async method: a start with nothing to do compiles no state machine for it (issue 14).</remarks>
        private Task MigrateAsync()
        {
            var planning = ListAndPlanAsync();
            return planning.IsCompletedSuccessfully ? Migrate(planning.Result) : MigrateWhenPlannedAsync(planning);
        }

        private async Task MigrateWhenPlannedAsync(Task<MigrationPlan?> planning) =>
            await Migrate(await planning.ConfigureAwait(false)).ConfigureAwait(false);

        private Task Migrate(MigrationPlan? plan)
        {
            if (plan is null)
            {
                return Task.CompletedTask;
            }

            if (plan.Errors.Count > 0)
            {
                AddStepErrors(plan.Errors);
                return Task.CompletedTask;
            }

            if (plan.RunCount == 0)
            {
                LogNothingToRun(plan);
                return Task.CompletedTask;
            }

            return MigrateAsync(plan);
        }

        private void LogNothingToRun(MigrationPlan plan)
        {
            var enabledCount = 0;
            foreach (var entry in plan.Entries)
            {
                enabledCount += entry.Enabled ? 1 : 0;
            }

            Log.NothingToRun(_logger, enabledCount);
        }

        /// <summary>Step 9: PENDING for each migration to run, then each in turn.</summary>
        private async Task MigrateAsync(MigrationPlan plan)
        {
            var toRun = plan.Entries.Where(static entry => entry.Action == MigrationAction.Run).ToArray();

            Log.MigrationsToRun(_logger, toRun.Length, toRun[0].Order, toRun[^1].Order);
            if (_manager is ITransactionalMigrationManager unitOfWorkManager)
            {
                await MigrateInUnitsOfWorkAsync(unitOfWorkManager, toRun).ConfigureAwait(false);
                return;
            }

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
        /// <param name="readOnly">Read the statuses through it (a plan that creates nothing) instead of <see cref="IMigrationManager.ListStatusesAsync"/>.</param>
        /// <remarks>Synchronous when the manager's read is (SQLite): no state machine on a start with nothing to do.</remarks>
        private Task<MigrationPlan?> ListAndPlanAsync(IMigrationOperations? readOnly = null)
        {
            Task<IReadOnlyList<PersistedStatus>> listing;
            try
            {
                listing = readOnly is null ? _manager.ListStatusesAsync(RunToken) : readOnly.ReadStatusesAsync(RunToken);
            }
            catch (Exception exception)
            {
                listing = CompletedTasks.Failed<IReadOnlyList<PersistedStatus>>(exception);
            }

            return listing.IsCompleted ? Task.FromResult(Plan(listing, readOnly)) : PlanWhenListedAsync(listing, readOnly);
        }

        private async Task<MigrationPlan?> PlanWhenListedAsync(Task<IReadOnlyList<PersistedStatus>> listing, IMigrationOperations? readOnly)
        {
            await ((Task)listing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return Plan(listing, readOnly);
        }

        /// <summary>Steps 7 and 8 once <paramref name="listing"/> completed.</summary>
        private MigrationPlan? Plan(Task<IReadOnlyList<PersistedStatus>> listing, IMigrationOperations? readOnly)
        {
            IReadOnlyList<PersistedStatus> statuses;
            try
            {
                statuses = listing.GetAwaiter().GetResult()
                    ?? throw new InvalidOperationException($"{(readOnly is null ? nameof(IMigrationManager.ListStatusesAsync) : nameof(IMigrationOperations.ReadStatusesAsync))} returned null.");
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

            var plan = MigrationPlan.Create(_registrations, statuses, _config.AllowNewerMigrations);
            LogPlan(plan);
            return plan;
        }

        /// <summary>What a plan tells the log: newer migrations tolerated, disabled ones with a status, skips (Debug).</summary>
        private void LogPlan(MigrationPlan plan)
        {
            if (plan.NewerPersistedOrders.Count > 0)
            {
                var newer = string.Join(", ", plan.NewerPersistedOrders);
                var highest = _registrations.Length == 0 ? -1 : _registrations[^1].Order;
                Log.NewerMigrationsTolerated(_logger, newer, highest);
            }


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
        }

        /// <summary>Step 9 on a plain <see cref="IMigrationManager"/>: STARTED, the migration, COMPLETED or FAILED, each a call of its own.</summary>
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
                await registration.InvokeAsync(context, RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                var failedAfter = ElapsedMilliseconds(started);
                Telemetry.MigrationStopped(activity, _time.GetElapsedTime(started), exception, RunToken.IsCancellationRequested);
                Log.MigrationFailed(_logger, exception, order, name, failedAfter);
                AddStepError($"failed to complete the migration with order {Format(order)}", exception, order);

                // Once the run is cancelled nothing more is written: the migration stays STARTED and is retried.
                if (!RunToken.IsCancellationRequested)
                {
                    await PersistAsync(order, MigrationStatus.Failed).ConfigureAwait(false);
                }

                return false;
            }

            var ran = _time.GetElapsedTime(started);
            var took = ElapsedMilliseconds(started);
            if (!await PersistAsync(order, MigrationStatus.Completed).ConfigureAwait(false))
            {
                Telemetry.MigrationStopped(activity, ran, LastStepError(), RunToken.IsCancellationRequested);
                return false;
            }

            // Logged once COMPLETED is persisted: the log never says "completed" for a migration that is not.
            Log.MigrationCompleted(_logger, order, name, took);
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
                AddStepError(PersistFailedMessage(status, order), exception, order);
                return false;
            }
        }
    }
}
