using Microsoft.Data.Sqlite;
using Npgsql;
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
}
