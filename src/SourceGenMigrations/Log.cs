using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

/// <summary>The runner's log lines (source-generated: nothing is formatted when the level is off), ids in <see cref="LogEventIds.Runner"/>'s range.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Runner + 1, Level = LogLevel.Debug, Message = "Migration run starting with {RegistrationCount} registered migration(s)")]
    public static partial void RunStarting(ILogger logger, int registrationCount);

    [LoggerMessage(EventId = LogEventIds.Runner + 2, Level = LogLevel.Debug, Message = "Database lock acquired; ensuring the migration data stores exist")]
    public static partial void DbLockAcquired(ILogger logger);

    [LoggerMessage(EventId = LogEventIds.Runner + 3, Level = LogLevel.Debug, Message = "Migration lock acquired after {WaitMilliseconds} ms")]
    public static partial void MigrationLockAcquired(ILogger logger, long waitMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Runner + 4, Level = LogLevel.Debug, Message = "Skipping migration {Order} ({Name}): already completed")]
    public static partial void SkippedCompleted(ILogger logger, long order, string name);

    [LoggerMessage(EventId = LogEventIds.Runner + 5, Level = LogLevel.Debug, Message = "Skipping migration {Order} ({Name}): disabled")]
    public static partial void SkippedDisabled(ILogger logger, long order, string name);

    [LoggerMessage(EventId = LogEventIds.Runner + 6, Level = LogLevel.Warning, Message = "Migration {Order} ({Name}) is disabled but has the persisted status {PersistedStatus}: it ran before, check that a later migration supersedes it")]
    public static partial void DisabledButPersisted(ILogger logger, long order, string name, string persistedStatus);

    [LoggerMessage(EventId = LogEventIds.Runner + 7, Level = LogLevel.Information, Message = "Nothing to migrate: all {EnabledCount} enabled migration(s) are completed")]
    public static partial void NothingToRun(ILogger logger, int enabledCount);

    [LoggerMessage(EventId = LogEventIds.Runner + 8, Level = LogLevel.Information, Message = "{RunCount} migration(s) to run, from order {FirstOrder} to {LastOrder}")]
    public static partial void MigrationsToRun(ILogger logger, int runCount, long firstOrder, long lastOrder);

    [LoggerMessage(EventId = LogEventIds.Runner + 9, Level = LogLevel.Information, Message = "Migration {Order} ({Name}) started (previous status {PreviousStatus})")]
    public static partial void MigrationStarted(ILogger logger, long order, string name, string previousStatus);

    [LoggerMessage(EventId = LogEventIds.Runner + 10, Level = LogLevel.Information, Message = "Migration {Order} ({Name}) completed in {ElapsedMilliseconds} ms")]
    public static partial void MigrationCompleted(ILogger logger, long order, string name, long elapsedMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Runner + 11, Level = LogLevel.Error, Message = "Migration {Order} ({Name}) failed after {ElapsedMilliseconds} ms")]
    public static partial void MigrationFailed(ILogger logger, Exception exception, long order, string name, long elapsedMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Runner + 12, Level = LogLevel.Warning, Message = "Migration lock heartbeat failed ({FailureCount} consecutive failure(s), {RetryCount} tolerated)")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception, int failureCount, int retryCount);

    [LoggerMessage(EventId = LogEventIds.Runner + 13, Level = LogLevel.Error, Message = "Migration lock heartbeat gave up after {FailureCount} consecutive failure(s); cancelling the run")]
    public static partial void HeartbeatGaveUp(ILogger logger, int failureCount);

    [LoggerMessage(EventId = LogEventIds.Runner + 14, Level = LogLevel.Error, Message = "Failed to release the {LockName} lock; another runner may have to wait for it to expire")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string lockName);

    [LoggerMessage(EventId = LogEventIds.Runner + 15, Level = LogLevel.Information, Message = "Migration run completed: {RunCount} migration(s) applied in {ElapsedMilliseconds} ms")]
    public static partial void RunCompleted(ILogger logger, int runCount, long elapsedMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Runner + 16, Level = LogLevel.Error, Message = "Migration {Operation} failed after {ElapsedMilliseconds} ms: {Reason}")]
    public static partial void RunFailed(ILogger logger, string operation, long elapsedMilliseconds, string reason);

    [LoggerMessage(EventId = LogEventIds.Runner + 17, Level = LogLevel.Debug, Message = "Migration plan made in {ElapsedMilliseconds} ms")]
    public static partial void PlanMade(ILogger logger, long elapsedMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Runner + 18, Level = LogLevel.Warning, Message = "The database has migration(s) {NewerOrders} applied by a newer build (this build knows orders up to {HighestOrder}); starting without them, as MIGRATION_ALLOW_NEWER_MIGRATIONS allows, and applying nothing below them")]
    public static partial void NewerMigrationsTolerated(ILogger logger, string newerOrders, long highestOrder);

    [LoggerMessage(EventId = LogEventIds.Runner + 19, Level = LogLevel.Debug, Message = "Leaving out migration {Order} ({Name}): it is written for {MigrationDatabase}, the manager's database is {ManagerDatabase}")]
    public static partial void SkippedOtherDatabase(ILogger logger, long order, string name, string migrationDatabase, string managerDatabase);

    [LoggerMessage(EventId = LogEventIds.Runner + 20, Level = LogLevel.Debug, Message = "Statuses read without locks: every persisted status is COMPLETED and nothing is to run; no lock taken")]
    public static partial void NothingToRunWithoutLocks(ILogger logger);

    [LoggerMessage(EventId = LogEventIds.Runner + 21, Level = LogLevel.Debug, Message = "Reading the statuses without locks failed; taking the locks and reading them again")]
    public static partial void ReadWithoutLocksFailed(ILogger logger, Exception exception);
}
