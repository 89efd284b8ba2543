using Npgsql;

namespace SourceGenMigrations.PostgreSql;

/// <summary>The PostgreSQL manager's connection, typed, for a running migration.</summary>
public static class PostgreSqlMigrationContextExtensions
{
    /// <summary>
    /// The <see cref="NpgsqlConnection"/> that <see cref="PostgreSqlMigrationManager"/> serves to the running migration:
    /// inside the migration's transaction when it is transactional (commands made on it join it with nothing to set),
    /// without one when it is not. Owned by the manager: do not dispose, commit or roll back.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The migration does not run on a PostgreSQL manager.</exception>
    public static NpgsqlConnection GetNpgsqlConnection(this MigrationContext context) => context.GetRequiredService<NpgsqlConnection>();
}
