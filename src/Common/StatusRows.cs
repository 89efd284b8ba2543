using System.Globalization;

namespace SourceGenMigrations.Internal;

/// <summary>Strict reading of status rows, shared by both managers.</summary>
internal static class StatusRows
{
    /// <summary>Turns one row into a <see cref="PersistedStatus"/>, or throws naming the row.</summary>
    /// <exception cref="InvalidDataException">The order is negative or the status text is not one of the four persisted forms.</exception>
    public static PersistedStatus Read(string table, long order, string? statusText)
    {
        if (order < 0)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"The row of table {table} with migration_order = {order} is invalid: a migration order must be zero or more. Fix or delete the row; nothing was run."));
        }

        if (!MigrationStatusText.TryParse(statusText, out var status))
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"The row of table {table} with migration_order = {order} has the status {(statusText is null ? "NULL" : "'" + statusText + "'")}, which is not one of {MigrationStatusText.Pending}, {MigrationStatusText.Started}, {MigrationStatusText.Failed} or {MigrationStatusText.Completed}. Fix or delete the row; nothing was run."));
        }

        return new PersistedStatus(order, status);
    }
}
