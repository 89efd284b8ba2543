using Xunit.Abstractions;
using Xunit.Sdk;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Marks a test class whose tests need PostgreSQL.</summary>
public interface IPostgresTests;

/// <summary>
/// A fact on a database: on a class implementing <see cref="IPostgresTests"/> it is skipped (with the reason) when
/// PostgreSQL (or, for <see cref="IPgBouncerTests"/>, PgBouncer) cannot be started, unless <c>SGM_REQUIRE_POSTGRES=1</c>,
/// where it runs and fails loudly; on a class implementing <see cref="IMariaDbTests"/> likewise for MariaDB and
/// <c>SGM_REQUIRE_MARIADB=1</c>. xunit 2 has no
/// dynamic skip, so the decision is made at discovery from a cached probe (which starts the server).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("SourceGenMigrations.IntegrationTests.DbFactDiscoverer", "SourceGenMigrations.IntegrationTests")]
public sealed class DbFactAttribute : FactAttribute;

/// <summary>A fact that needs MariaDB, on a class that is not an <see cref="IMariaDbTests"/> (see <see cref="DbFactAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class MariaDbFactAttribute : FactAttribute
{
    public MariaDbFactAttribute()
    {
        if (MariaDbServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A fact that needs PostgreSQL (see <see cref="DbFactAttribute"/>).</summary>
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

public sealed class DbFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var type = testMethod.TestClass.Class.ToRuntimeType();
        if (type is not null && typeof(IPgBouncerTests).IsAssignableFrom(type) && PgBouncerServer.SkipReason is { } pgBouncerReason)
        {
            return new XunitSkippedDataRowTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, pgBouncerReason);
        }

        if (type is not null && typeof(IMariaDbTests).IsAssignableFrom(type) && MariaDbServer.SkipReason is { } mariaDbReason)
        {
            return new XunitSkippedDataRowTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, mariaDbReason);
        }

        if (type is not null && typeof(IPostgresTests).IsAssignableFrom(type) && !PostgresServer.Required && PostgresServer.UnavailableReason is { } reason)
        {
            return new XunitSkippedDataRowTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, "PostgreSQL unavailable: " + reason);
        }

        return base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
    }
}
