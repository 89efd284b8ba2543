using Microsoft.Extensions.Logging;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

// The command line's log lines (MigrationCommandLine): in the runner's range, from 1100.
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Runner + 101, Level = LogLevel.Warning, Message = "The unlock command released a live migration lease by force (--force); it was {Lease}. Its runner can no longer commit a migration and stops at its next heartbeat")]
    public static partial void LiveLeaseReleasedByForce(ILogger logger, string lease);

    [LoggerMessage(EventId = LogEventIds.Runner + 102, Level = LogLevel.Information, Message = "The unlock command released an expired migration lease; it was {Lease}")]
    public static partial void ExpiredLeaseReleased(ILogger logger, string lease);
}
