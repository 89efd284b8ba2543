using SourceGenMigrations;

namespace SourceGenMigrations.Sample;

/// <summary>
/// Runs SQL on the connection the running manager serves (<see cref="MigrationContextExtensions.GetDbConnection"/>):
/// the SQLite manager's open <c>SqliteConnection</c>, the PostgreSQL manager's <c>NpgsqlConnection</c> of the
/// migration. A transactional migration's transaction is already active on it, so the command joins it and commits with
/// the migration's COMPLETED status.
/// </summary>
internal static class SampleDatabase
{
    public static async Task ExecuteAsync(MigrationContext context, string sql, CancellationToken cancellationToken)
    {
        // The manager owns the connection: use it, do not dispose it, do not begin or end a transaction on it.
        var command = context.GetDbConnection().CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
