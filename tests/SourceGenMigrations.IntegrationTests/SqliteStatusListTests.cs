using System.Globalization;
using System.Text;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// The SQLite manager lists the statuses as one aggregated value (one row instead of one per migration, the cost of
/// every start) and falls back to reading row by row whenever that value holds anything unusual, so that the error
/// names the row. These tests pin both paths on real database files.
/// </summary>
public sealed class SqliteStatusListTests
{
    private static async Task<IReadOnlyList<PersistedStatus>> ListAsync(SqliteTarget db)
    {
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        return await manager.ListStatusesAsync(CancellationToken.None);
    }

    // A table made by hand in the first release's shape is upgraded in place first, as every run does.
    private static async Task<InvalidDataException> ListFailsAsync(SqliteTarget db)
    {
        await using var manager = new SqliteMigrationManager(db.ConnectionString);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        return await Assert.ThrowsAsync<InvalidDataException>(() => manager.ListStatusesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_empty_table_lists_nothing()
    {
        await using var db = new SqliteTarget();

        Assert.Empty(await ListAsync(db));
    }

    [Fact]
    public async Task Every_status_and_the_extreme_orders_round_trip()
    {
        await using var db = new SqliteTarget();
        await using (var manager = new SqliteMigrationManager(db.ConnectionString))
        {
            await manager.EnsureDataStoresAsync(CancellationToken.None);
            await manager.PersistStatusAsync(long.MaxValue, MigrationStatus.Pending, CancellationToken.None);
            await manager.PersistStatusAsync(0, MigrationStatus.Completed, CancellationToken.None);
            await manager.PersistStatusAsync(999_999_999_999, MigrationStatus.Failed, CancellationToken.None);
            await manager.PersistStatusAsync(10, MigrationStatus.Started, CancellationToken.None);
        }

        Assert.Equal(
            [
                new PersistedStatus(0, MigrationStatus.Completed),
                new PersistedStatus(10, MigrationStatus.Started),
                new PersistedStatus(999_999_999_999, MigrationStatus.Failed),
                new PersistedStatus(long.MaxValue, MigrationStatus.Pending),
            ],
            await ListAsync(db));
    }

    [Fact]
    public async Task Ten_thousand_rows_are_listed_whole_and_in_order()
    {
        await using var db = new SqliteTarget();
        await ListAsync(db);
        var values = new StringBuilder();
        for (var order = 10_000; order >= 1; order--)
        {
            var status = (order % 4) switch { 0 => "COMPLETED", 1 => "PENDING", 2 => "STARTED", _ => "FAILED" };
            values.Append(CultureInfo.InvariantCulture, $"{(values.Length == 0 ? "" : ",")}({order * 3}, '{status}', 'now')");
        }

        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} (migration_order, status, updated_at) VALUES {values}");

        var statuses = await ListAsync(db);

        Assert.Equal(10_000, statuses.Count);
        Assert.Equal(Enumerable.Range(1, 10_000).Select(i => (long)i * 3), statuses.Select(s => s.Order));
        Assert.Equal(
            Enumerable.Range(1, 10_000).Select(i => (i % 4) switch { 0 => MigrationStatus.Completed, 1 => MigrationStatus.Pending, 2 => MigrationStatus.Started, _ => MigrationStatus.Failed }),
            statuses.Select(s => s.Status));
    }

    [Fact]
    public async Task A_status_table_made_by_hand_without_a_rowid_order_is_listed_in_order()
    {
        await using var db = new SqliteTarget();
        await db.ExecuteAsync(
            $"CREATE TABLE {db.StatusTable} (migration_order INTEGER NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (migration_order DESC)) WITHOUT ROWID");
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} VALUES (1, 'COMPLETED', 'x'), (3, 'FAILED', 'x'), (2, 'STARTED', 'x')");

        Assert.Equal(
            [new PersistedStatus(1, MigrationStatus.Completed), new PersistedStatus(2, MigrationStatus.Started), new PersistedStatus(3, MigrationStatus.Failed)],
            await ListAsync(db));
    }

    [Theory]
    [InlineData("1.5", "migration_order = '1.5', which is not an integer")]
    [InlineData("'abc'", "migration_order = 'abc', which is not an integer")]
    [InlineData("NULL", "migration_order = NULL, which is not an integer")]
    [InlineData("-2", "migration_order = -2 is invalid")]
    public async Task An_order_that_is_not_a_non_negative_integer_is_an_error_naming_it(string order, string expected)
    {
        await using var db = new SqliteTarget();

        // A table created by hand, without the manager's INTEGER PRIMARY KEY, can hold anything.
        await db.ExecuteAsync($"CREATE TABLE {db.StatusTable} (migration_order, status TEXT, updated_at TEXT)");
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} VALUES (1, 'COMPLETED', 'x'), ({order}, 'COMPLETED', 'x')");

        var error = await ListFailsAsync(db);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(db.StatusTable, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'completed'", "'completed'")]
    [InlineData("'COMPLETED '", "'COMPLETED '")]
    [InlineData("NULL", "NULL")]
    [InlineData("3", "'3'")]
    public async Task A_status_that_is_not_one_of_the_four_texts_is_an_error_naming_the_row(string status, string shown)
    {
        await using var db = new SqliteTarget();
        await db.ExecuteAsync($"CREATE TABLE {db.StatusTable} (migration_order INTEGER PRIMARY KEY, status, updated_at TEXT)");
        await db.ExecuteAsync($"INSERT INTO {db.StatusTable} VALUES (1, 'COMPLETED', 'x'), (4, {status}, 'x'), (5, 'PENDING', 'x')");

        var error = await ListFailsAsync(db);

        Assert.Contains("migration_order = 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("the status " + shown, error.Message, StringComparison.Ordinal);
    }
}
