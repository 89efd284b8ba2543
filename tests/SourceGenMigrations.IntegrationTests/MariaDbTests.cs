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
