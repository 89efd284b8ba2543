using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

/// <summary>The SQLite manager's own log lines (ids in <see cref="LogEventIds.Sqlite"/>'s range; the lease's are shared).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Sqlite + 1, Level = LogLevel.Information, Message = "Waiting for the database lock (BEGIN IMMEDIATE) on {DataSource}: another connection is writing")]
    public static partial void WaitingForDbLock(ILogger logger, string dataSource);

    [LoggerMessage(EventId = LogEventIds.Sqlite + 2, Level = LogLevel.Debug, Message = "Took the database lock (BEGIN IMMEDIATE) on {DataSource}")]
    public static partial void DbLockTaken(ILogger logger, string dataSource);
}
