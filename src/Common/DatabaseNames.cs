using System.Globalization;

namespace SourceGenMigrations.Internal;

/// <summary>
/// Names the database in a provider's error when a connection cannot be opened: "unable to open database file" or
/// "password authentication failed" alone do not say which database. The text reaches <c>MigrationException.Message</c>
/// and a health check, so it holds the provider's first line only (details below it may carry row data) and never a
/// password: every manager builds the name from the host (or file), port and database alone.
/// </summary>
internal static class DatabaseNames
{
    /// <summary>The database a server-based manager talks to, e.g. <c>PostgreSQL database 'shop' on host 'db' port 5432</c>.</summary>
    public static string Server(string product, string? database, string? host, long port) =>
        string.Create(CultureInfo.InvariantCulture, $"{product} database '{database}' on host '{host}' port {port}");

    /// <summary>The provider's message (its first line) followed by the database in parentheses.</summary>
    public static string Name(string providerMessage, string database)
    {
        var text = providerMessage.Trim();
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return $"{(end < 0 ? text : text[..end].TrimEnd())} ({database})";
    }
}
