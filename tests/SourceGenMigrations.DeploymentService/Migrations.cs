using System.Globalization;
using SourceGenMigrations;

namespace Shop;

/// <summary>
/// The Shop service's migrations: V1 has 1 to 5, V2 adds 6 and 7 (compiled with SHOP_V2; 7 breaks older builds with
/// SHOP_BREAKING). Each creates a table on the connection the manager serves, inside its unit of work. For the tests,
/// <c>SHOP_MIGRATION_DELAY_MS</c> makes each one wait first (honouring cancellation), and <c>SHOP_FAIL_ORDER</c> makes
/// that one fail.
/// </summary>
public static class Migrations
{
    [Migration(Order = 1)]
    public static Task CreateCustomers(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "customers", cancellationToken);

    [Migration(Order = 2)]
    public static Task CreateOrders(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "orders", cancellationToken);

    [Migration(Order = 3)]
    public static Task CreateProducts(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "products", cancellationToken);

    [Migration(Order = 4)]
    public static Task CreateInvoices(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "invoices", cancellationToken);

    [Migration(Order = 5)]
    public static Task CreateShipments(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "shipments", cancellationToken);

#if SHOP_V2
    [Migration(Order = 6)]
    public static Task CreateReviews(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "reviews", cancellationToken);

#if SHOP_BREAKING
    [Migration(Order = 7, BreaksOlderBuilds = true)]
#else
    [Migration(Order = 7)]
#endif
    public static Task CreateLegacyArchive(MigrationContext context, CancellationToken cancellationToken) => CreateTableAsync(context, "legacy_archive", cancellationToken);
#endif

    private static async Task CreateTableAsync(MigrationContext context, string table, CancellationToken cancellationToken)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("SHOP_MIGRATION_DELAY_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out var delay))
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }

        if (Environment.GetEnvironmentVariable("SHOP_FAIL_ORDER") == context.Order.ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"migration {context.Order} fails (SHOP_FAIL_ORDER)");
        }

        var command = context.GetDbConnection().CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = $"CREATE TABLE {table} (id BIGINT PRIMARY KEY)";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
