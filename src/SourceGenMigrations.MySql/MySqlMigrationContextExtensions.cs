using MySqlConnector;

namespace SourceGenMigrations.MySql;

/// <summary>The MySQL manager's connection and transaction, typed, for a running migration.</summary>
public static class MySqlMigrationContextExtensions
{
    /// <summary>
    /// The <see cref="MySqlConnection"/> that <see cref="MySqlMigrationManager"/> serves to the running migration: inside
    /// the migration's transaction when it is transactional (commands made on it join it with nothing to set when the
    /// data source has <c>IgnoreCommandTransaction=true</c>, as the manager's own does), without one when it is not.
    /// Owned by the manager: do not dispose, commit or roll back. DDL on it commits the transaction implicitly (a MySQL
    /// rule): see the package README for what a transactional migration then promises.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The migration does not run on a MySQL manager.</exception>
    public static MySqlConnection GetMySqlConnection(this MigrationContext context) => context.GetRequiredService<MySqlConnection>();

    /// <summary>
    /// The <see cref="MySqlTransaction"/> a transactional migration runs in, for <see cref="MySqlCommand.Transaction"/>
    /// when the data source does not set <c>IgnoreCommandTransaction=true</c>. Owned by the manager: do not commit,
    /// roll back or dispose it.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The migration is not transactional, or does not run on a MySQL manager.</exception>
    public static MySqlTransaction GetMySqlTransaction(this MigrationContext context) => context.GetRequiredService<MySqlTransaction>();
}
