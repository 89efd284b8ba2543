namespace SourceGenMigrations;

/// <summary>
/// A manager that says which database it migrates, so that the runner runs only the migrations written for that database
/// (<see cref="MigrationRegistration.SqlDialect"/>; a SQL file named <c>0003_add_index.postgresql.sql</c>) and those for
/// every database. The shipped managers implement it.
/// </summary>
/// <remarks>
/// A manager that does not implement it runs only the migrations for every database: the runner cannot tell which of
/// the others it could run.
/// </remarks>
public interface IMigrationSqlDialect
{
    /// <summary>The database, one of <see cref="MigrationSqlDialects"/> (compared ignoring case).</summary>
    string SqlDialect { get; }
}

/// <summary>The names of the databases a migration can be written for: the suffix of a SQL file before <c>.sql</c>.</summary>
public static class MigrationSqlDialects
{
    /// <summary>PostgreSQL (<c>0003_x.postgresql.sql</c>).</summary>
    public const string PostgreSql = "postgresql";

    /// <summary>SQLite (<c>0003_x.sqlite.sql</c>).</summary>
    public const string Sqlite = "sqlite";

    /// <summary>MySQL and MariaDB (<c>0003_x.mysql.sql</c>).</summary>
    public const string MySql = "mysql";
}
