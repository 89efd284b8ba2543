using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// A status table made by release 0.1.0 (three columns) is upgraded in place under the database lock: the new nullable
/// columns are added, every status is kept, and a replica of the earlier release can still write its rows afterwards
/// (a rolling upgrade).
/// </summary>
public sealed class UpgradeInPlaceTests
{
    private static readonly string[] AddedColumns = ["name", "applied_by", "breaks_older_builds", "checksum"];

    private static MigrationOptions Options() => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = 1_000, DeadlineMilliseconds = 60_000 },
    };

    private static MigrationRegistration[] Migrations(int count) =>
        Enumerable.Range(1, count).Select(order => new MigrationRegistration(order, DbTarget.InsertSideEffectAsync, name: "App.M" + order)).ToArray();

    [Fact]
    public async Task A_sqlite_file_written_by_release_0_1_0_is_upgraded_in_place_and_keeps_its_statuses()
    {
        await using var db = new SqliteTarget();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sqlite-written-by-0.1.0.db"), new SqliteConnectionStringBuilder(db.ConnectionString).DataSource);
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM pragma_table_info('migration_status')"));
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE status = 'COMPLETED'"));

        await using (var manager = new SqliteMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, Migrations(4), Options());
        }

        foreach (var column in AddedColumns)
        {
            Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM pragma_table_info('migration_status') WHERE name = '{column}'"));
        }

        // 1-3 ran under 0.1.0 and were not run again; 4 ran now, with its name.
        for (var order = 1; order <= 4; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Equal(4, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE status = 'COMPLETED'"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE migration_order = 4 AND name = 'App.M4'"));

        // A replica of 0.1.0 keeps writing its statuses the way it did.
        await db.ExecuteAsync(
            "INSERT INTO migration_status (migration_order, status, updated_at) VALUES (5, 'PENDING', '2026-12-03T00:00:00Z') " +
            "ON CONFLICT (migration_order) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at");
        Assert.Equal("PENDING", (await db.StatusesAsync())[5]);

        // Upgrading is done once: a second run finds the columns and adds nothing.
        await using (var again = new SqliteMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(again, Migrations(5), Options());
        }

        Assert.Equal(7, await db.CountAsync("SELECT COUNT(*) FROM pragma_table_info('migration_status')"));
    }

    [Fact]
    public async Task A_sqlite_file_of_release_0_1_0_with_nothing_to_run_is_still_upgraded()
    {
        // Every migration completed: the read without locks sees a table without the added columns and leaves the
        // start to the locks, under which the table is upgraded.
        await using var db = new SqliteTarget();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sqlite-written-by-0.1.0.db"), new SqliteConnectionStringBuilder(db.ConnectionString).DataSource);

        await using (var manager = new SqliteMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, Migrations(3), Options());
        }

        Assert.Equal(7, await db.CountAsync("SELECT COUNT(*) FROM pragma_table_info('migration_status')"));
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE status = 'COMPLETED'"));
    }

    [DbFact]
    public async Task A_postgresql_table_of_release_0_1_0_with_nothing_to_run_is_still_upgraded()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.ExecuteAsync(
            """
            CREATE TABLE "public"."migration_lock" (lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1), owner_id text NOT NULL, acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
            CREATE TABLE "public"."migration_status" (migration_order bigint NOT NULL PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO "public"."migration_status" VALUES (1, 'COMPLETED', now()), (2, 'COMPLETED', now()), (3, 'COMPLETED', now());
            """);

        await using (var manager = new PostgreSqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, Migrations(3), Options());
        }

        Assert.Equal(AddedColumns.Length, await db.CountAsync("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'migration_status' AND column_name IN ('name', 'applied_by', 'breaks_older_builds', 'checksum')"));
    }

    [DbFact]
    public async Task A_postgresql_table_made_by_release_0_1_0_is_upgraded_in_place_and_a_current_table_is_not_altered_again()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();

        // The tables exactly as release 0.1.0 created them, with three migrations it completed.
        await db.ExecuteAsync(
            """
            CREATE TABLE "public"."migration_lock" (lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1), owner_id text NOT NULL, acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
            CREATE TABLE "public"."migration_status" (migration_order bigint NOT NULL PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO side_effect VALUES (1, 'PENDING', 0), (2, 'PENDING', 0), (3, 'PENDING', 0);
            INSERT INTO "public"."migration_status" VALUES (1, 'COMPLETED', now()), (2, 'COMPLETED', now()), (3, 'COMPLETED', now());
            """);

        await using (var manager = new PostgreSqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, Migrations(4), Options());
        }

        foreach (var column in AddedColumns)
        {
            Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'migration_status' AND column_name = '{column}' AND is_nullable = 'YES'"));
        }

        for (var order = 1; order <= 4; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM public.migration_status WHERE migration_order = 4 AND name = 'App.M4' AND status = 'COMPLETED'"));
        Assert.Equal(2, await db.CountAsync("SELECT COUNT(*) FROM pg_proc WHERE proname IN ('migration_status_checks_v1', 'migration_status_complete_v1')"));

        // A replica of 0.1.0 keeps writing its statuses the way it did.
        await db.ExecuteAsync(
            "INSERT INTO public.migration_status (migration_order, status, updated_at) VALUES (5, 'PENDING', clock_timestamp()) " +
            "ON CONFLICT (migration_order) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at");

        // An upgraded table is read from the catalog, never altered again: a long reader's lock does not hold a start up.
        await using var reader = new NpgsqlConnection(db.ConnectionString);
        await reader.OpenAsync();
        await using var longRead = await reader.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE public.migration_status IN ACCESS SHARE MODE", reader, longRead))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        await using (var again = new PostgreSqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(again, Migrations(5), Options()).WaitAsync(TimeSpan.FromSeconds(8));
        }

        await longRead.RollbackAsync();
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[5]);
    }

    [MariaDbFact]
    public async Task A_MariaDb_table_of_the_first_releases_shape_is_upgraded_in_place_under_a_lock_wait_timeout_and_not_altered_again()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();

        // The status table with the first release's three columns, and three migrations it completed.
        await db.ExecuteAsync(
            """
            CREATE TABLE migration_status (migration_order BIGINT NOT NULL PRIMARY KEY, status VARCHAR(32) NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE = InnoDB;
            INSERT INTO side_effect VALUES (1, 'PENDING', 0), (2, 'PENDING', 0), (3, 'PENDING', 0);
            INSERT INTO migration_status VALUES (1, 'COMPLETED', UTC_TIMESTAMP(6)), (2, 'COMPLETED', UTC_TIMESTAMP(6)), (3, 'COMPLETED', UTC_TIMESTAMP(6));
            """);

        // A long transaction that read the table holds its metadata lock: the ALTER waits lock_wait_timeout (10 s), then
        // the run fails saying so, and nothing was changed.
        await using (var reader = new MySqlConnection(db.ConnectionString))
        {
            await reader.OpenAsync();
            await using var longRead = await reader.BeginTransactionAsync();
            await using (var read = new MySqlCommand("SELECT COUNT(*) FROM migration_status", reader, longRead))
            {
                await read.ExecuteScalarAsync();
            }

            await using var blocked = new MySqlMigrationManager(db.ConnectionString);
            var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(blocked, Migrations(4), Options()).WaitAsync(TimeSpan.FromSeconds(40)));
            Assert.Contains("Could not upgrade the status table migration_status in place", ManagerScenarios.FullText(error), StringComparison.Ordinal);
            Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_status'"));
            await longRead.RollbackAsync();
        }

        await using (var manager = new MySqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(manager, Migrations(4), Options());
        }

        foreach (var column in AddedColumns)
        {
            Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_status' AND COLUMN_NAME = '{column}' AND IS_NULLABLE = 'YES'"));
        }

        for (var order = 1; order <= 4; order++)
        {
            Assert.Equal(1, await db.SideEffectCountAsync(order));
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM migration_status WHERE migration_order = 4 AND name = 'App.M4' AND status = 'COMPLETED'"));

        // A replica of the first release keeps writing its statuses the way it did.
        await db.ExecuteAsync(
            "INSERT INTO migration_status (migration_order, status, updated_at) VALUES (5, 'PENDING', UTC_TIMESTAMP(6)) " +
            "ON DUPLICATE KEY UPDATE status = VALUES(status), updated_at = VALUES(updated_at)");

        // An upgraded table is read from information_schema, never altered again: a long reader does not hold a start up.
        await using var again = new MySqlConnection(db.ConnectionString);
        await again.OpenAsync();
        await using var stillReading = await again.BeginTransactionAsync();
        await using (var read = new MySqlCommand("SELECT COUNT(*) FROM migration_status", again, stillReading))
        {
            await read.ExecuteScalarAsync();
        }

        await using (var upgraded = new MySqlMigrationManager(db.ConnectionString))
        {
            await MigrationRunner.RunAsync(upgraded, Migrations(5), Options()).WaitAsync(TimeSpan.FromSeconds(8));
        }

        await stillReading.RollbackAsync();
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[5]);
    }
}
