using Xunit.Abstractions;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Every runner process scenario (eight at once, runners killed with SIGKILL) with the runners connected through PgBouncer.</summary>
public sealed class PgBouncerProcessTests : ProcessScenarios, IPgBouncerTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PgBouncerTarget.CreateAsync();
}

/// <summary>Every manager scenario with the manager connected through PgBouncer (assertions straight to the server).</summary>
public sealed class PgBouncerManagerTests : ManagerScenarios, IPgBouncerTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PgBouncerTarget.CreateAsync();
}

/// <summary>
/// Replicas started together through PgBouncer in transaction pooling mode (issue 13): no advisory lock is left on any
/// server connection afterwards (asked of the server). See <see cref="ReplicaScenarios"/>.
/// </summary>
[Collection(ReplicaScenarios.Alone)]
public sealed class PgBouncerConcurrencyTests(ITestOutputHelper output) : ReplicaScenarios(output), IPgBouncerTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PgBouncerTarget.CreateAsync();

    protected override async Task<(long Count, string Holders)> LocksLeftAsync(DbTarget db)
    {
        var pgBouncer = (PgBouncerTarget)db;
        return (await pgBouncer.AdvisoryLockCountAsync(), await pgBouncer.DescribeAdvisoryLocksAsync());
    }
}

