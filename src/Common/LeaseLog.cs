using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Internal;

/// <summary>The migration lease's log lines, the same for every manager (ids in <see cref="LogEventIds.Lease"/>'s range).</summary>
internal static partial class LeaseLog
{
    [LoggerMessage(EventId = LogEventIds.Lease + 1, Level = LogLevel.Information, Message = "Waiting for the migration lease in {Table}: held by {HolderOwnerId} until {ExpiresAt:O} (this runner is {OwnerId}; polling every {PollInterval})")]
    public static partial void WaitingForLease(ILogger logger, string table, string holderOwnerId, DateTimeOffset expiresAt, string ownerId, TimeSpan pollInterval);

    [LoggerMessage(EventId = LogEventIds.Lease + 2, Level = LogLevel.Information, Message = "Took the migration lease in {Table} as {OwnerId} until {ExpiresAt:O}")]
    public static partial void LeaseTaken(ILogger logger, string table, string ownerId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = LogEventIds.Lease + 3, Level = LogLevel.Error, Message = "Lost the migration lease in {Table}: this runner is {OwnerId}, the lease is {Holder}")]
    public static partial void LeaseLost(ILogger logger, string table, string ownerId, string holder);

    [LoggerMessage(EventId = LogEventIds.Lease + 4, Level = LogLevel.Debug, Message = "Extended the migration lease in {Table} held by {OwnerId} until {ExpiresAt:O}")]
    public static partial void LeaseExtended(ILogger logger, string table, string ownerId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = LogEventIds.Lease + 5, Level = LogLevel.Information, Message = "Released the migration lease in {Table} held by {OwnerId}")]
    public static partial void LeaseReleased(ILogger logger, string table, string ownerId);

    [LoggerMessage(EventId = LogEventIds.Lease + 6, Level = LogLevel.Information, Message = "Waiting for the migration lease in {Table}: the database is busy, another runner's migration holds its write lock (this runner is {OwnerId}; polling every {PollInterval})")]
    public static partial void WaitingForBusyDatabase(ILogger logger, string table, string ownerId, TimeSpan pollInterval);

    [LoggerMessage(EventId = LogEventIds.Lease + 7, Level = LogLevel.Debug, Message = "The migration lease in {Table} held by {OwnerId} is kept by the running migration's transaction (extended when it commits)")]
    public static partial void LeaseKeptByTransaction(ILogger logger, string table, string ownerId);
}
