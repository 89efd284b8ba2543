using Microsoft.Data.Sqlite;
using Npgsql;
using SourceGenMigrations.IntegrationTests;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.SqlFiles.Tests;

/// <summary>
/// The SQL files in <c>Migrations/</c> and the methods of <see cref="Migrations"/>, in one generated table, migrating a
/// real SQLite and PostgreSQL database.
/// </summary>
public sealed class SqlFileMigrationsTests
{
    private static readonly MigrationOptions Options = new() { ConfigProvider = static () => new MigrationConfig() };

    [Fact]
    public void The_table_holds_files_and_methods_by_order_with_their_flags_databases_and_checksums()
    {
        Assert.Equal(
            [
                (1L, "Migrations/0001_create_users.sql", true, true, (string?)null),
                (2L, "SourceGenMigrations.SqlFiles.Tests.Migrations.AddUserFromCode", true, true, null),
                (3L, "Migrations/0003_add_indexes.postgresql.sql", true, false, "postgresql"),
                (4L, "Migrations/0004_add_index.sqlite.sql", true, true, "sqlite"),
                (5L, "Migrations/0005_functions.postgresql.sql", true, true, "postgresql"),
                (6L, "Migrations/0006_retired.sql", false, true, null),
                (7L, "SourceGenMigrations.SqlFiles.Tests.Migrations.LowerEmails", true, true, null),
                (8L, "Migrations/more/0008_notes.sql", true, true, null),
                (9L, "Migrations/0009_audit.sql", true, false, null),
            ],
            GeneratedMigrations.Registrations.Select(r => (r.Order, r.Name!, r.Enabled, r.Transactional, r.SqlDialect)));
        Assert.All(GeneratedMigrations.Registrations, r => Assert.Equal(r.Name!.EndsWith(".sql", StringComparison.Ordinal), r.Checksum is { Length: 64 }));
    }

    [Fact]
    public async Task Sqlite_runs_its_files_and_the_methods_in_order_then_nothing_and_refuses_an_edited_completed_file()
    {
        var path = Path.Combine(Path.GetTempPath(), "sgm-sql-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var connectionString = "Data Source=" + path + ";Pooling=False";
            await using (var manager = new SqliteMigrationManager(connectionString))
            {
                await GeneratedMigrations.RunAsync(manager, Options);
            }

            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync();
            Assert.Equal(["1 ada@example.com", "2 semi;colon@example.com", "3 code@example.com"], await Rows(connection, "SELECT id || ' ' || email FROM users ORDER BY id"));
            Assert.Equal(["users_email"], await Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND name NOT LIKE 'sqlite_%'"));
            Assert.Equal(["it's -- not a comment; /* nor this */"], await Rows(connection, "SELECT body FROM notes"));
            Assert.Equal(["9"], await Rows(connection, "SELECT id FROM audit"));

            // The PostgreSQL files and the disabled one did not run; each file's checksum is stored with its status.
            Assert.Equal(
                ["1 COMPLETED sql", "2 COMPLETED", "4 COMPLETED sql", "7 COMPLETED", "8 COMPLETED sql", "9 COMPLETED sql"],
                await Rows(connection, "SELECT migration_order || ' ' || status || CASE WHEN length(checksum) = 64 THEN ' sql' ELSE '' END FROM migration_status ORDER BY migration_order"));

            await AssertSecondRunAndEditedFile(() => new SqliteMigrationManager(connectionString));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [PostgresFact]
    public async Task PostgreSql_runs_its_files_with_a_concurrent_index_and_dollar_quoted_bodies_then_nothing_and_refuses_an_edited_completed_file()
    {
        var connectionString = await PostgresServer.Instance.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var manager = new PostgreSqlMigrationManager(dataSource))
        {
            await GeneratedMigrations.RunAsync(manager, Options);
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(["1 ada@example.com", "2 semi;colon@example.com", "3 code@example.com"], await Rows(connection, "SELECT id || ' ' || email FROM users ORDER BY id"));

        // Both indexes built concurrently, each statement alone, and valid.
        Assert.Equal(["users_email True", "users_id_email True"], await Rows(connection, "SELECT c.relname || ' ' || CASE WHEN i.indisvalid THEN 'True' ELSE 'False' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = 'users' AND NOT i.indisprimary ORDER BY 1"));
        Assert.Equal(["3"], await Rows(connection, "SELECT user_count()::text"));
        Assert.Equal(["hello; you"], await Rows(connection, "SELECT greet('you')"));
        Assert.Equal(["it's -- not a comment; /* nor this */"], await Rows(connection, "SELECT body FROM notes"));
        Assert.Equal(
            ["1 COMPLETED sql", "2 COMPLETED", "3 COMPLETED sql", "5 COMPLETED sql", "7 COMPLETED", "8 COMPLETED sql", "9 COMPLETED sql"],
            await Rows(connection, "SELECT migration_order || ' ' || status || CASE WHEN length(checksum) = 64 THEN ' sql' ELSE '' END FROM public.migration_status ORDER BY migration_order"));

        await AssertSecondRunAndEditedFile(() => new PostgreSqlMigrationManager(dataSource));
    }

    /// <summary>
    /// A second run runs nothing; a build whose completed file 1 has other content (another checksum) stops before
    /// running anything, naming the file.
    /// </summary>
    private static async Task AssertSecondRunAndEditedFile(Func<IMigrationManager> createManager)
    {
        var plan = await WithManager(createManager, manager => GeneratedMigrations.PlanAsync(manager, Options));
        Assert.True(plan.IsUpToDate, plan.ToString());
        await WithManager(createManager, manager => GeneratedMigrations.RunAsync(manager, Options));

        var ran = false;
        var edited = GeneratedMigrations.Registrations
            .Select(r => r.Order != 1 ? r : new MigrationRegistration(1, (_, _) => { ran = true; return Task.CompletedTask; }, name: r.Name) { Checksum = new string('0', 64) })
            .Append(new MigrationRegistration(10, (_, _) => { ran = true; return Task.CompletedTask; }))
            .ToList();
        const string Changed = "found completed SQL migration(s) whose file changed since they ran: 1 (Migrations/0001_create_users.sql)";
        var error = await Assert.ThrowsAsync<MigrationException>(() => WithManager(createManager, manager => MigrationRunner.RunAsync(manager, edited, Options)));
        Assert.Contains(Changed, error.Message, StringComparison.Ordinal);
        Assert.False(ran);

        // The read-only plan (IMigrationOperations) reads the checksums too, and tells the same.
        var editedPlan = await WithManager(createManager, manager => MigrationRunner.PlanAsync(manager, edited, Options));
        Assert.Contains(Changed, editedPlan.Error?.Message, StringComparison.Ordinal);
    }

    private static async Task<T> WithManager<T>(Func<IMigrationManager> createManager, Func<IMigrationManager, Task<T>> action)
    {
        var manager = createManager();
        try
        {
            return await action(manager);
        }
        finally
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }
    }

    private static async Task WithManager(Func<IMigrationManager> createManager, Func<IMigrationManager, Task> action) =>
        await WithManager(createManager, async manager => { await action(manager); return true; });

    private static async Task<List<string>> Rows(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return rows;
    }
}

/// <summary>A fact that needs PostgreSQL: skipped with the reason when it cannot be started, unless SGM_REQUIRE_POSTGRES=1.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!PostgresServer.Required && PostgresServer.UnavailableReason is { } reason)
        {
            Skip = "PostgreSQL unavailable: " + reason;
        }
    }
}
