using System.Data.Common;
using MySqlConnector;
using SourceGenMigrations.MySql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Every manager scenario on MariaDB (the MySQL manager).</summary>
public sealed class MariaDbManagerTests : ManagerScenarios, IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();
}

/// <summary>Every unit-of-work scenario on MariaDB: DML-only migrations commit with their status.</summary>
public sealed class MariaDbUnitOfWorkTests : UnitOfWorkScenarios, IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();

    protected override DbCommand NewCommand(string sql, DbConnection connection) => new MySqlCommand(sql, (MySqlConnection)connection);

    protected override DbConnection TypedConnection(MigrationContext context) => context.GetMySqlConnection();

    protected override async Task CommitTheManagersTransactionAsync(MigrationContext context, CancellationToken cancellationToken) =>
        await context.GetMySqlTransaction().CommitAsync(cancellationToken);

    protected override string OwnStatusInsideTheTransaction => "STARTED";
}

/// <summary>Every runner process scenario on MariaDB (eight at once, kill -9 mid-migration, after its effect, at random).</summary>
public sealed class MariaDbProcessTests : ProcessScenarios, IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();
}

/// <summary>
/// 8 and 32 runner processes started together on one MariaDB database: no <c>GET_LOCK</c> is left held afterwards (asked
/// of the server with <c>IS_USED_LOCK</c>). See <see cref="ReplicaScenarios"/>.
/// </summary>
[Collection(ReplicaScenarios.Alone)]
public sealed class MariaDbConcurrencyTests(Xunit.Abstractions.ITestOutputHelper output) : ReplicaScenarios(output), IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();

    protected override async Task<(long Count, string Holders)> LocksLeftAsync(DbTarget db)
    {
        var name = MySqlMigrationManager.ComputeDbLockName(((MariaDbTarget)db).Database, "migration_lock");
        var holder = await db.CountAsync($"SELECT COALESCE(IS_USED_LOCK('{name}'), 0)");
        return (holder == 0 ? 0 : 1, holder == 0 ? "none" : $"GET_LOCK '{name}' held by connection {holder}");
    }
}

/// <summary>The operator side (IMigrationOperations) on MariaDB: nothing created by reading, 0.1.0's table read as it is, the lease by the server's clock, forced releases.</summary>
public sealed class MariaDbOperationsTests : OperationsScenarios, IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();

    protected override string StatusColumnCountSql => "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_status'";

    protected override async Task AssertNothingCreatedAsync(DbTarget db) =>
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"));

    protected override Task CreateFirstReleaseTablesAsync(DbTarget db) => db.ExecuteAsync(
        """
        CREATE TABLE migration_lock (lock_id INT NOT NULL PRIMARY KEY, owner_id VARCHAR(200) NOT NULL, acquired_at DATETIME(6) NOT NULL, expires_at DATETIME(6) NOT NULL) ENGINE = InnoDB;
        CREATE TABLE migration_status (migration_order BIGINT NOT NULL PRIMARY KEY, status VARCHAR(32) NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE = InnoDB;
        INSERT INTO migration_status VALUES (1, 'COMPLETED', UTC_TIMESTAMP(6)), (2, 'COMPLETED', UTC_TIMESTAMP(6)), (3, 'COMPLETED', UTC_TIMESTAMP(6));
        """);

    [DbFact]
    public async Task A_live_lease_forced_away_during_a_DML_migration_fences_its_holder_whose_work_is_rolled_back()
    {
        await using var db = await MariaDbTarget.CreateAsync();

        var (runError, releaseError) = await ForceReleaseDuringATransactionalMigrationAsync(db);

        // The migration's transaction holds no lock on the lease row: the release goes through, and the commit is fenced.
        Assert.Null(releaseError);
        Assert.StartsWith("failed to complete the migration with order 1", runError.Message, StringComparison.Ordinal);
        Assert.Contains("was lost", ManagerScenarios.FullText(runError), StringComparison.Ordinal);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.NotEqual("COMPLETED", (await db.StatusesAsync()).GetValueOrDefault(1));
    }
}
