using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

/// <summary>The PostgreSQL manager's own log lines (ids in <see cref="LogEventIds.PostgreSql"/>'s range; the lease's are shared).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.PostgreSql + 1, Level = LogLevel.Information, Message = "Waiting for the database lock (advisory lock {Key}) on {DataSource}: another runner is creating or upgrading the migration tables")]
    public static partial void WaitingForDbLock(ILogger logger, long key, string dataSource);

    [LoggerMessage(EventId = LogEventIds.PostgreSql + 2, Level = LogLevel.Debug, Message = "Took the database lock (advisory lock {Key}, transaction-scoped) on {DataSource}")]
    public static partial void DbLockTaken(ILogger logger, long key, string dataSource);

    [LoggerMessage(EventId = LogEventIds.PostgreSql + 3, Level = LogLevel.Information, Message = "Created the functions {Schema}.{ChecksFunction} and {Schema}.{CompleteFunction} (a migration's checks and its COMPLETED, with plans PostgreSQL keeps per session)")]
    public static partial void FunctionsCreated(ILogger logger, string schema, string checksFunction, string completeFunction);
}
