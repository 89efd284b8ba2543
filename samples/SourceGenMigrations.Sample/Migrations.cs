using SourceGenMigrations;

namespace SourceGenMigrations.Sample;

/// <summary>
/// The sample's schema: a small shop. Each migration is transactional (the default): its statements and its COMPLETED
/// status commit together, so a crash at any moment leaves it applied exactly once. The SQL is portable between SQLite
/// and PostgreSQL; <see cref="SampleDatabase"/> runs it on the connection the running manager serves.
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
            """, cancellationToken);

    [Migration(Order = 2)]
    public static Task CreateOrders(MigrationContext context, CancellationToken cancellationToken) =>
        SampleDatabase.ExecuteAsync(context, """
            CREATE TABLE IF NOT EXISTS orders (
                id BIGINT PRIMARY KEY,
                customer_id BIGINT NOT NULL REFERENCES customers (id),
                total_cents BIGINT NOT NULL CHECK (total_cents >= 0),
                placed_at TEXT NOT NULL
            )
            """, cancellationToken);

    [Migration(Order = 3)]
    public static Task IndexOrdersByCustomer(MigrationContext context, CancellationToken cancellationToken) =>
        SampleDatabase.ExecuteAsync(context, "CREATE INDEX IF NOT EXISTS ix_orders_customer_id ON orders (customer_id)", cancellationToken);

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
            """, cancellationToken);

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
            """, cancellationToken).ConfigureAwait(false);
        await SampleDatabase.ExecuteAsync(context, """
            INSERT INTO customer_statistics (customer_id, order_count, total_cents)
            SELECT customer_id, COUNT(*), SUM(total_cents) FROM orders WHERE TRUE GROUP BY customer_id
            ON CONFLICT (customer_id) DO UPDATE SET order_count = excluded.order_count, total_cents = excluded.total_cents
            """, cancellationToken).ConfigureAwait(false);
    }
}
