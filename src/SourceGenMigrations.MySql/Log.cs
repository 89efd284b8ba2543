using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

/// <summary>The MySQL manager's own log lines (ids in <see cref="LogEventIds.MySql"/>'s range; the lease's and the unit of work's are shared).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.MySql + 1, Level = LogLevel.Information, Message = "Waiting for the database lock (GET_LOCK '{LockName}') on {Database}: another runner is creating or upgrading the migration tables")]
    public static partial void WaitingForDbLock(ILogger logger, string lockName, string database);

    [LoggerMessage(EventId = LogEventIds.MySql + 2, Level = LogLevel.Debug, Message = "Took the database lock (GET_LOCK '{LockName}', held by this connection's session) on {Database}")]
    public static partial void DbLockTaken(ILogger logger, string lockName, string database);

    [LoggerMessage(EventId = LogEventIds.MySql + 3, Level = LogLevel.Warning, Message = "Migration {Order} ({Name}) contained DDL, which MySQL commits implicitly: its statements and its COMPLETED status did not commit together; keep such migrations idempotent")]
    public static partial void CommittedImplicitly(ILogger logger, long order, string name);

    [LoggerMessage(EventId = LogEventIds.MySql + 4, Level = LogLevel.Warning, Message = "Migration {Order} ({Name}) failed after DDL, which MySQL commits implicitly: what it did up to its last DDL statement stays, and it runs again next time; keep such migrations idempotent")]
    public static partial void FailedAfterImplicitCommit(ILogger logger, long order, string name);

    [LoggerMessage(EventId = LogEventIds.MySql + 5, Level = LogLevel.Warning, Message = "The MySqlDataSource given to the manager does not set IgnoreCommandTransaction=true: a transactional migration's commands must set Transaction to the served MySqlTransaction, or MySqlConnector refuses them. Add IgnoreCommandTransaction=true to its connection string so that commands made the ordinary way join the migration's transaction")]
    public static partial void CommandTransactionChecked(ILogger logger);
}
