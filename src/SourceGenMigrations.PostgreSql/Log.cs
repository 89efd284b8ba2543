using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.PostgreSql;

internal static partial class Log
{
    // Event ids 1-5: the lease, in Internal.LeaseLog (shared with the other manager).
    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Waiting for the database lock (advisory lock {Key}) on {DataSource}")]
    public static partial void WaitingForDbLock(ILogger logger, long key, string dataSource);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Took the database lock (advisory lock {Key}) on {DataSource}")]
    public static partial void DbLockTaken(ILogger logger, long key, string dataSource);
}
