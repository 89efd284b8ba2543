using Npgsql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// An error about a database names it (the SQLite file, the PostgreSQL host and database) in the one-line message a
/// health check shows, with nothing secret (the password) and no row data (Npgsql's DETAIL) in it.
/// </summary>
public sealed class DatabaseNameTests
{
    private static MigrationOptions Options() => new()
    {
        ConfigProvider = () => new MigrationConfig { DeadlineMilliseconds = 60_000 },
    };

    [Fact]
    public async Task A_SQLite_file_that_cannot_be_opened_is_named_by_its_full_path()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sgm-missing-" + Guid.NewGuid().ToString("N"));
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(directory, "app.db"));
        await using var manager = new SqliteMigrationManager($"Data Source={relative}");

        var ex = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, [], Options()));

        Assert.Equal(
            $"failed to acquire the database lock: SQLite Error 14: 'unable to open database file'. (SQLite database file '{Path.Combine(directory, "app.db")}')",
            ex.Message);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task An_unreachable_PostgreSQL_server_is_named_by_host_port_and_database_without_the_password()
    {
        // Port 1 on the loopback: nothing listens there, the connection is refused at once.
        await using var manager = new PostgreSqlMigrationManager("Host=127.0.0.1;Port=1;Database=shop;Username=app;Password=hunter2-secret;Timeout=5");

        var ex = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, [], Options()));

        Assert.StartsWith("failed to acquire the database lock: ", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("(PostgreSQL database 'shop' on host '127.0.0.1' port 1)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [PostgresFact]
    public async Task A_missing_PostgreSQL_database_is_named_and_the_password_is_not()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresServer.Instance.AdminConnectionString)
        {
            Database = "sgm_no_such_database",
            Password = "hunter2-secret",
        }.ConnectionString;
        var host = new NpgsqlConnectionStringBuilder(connectionString);
        await using var manager = new PostgreSqlMigrationManager(connectionString);

        var ex = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, [], Options()));

        Assert.Equal(
            $"failed to acquire the database lock: 3D000: database \"sgm_no_such_database\" does not exist (PostgreSQL database 'sgm_no_such_database' on host '{host.Host}' port {host.Port})",
            ex.Message);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_migration_failing_on_PostgreSQL_shows_the_error_without_its_row_data()
    {
        await using var db = await PostgresTarget.CreateAsync();
        // Include Error Detail: Npgsql puts the server's DETAIL (here the duplicate key's value) into the exception's message.
        var connectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { IncludeErrorDetail = true }.ConnectionString;
        await using var manager = new PostgreSqlMigrationManager(connectionString);
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                var connection = Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection)));
                await using var command = new NpgsqlCommand("CREATE TABLE users (email text PRIMARY KEY); INSERT INTO users VALUES ('alice@example.com'), ('alice@example.com')", connection);
                await command.ExecuteNonQueryAsync(ct);
            }),
        };

        var ex = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));

        Assert.Equal("failed to complete the migration with order 1: 23505: duplicate key value violates unique constraint \"users_pkey\"", ex.Message);
        Assert.Contains("alice@example.com", Assert.IsType<PostgresException>(ex.InnerException).Detail, StringComparison.Ordinal);
    }
}
