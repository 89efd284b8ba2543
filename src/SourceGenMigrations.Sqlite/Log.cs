using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Sqlite;

internal static partial class Log
{
    // Event ids 1-5: the lease, in Internal.LeaseLog (shared with the other manager).
    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Waiting for the database lock (BEGIN IMMEDIATE) on {DataSource}: another connection is writing")]
    public static partial void WaitingForDbLock(ILogger logger, string dataSource);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Took the database lock (BEGIN IMMEDIATE) on {DataSource}")]
    public static partial void DbLockTaken(ILogger logger, string dataSource);
}
