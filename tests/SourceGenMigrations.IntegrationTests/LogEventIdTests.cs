using System.Reflection;
using Microsoft.Extensions.Logging;
using SourceGenMigrations.Hosting;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// Every log message of the library has its own event id, in its component's range (runner 1000s, lease 2000s, unit of
/// work 2100s, status table 2200s, SQLite 3000s, PostgreSQL 4000s, MySQL 5000s, hosting 6000s), across all the assemblies: an
/// operator filtering on an id gets one message. Source linked into several managers is one message with one id.
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly Assembly[] Assemblies =
    [
        typeof(MigrationRunner).Assembly,
        typeof(SqliteMigrationManager).Assembly,
        typeof(PostgreSqlMigrationManager).Assembly,
        typeof(MySqlMigrationManager).Assembly,
        typeof(MigrationHealthCheck).Assembly,
    ];

    private static IEnumerable<(string Message, int Id, string Template, LogLevel Level)> Messages() =>
        from assembly in Assemblies
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select ($"{type.FullName}.{method.Name}", attribute.EventId, attribute.Message, attribute.Level);

    [Fact]
    public void No_two_log_messages_share_an_event_id_across_the_assemblies()
    {
        var messages = Messages().Distinct().ToList();
        Assert.True(messages.Count >= 25, $"found only {messages.Count} log messages: the scan is broken");

        var shared = messages.GroupBy(m => m.Id).Where(g => g.Select(m => m.Message).Distinct().Count() > 1).ToList();
        Assert.True(shared.Count == 0, "event ids used by more than one message: " + string.Join("; ", shared.Select(g => g.Key + ": " + string.Join(", ", g.Select(m => m.Message).Distinct()))));
    }

    [Fact]
    public void Each_message_is_in_its_components_range()
    {
        foreach (var (message, id, _, _) in Messages())
        {
            var range = message switch
            {
                _ when message.StartsWith("SourceGenMigrations.Internal.LeaseLog.", StringComparison.Ordinal) => 2000,
                _ when message.StartsWith("SourceGenMigrations.Internal.ManagedUnitOfWork", StringComparison.Ordinal) => 2100,
                _ when message.StartsWith("SourceGenMigrations.Internal.StatusTableSchema", StringComparison.Ordinal) => 2200,
                _ when message.StartsWith("SourceGenMigrations.Sqlite.", StringComparison.Ordinal) => 3000,
                _ when message.StartsWith("SourceGenMigrations.PostgreSql.", StringComparison.Ordinal) => 4000,
                _ when message.StartsWith("SourceGenMigrations.MySql.", StringComparison.Ordinal) => 5000,
                _ when message.StartsWith("SourceGenMigrations.Hosting.", StringComparison.Ordinal) => 6000,
                _ when message.StartsWith("SourceGenMigrations.Log.", StringComparison.Ordinal) => 1000,
                _ => throw new Xunit.Sdk.XunitException("a log message outside every known component: " + message),
            };
            var top = range is 2000 or 2100 or 2200 ? range + 100 : range + 1000;
            Assert.True(id > range && id < top, $"{message} has the event id {id}, outside {range}-{top - 1}");
        }
    }
}
