using MySqlConnector;
using SourceGenMigrations;

namespace SourceGenMigrations.Sample;

/// <summary>
/// Runs SQL on the connection the running manager serves (<see cref="MigrationContextExtensions.GetDbConnection"/>):
/// the SQLite manager's open <c>SqliteConnection</c>, the PostgreSQL manager's <c>NpgsqlConnection</c> or the MySQL
/// manager's <c>MySqlConnection</c> of the migration. A transactional migration's transaction is already active on it, so
/// the command joins it and commits with the migration's COMPLETED status (on MySQL and MariaDB, DDL commits it
/// implicitly: such a migration is idempotent, and the manager says it was not atomic).
/// </summary>
internal static class SampleDatabase
{
    /// <summary>Runs <paramref name="sql"/>, or <paramref name="mySql"/> on MySQL and MariaDB when their dialect differs.</summary>
    public static async Task ExecuteAsync(MigrationContext context, string sql, CancellationToken cancellationToken, string? mySql = null)
    {
        // The manager owns the connection: use it, do not dispose it, do not begin or end a transaction on it.
        var connection = context.GetDbConnection();
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = mySql is not null && IsMySql(context) ? mySql : sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the migration runs on MySQL or MariaDB.</summary>
    public static bool IsMySql(MigrationContext context) => context.GetDbConnection() is MySqlConnection;

    /// <summary>The first column of the first row of <paramref name="sql"/>'s result, as a number.</summary>
    public static async Task<long> ScalarAsync(MigrationContext context, string sql, CancellationToken cancellationToken)
    {
        var command = context.GetDbConnection().CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
