using System.Data.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace SourceGenMigrations.Tests;

public sealed class MigrationContextExtensionsTests
{
    private sealed class Services(object? service) : IServiceProvider
    {
        public object? GetService(Type serviceType) => service is not null && serviceType.IsInstanceOfType(service) ? service : null;
    }

    [Fact]
    public void GetRequiredService_returns_what_the_services_serve()
    {
        var served = new Uri("https://example.invalid/");
        var context = new MigrationContext(3, "App.Three", MigrationStatus.Pending, new Services(served), NullLogger.Instance);

        Assert.Same(served, context.GetRequiredService<Uri>());
    }

    [Fact]
    public void A_missing_service_is_an_error_naming_the_migration_and_the_type()
    {
        var context = new MigrationContext(3, "App.Three", MigrationStatus.Pending, new Services(null), NullLogger.Instance);

        var error = Assert.Throws<InvalidOperationException>(() => context.GetDbConnection());

        Assert.Contains("Migration 3 (App.Three) asked for a DbConnection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_services_at_all_is_an_error_that_says_how_to_get_them()
    {
        var context = new MigrationContext(4, "App.Four", MigrationStatus.Failed, services: null, NullLogger.Instance);

        var error = Assert.Throws<InvalidOperationException>(() => context.GetRequiredService<DbConnection>());

        Assert.Contains("Migration 4 (App.Four)", error.Message, StringComparison.Ordinal);
        Assert.Contains("MigrationOptions.Services", error.Message, StringComparison.Ordinal);
    }
}
