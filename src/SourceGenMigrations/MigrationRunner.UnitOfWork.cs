using Microsoft.Extensions.Logging;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Step 9 on an ITransactionalMigrationManager: PENDING for the whole list in one call, then each migration as one
    // unit of work (STARTED, its statements and COMPLETED in one transaction when it is transactional).
    private sealed partial class Run
    {
        private async Task MigrateInUnitsOfWorkAsync(ITransactionalMigrationManager manager, MigrationPlanEntry[] toRun)
        {
            var descriptors = new MigrationDescriptor[toRun.Length];
            var buildVersion = MigrationBuildVersion.Resolve(_buildVersionOption);
            for (var i = 0; i < toRun.Length; i++)
            {
                var registration = toRun[i].Registration;
                descriptors[i] = new MigrationDescriptor(registration.Order, registration.DisplayName, registration.Transactional, toRun[i].PreviousStatus)
                {
                    BreaksOlderBuilds = registration.BreaksOlderBuilds,
                    BuildVersion = buildVersion,
                    Checksum = registration.Checksum,
                };
            }

            try
            {
                RunToken.ThrowIfCancellationRequested();
                await manager.PersistPendingAsync(descriptors, RunToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                AddStepError(PersistFailedMessage(MigrationStatus.Pending, descriptors[0].Order), exception, descriptors[0].Order);
                return;
            }

            for (var i = 0; i < toRun.Length; i++)
            {
                if (!await RunUnitOfWorkAsync(manager, toRun[i].Registration, descriptors[i]).ConfigureAwait(false))
                {
                    return;
                }
            }
        }

        private async Task<bool> RunUnitOfWorkAsync(ITransactionalMigrationManager manager, MigrationRegistration registration, MigrationDescriptor migration)
        {
            var order = migration.Order;
            using var activity = Telemetry.StartMigration(order, migration.Name, migration.PreviousStatus);
            MigrationUnitOfWork? unit;
            try
            {
                RunToken.ThrowIfCancellationRequested();
                unit = await manager.BeginMigrationAsync(migration, RunToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException(
                        $"The {migration} is COMPLETED already: another runner completed it while this run held the migration lock, so this runner's lease was lost. Nothing was run.");
            }
            catch (Exception exception)
            {
                AddStepError(PersistFailedMessage(MigrationStatus.Started, order), exception, order);
                Telemetry.MigrationStopped(activity, null, LastStepError(), RunToken.IsCancellationRequested);
                return false;
            }

            await using (unit.ConfigureAwait(false))
            {
                var context = new MigrationContext(order, migration.Name, migration.PreviousStatus, _services, _logger);
                var previousText = MigrationStatusText.ToText(migration.PreviousStatus);
                Log.MigrationStarted(_logger, order, migration.Name, previousText);
                var started = _time.GetTimestamp();
                Exception? failure = null;
                try
                {
                    await registration.InvokeAsync(context, RunToken).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    failure = exception;
                }

                var ran = _time.GetElapsedTime(started);
                if (failure is null)
                {
                    try
                    {
                        // Once the run is cancelled nothing more is written: disposing the unit rolls it back.
                        RunToken.ThrowIfCancellationRequested();
                        await unit.CompleteAsync(RunToken).ConfigureAwait(false);
                        var took = ElapsedMilliseconds(started);
                        Log.MigrationCompleted(_logger, order, migration.Name, took);
                        Telemetry.MigrationStopped(activity, ran, null, cancelled: false);
                        _appliedCount++;
                        return true;
                    }
                    catch (Exception exception) when (!migration.Transactional)
                    {
                        // The statements committed on their own; only the status write failed.
                        AddStepError(PersistFailedMessage(MigrationStatus.Completed, order), exception, order);
                        Telemetry.MigrationStopped(activity, ran, LastStepError(), RunToken.IsCancellationRequested);
                        return false;
                    }
                    catch (Exception exception)
                    {
                        // The commit is the migration's: a deferred constraint, a lost lease or a cancellation undid all of it.
                        failure = exception;
                    }
                }

                var reported = unit.DescribeFailure(failure);
                Telemetry.MigrationStopped(activity, ran, reported, RunToken.IsCancellationRequested);
                var failedAfter = (long)ran.TotalMilliseconds;
                Log.MigrationFailed(_logger, reported, order, migration.Name, failedAfter);
                AddStepError($"failed to complete the migration with order {Format(order)}", reported, order);
                if (!RunToken.IsCancellationRequested)
                {
                    try
                    {
                        await unit.FailAsync(failure, RunToken).ConfigureAwait(false);
                    }
                    catch (Exception exception)
                    {
                        AddStepError(PersistFailedMessage(MigrationStatus.Failed, order), exception, order);
                    }
                }

                return false;
            }
        }

        private static string PersistFailedMessage(MigrationStatus status, long order) =>
            $"failed to persist the status {MigrationStatusText.ToText(status)} for the migration order {Format(order)}";
    }
}
