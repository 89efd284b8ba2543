using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Hosting;

/// <summary>The hosting integration's log lines (ids in <see cref="LogEventIds.Hosting"/>'s range), category <c>SourceGenMigrations</c>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Hosting + 1, Level = LogLevel.Information, Message = "Waiting for another runner to complete the migrations: {Waiting} (mode WaitForCompletion: this replica never migrates; reading the statuses every {PollInterval})")]
    public static partial void WaitingForMigrations(ILogger logger, string waiting, TimeSpan pollInterval);

    [LoggerMessage(EventId = LogEventIds.Hosting + 2, Level = LogLevel.Information, Message = "Every enabled migration is completed (waited {ElapsedMilliseconds} ms): this replica is ready")]
    public static partial void WaitCompleted(ILogger logger, long elapsedMilliseconds);

    [LoggerMessage(EventId = LogEventIds.Hosting + 3, Level = LogLevel.Error, Message = "Waiting for the migrations failed, stopping the host: {Reason}")]
    public static partial void WaitFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEventIds.Hosting + 4, Level = LogLevel.Warning, Message = "Migration {Order} ({Name}) is FAILED and no runner holds the migration lease; waiting up to the lease duration ({LeaseDuration}) for a retry")]
    public static partial void FailedWithoutLease(ILogger logger, long order, string name, TimeSpan leaseDuration);

    [LoggerMessage(EventId = LogEventIds.Hosting + 5, Level = LogLevel.Error, Message = "The database is not up to date with this build (mode Verify); what a run would do:\n{Plan}")]
    public static partial void VerifyFailed(ILogger logger, string plan);

    [LoggerMessage(EventId = LogEventIds.Hosting + 6, Level = LogLevel.Information, Message = "The database is up to date with this build (mode Verify)")]
    public static partial void VerifyPassed(ILogger logger);
}
