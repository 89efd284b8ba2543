using SourceGenMigrations;

namespace SourceGenMigrations.Sample;

/// <summary>
/// The sample's schema: a small shop. Each migration is transactional (the default): its statements and its COMPLETED
/// status commit together, so a crash at any moment leaves it applied exactly once. The SQL is portable between SQLite
/// and PostgreSQL, with a MySQL/MariaDB form where that dialect differs; <see cref="SampleDatabase"/> runs it on the
/// connection the running manager serves. On MySQL and MariaDB the DDL commits implicitly, so the migrations that create
/// tables are written to be idempotent (they are on every database) and the manager logs that they were not atomic; the
/// seed data (DML only) commits with its status exactly once there too.
/// </summary>
public static class Migrations
{
    [Migration(Order = 1)]
    public static Task CreateCustomers(MigrationContext context, CancellationToken cancellationToken) =>
        SampleDatabase.ExecuteAsync(context, """
            CREATE TABLE IF NOT EXISTS customers (
                id BIGINT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL
            )
            """, cancellationToken, mySql: """
            CREATE TABLE IF NOT EXISTS customers (
                id BIGINT PRIMARY KEY,
                email VARCHAR(320) NOT NULL UNIQUE,
                display_name TEXT NOT NULL
            )
            """);

    [Migration(Order = 2)]
    public static Task CreateOrders(MigrationContext context, CancellationToken cancellationToken) =>
        SampleDatabase.ExecuteAsync(context, """
            CREATE TABLE IF NOT EXISTS orders (
                id BIGINT PRIMARY KEY,
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                total_cents BIGINT NOT NULL CHECK (total_cents >= 0),
                placed_at TEXT NOT NULL
            )
            """, cancellationToken, mySql: """
            CREATE TABLE IF NOT EXISTS orders (
                id BIGINT PRIMARY KEY,
                customer_id BIGINT NOT NULL,
                total_cents BIGINT NOT NULL CHECK (total_cents >= 0),
                placed_at TEXT NOT NULL,
                FOREIGN KEY (customer_id) REFERENCES customers (id)
            )
            """);

    [Migration(Order = 3)]
    public static async Task IndexOrdersByCustomer(MigrationContext context, CancellationToken cancellationToken)
    {
        // MySQL has no CREATE INDEX IF NOT EXISTS: idempotent by a look at information_schema first.
        if (SampleDatabase.IsMySql(context) && await SampleDatabase.ScalarAsync(context, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' AND INDEX_NAME = 'ix_orders_customer_id'", cancellationToken).ConfigureAwait(false) > 0)
        {
            return;
        }

        await SampleDatabase.ExecuteAsync(context, "CREATE INDEX IF NOT EXISTS ix_orders_customer_id ON orders (customer_id)", cancellationToken,
            mySql: "CREATE INDEX ix_orders_customer_id ON orders (customer_id)").ConfigureAwait(false);
    }

    [Migration(Order = 4)]
    public static Task SeedDemoData(MigrationContext context, CancellationToken cancellationToken) =>
        SampleDatabase.ExecuteAsync(context, """
            INSERT INTO customers (id, email, display_name) VALUES
                (1, 'ada@example.com', 'Ada'),
                (2, 'grace@example.com', 'Grace')
            ON CONFLICT (id) DO NOTHING;
            INSERT INTO orders (id, customer_id, total_cents, placed_at) VALUES
                (1, 1, 1250, '2026-01-05'),
                (2, 1, 300, '2026-02-11'),
                (3, 2, 9900, '2026-03-02')
            ON CONFLICT (id) DO NOTHING
            """, cancellationToken, mySql: """
            INSERT INTO customers (id, email, display_name) VALUES
                (1, 'ada@example.com', 'Ada'),
                (2, 'grace@example.com', 'Grace')
            ON DUPLICATE KEY UPDATE id = id;
            INSERT INTO orders (id, customer_id, total_cents, placed_at) VALUES
                (1, 1, 1250, '2026-01-05'),
                (2, 1, 300, '2026-02-11'),
                (3, 2, 9900, '2026-03-02')
            ON DUPLICATE KEY UPDATE id = id
            """);

    /// <summary>The first take on customer statistics, superseded by <see cref="BackfillCustomerStatistics"/>: disabled, its order stays reserved.</summary>
    [Migration(Order = 5, Enabled = false)]
    public static Task CustomerOrderCountsV1(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("Disabled migrations never run.");

    /// <summary>A backfill that needs the orders of migration 2: one row of statistics per customer.</summary>
    [Migration(Order = 6)]
    public static async Task BackfillCustomerStatistics(MigrationContext context, CancellationToken cancellationToken)
    {
        await SampleDatabase.ExecuteAsync(context, """
            CREATE TABLE IF NOT EXISTS customer_statistics (
                customer_id BIGINT PRIMARY KEY REFERENCES customers (id),
                order_count BIGINT NOT NULL,
                total_cents BIGINT NOT NULL
            )
            """, cancellationToken, mySql: """
            CREATE TABLE IF NOT EXISTS customer_statistics (
                customer_id BIGINT PRIMARY KEY,
                order_count BIGINT NOT NULL,
                total_cents BIGINT NOT NULL,
                FOREIGN KEY (customer_id) REFERENCES customers (id)
            )
            """).ConfigureAwait(false);
        await SampleDatabase.ExecuteAsync(context, """
            INSERT INTO customer_statistics (customer_id, order_count, total_cents)
            SELECT customer_id, COUNT(*), SUM(total_cents) FROM orders WHERE TRUE GROUP BY customer_id
            ON CONFLICT (customer_id) DO UPDATE SET order_count = excluded.order_count, total_cents = excluded.total_cents
            """, cancellationToken, mySql: """
            INSERT INTO customer_statistics (customer_id, order_count, total_cents)
            SELECT customer_id, COUNT(*), SUM(total_cents) FROM orders GROUP BY customer_id
            ON DUPLICATE KEY UPDATE order_count = VALUES(order_count), total_cents = VALUES(total_cents)
            """).ConfigureAwait(false);
    }
}
