using Microsoft.Data.Sqlite;

namespace SourceGenMigrations.Sqlite;

/// <summary>The SQLite manager's connection, typed, for a running migration.</summary>
public static class SqliteMigrationContextExtensions
{
    /// <summary>
    /// The <see cref="SqliteConnection"/> that <see cref="SqliteMigrationManager"/> serves: inside the migration's
    /// transaction when it is transactional (commands made on it join it with nothing to set). Owned by the manager: do
    /// not dispose it, and do not begin, commit or roll back a transaction on it in a transactional migration.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The migration does not run on a SQLite manager.</exception>
    public static SqliteConnection GetSqliteConnection(this MigrationContext context) => context.GetRequiredService<SqliteConnection>();
}
