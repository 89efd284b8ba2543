namespace SourceGenMigrations.Tests;

/// <summary>
/// <c>MigrationPlan.IsEveryEnabledCompleted</c>, the walk that lets a start with nothing to do skip building a plan: it
/// may answer false where the plan finds nothing to do, never true where the plan finds anything else.
/// </summary>
public sealed class PlanFastLaneTests
{
    private static MigrationRegistration Registration(long order, bool enabled = true, string? checksum = null) =>
        new(order, static (_, _) => Task.CompletedTask, enabled) { Checksum = checksum };

    private static PersistedStatus Completed(long order, string? checksum = null) => new(order, MigrationStatus.Completed) { Checksum = checksum };

    [Fact]
    public void Every_enabled_migration_completed_and_nothing_else_is_nothing_to_do()
    {
        Assert.True(MigrationPlan.IsEveryEnabledCompleted(
            [Registration(1), Registration(2, enabled: false), Registration(3, checksum: "AB12")], [Completed(1), Completed(3, "ab12")], out var enabled));
        Assert.Equal(2, enabled);
    }

    public static TheoryData<string, MigrationRegistration[], PersistedStatus[]> NotNothingToDo => new()
    {
        { "a migration without a status", [Registration(1), Registration(2)], [Completed(1)] },
        { "a migration failed", [Registration(1)], [new PersistedStatus(1, MigrationStatus.Failed)] },
        { "an unknown order", [Registration(1)], [Completed(1), Completed(2)] },
        { "an unknown order below", [Registration(2)], [Completed(1), Completed(2)] },
        { "a disabled migration with a status", [Registration(1), Registration(2, enabled: false)], [Completed(1), Completed(2)] },
        { "a SQL file changed since it ran", [Registration(1, checksum: "aa")], [Completed(1, "bb")] },
        { "a SQL file completed before checksums were stored", [Registration(1, checksum: "aa")], [Completed(1)] },
        { "statuses out of order", [Registration(1), Registration(2)], [Completed(2), Completed(1)] },
        { "an order twice", [Registration(1)], [Completed(1), Completed(1)] },
    };

    [Theory]
    [MemberData(nameof(NotNothingToDo))]
    public void Anything_else_is_left_to_the_plan(string because, MigrationRegistration[] registrations, PersistedStatus[] statuses) =>
        Assert.False(MigrationPlan.IsEveryEnabledCompleted(registrations, statuses, out _), because);

    [Fact]
    public void Whenever_the_walk_says_nothing_to_do_the_plan_agrees()
    {
        // Random small tables and status lists (fixed seed): every "true" must be a plan with nothing to run, no error,
        // no unknown order and no disabled migration with a status (which the plan would warn about).
        var random = new Random(20261203);
        var agreed = 0;
        for (var round = 0; round < 5_000; round++)
        {
            var registrations = Enumerable.Range(1, random.Next(0, 5))
                .Select(order => Registration(order, enabled: random.Next(4) > 0, checksum: random.Next(3) == 0 ? "c" + random.Next(2) : null))
                .ToArray();
            var statuses = Enumerable.Range(0, random.Next(0, 6))
                .Select(_ => new PersistedStatus(random.Next(1, 6), random.Next(5) > 0 ? MigrationStatus.Completed : MigrationStatus.Started) { Checksum = random.Next(2) == 0 ? "C" + random.Next(2) : null })
                .ToArray();
            if (!MigrationPlan.IsEveryEnabledCompleted(registrations, statuses, out var enabled))
            {
                continue;
            }

            agreed++;
            var plan = MigrationPlan.Create(registrations, MigrationPlan.CheckStatuses(statuses), allowNewerMigrations: false);
            Assert.True(plan.IsUpToDate, $"round {round}: {plan.Error}");
            Assert.Empty(plan.UnknownPersistedOrders);
            Assert.DoesNotContain(plan.Entries, e => e.Action == MigrationAction.SkipDisabled && e.PersistedStatus is not null);
            Assert.Equal(plan.Entries.Count(e => e.Enabled), enabled);
        }

        Assert.True(agreed > 100, $"only {agreed} rounds were nothing to do: the generator does not exercise the walk");
    }
}
