using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>MigrationPlan.ToString: the status table people read (the status command, a Verify failure's log).</summary>
public sealed class PlanFormatTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static Task<MigrationPlan> Plan(FakeOperationsManager manager, IReadOnlyList<MigrationRegistration> registrations, bool allowNewer = false) =>
        MigrationRunner.PlanAsync(manager, registrations, Options(config: new MigrationConfig { AllowNewerMigrations = allowNewer })).WaitAsync(SafetyTimeout);

    [Fact]
    public async Task The_table_has_order_status_action_name_updated_and_applied_by_then_what_would_run()
    {
        var manager = new FakeOperationsManager();
        manager.InitialStatuses.Add(new PersistedStatus(1, MigrationStatus.Completed) { AppliedBy = "web-1/42/abc (Shop 1.0.0)", UpdatedAt = At });
        manager.InitialStatuses.Add(new PersistedStatus(3, MigrationStatus.Failed) { AppliedBy = "job/7/def (Shop 1.1.0)", UpdatedAt = At.AddMinutes(1) });

        var plan = await Plan(manager, [Reg(1, [], name: "Shop.Migrations.CreateUsers"), Reg(2, [], enabled: false, name: "Shop.Migrations.OldBackfill"), Reg(3, [], name: "Shop.Migrations.AddIndex"), Reg(4, [])]);

        Assert.Equal(
            """
            order  status     action          name                         updated              applied by
                1  COMPLETED  skip completed  Shop.Migrations.CreateUsers  2026-12-03 10:00:00  web-1/42/abc (Shop 1.0.0)
                2  -          skip disabled   Shop.Migrations.OldBackfill  -                    -
                3  FAILED     run             Shop.Migrations.AddIndex     2026-12-03 10:01:00  job/7/def (Shop 1.1.0)
                4  -          run             migration 4                  -                    -
            2 migration(s) to run, from order 3 to 4
            """.ReplaceLineEndings("\n"),
            plan.ToString());
        Assert.Equal("3 FAILED run Shop.Migrations.AddIndex", plan.Entries[2].ToString());
        Assert.Equal("job/7/def (Shop 1.1.0)", plan.Entries[2].AppliedBy);
        Assert.Equal(At.AddMinutes(1), plan.Entries[2].UpdatedAt);
    }

    [Fact]
    public async Task An_up_to_date_database_ends_with_up_to_date()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, [], name: "A.M1")]);

        Assert.Equal(
            """
            order  status     action          name  updated  applied by
                1  COMPLETED  skip completed  A.M1  -        -
            up to date
            """.ReplaceLineEndings("\n"),
            plan.ToString());
    }

    [Fact]
    public async Task Orders_this_build_does_not_know_are_rows_of_their_own_and_the_error_ends_the_table()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed);
        manager.InitialStatuses.Add(new PersistedStatus(6, MigrationStatus.Completed) { Name = "Shop.Migrations.Six" });
        manager.WithStatus(7, MigrationStatus.Pending);

        var plan = await Plan(manager, [Reg(1, [], name: "A.M1")]);

        var lines = plan.ToString().Split('\n');
        Assert.Equal("    6  COMPLETED  unknown         Shop.Migrations.Six  -        -", lines[2]);
        Assert.Equal("    7  PENDING    unknown         (not in this build)  -        -", lines[3]);
        Assert.StartsWith("a run would fail: found persisted migration(s) that are not in the registry: 6, 7: ", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Newer_migrations_a_run_tolerates_are_marked_newer_and_named_before_the_summary()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed).WithStatus(6, MigrationStatus.Completed).WithStatus(7, MigrationStatus.Completed);

        var plan = await Plan(manager, [Reg(1, [], name: "A.M1"), Reg(5, [], name: "A.M5")], allowNewer: true);

        var lines = plan.ToString().Split('\n');
        Assert.StartsWith("    6  COMPLETED  newer ", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("    7  COMPLETED  newer ", lines[4], StringComparison.Ordinal);
        Assert.Equal("tolerated: migration(s) 6, 7 applied by a newer build (MIGRATION_ALLOW_NEWER_MIGRATIONS=true)", lines[^2]);
        Assert.StartsWith("a run would fail: cannot run migrations out of order", lines[^1], StringComparison.Ordinal);
    }
}
