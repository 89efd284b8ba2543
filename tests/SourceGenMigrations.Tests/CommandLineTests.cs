using Microsoft.Extensions.Logging;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>
/// MigrationCommandLine: the verbs, the exit codes a Job reads, one-line errors on stderr, the unlock rules. Signals are
/// tested on a real process (the integration tests' service); here they are off.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly RecordingLogger _log = new();

    private MigrationCommandLineOptions CommandOptions(MigrationConfig? config = null, TimeProvider? time = null) => new()
    {
        RunOptions = Options(time: time ?? TimeProvider.System, config: config, logger: _log),
        Output = _out,
        Error = _err,
        HandleSignals = false,
        ProgramName = "shop",
    };

    private Task<int> Run(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, params string[] args) =>
        MigrationCommandLine.RunAsync(args, () => manager, registrations, CommandOptions()).WaitAsync(SafetyTimeout);

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
    }

    private string[] ErrorLines => _err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData(new string[0], "error: no command given")]
    [InlineData(new[] { "migrat" }, "error: unknown command 'migrat'")]
    [InlineData(new[] { "migrate", "--force" }, "error: unknown option '--force' for 'migrate'")]
    [InlineData(new[] { "unlock", "--holder" }, "error: --holder needs the lease holder's owner id")]
    [InlineData(new[] { "status", "extra" }, "error: unknown option 'extra' for 'status'")]
    public async Task Arguments_it_does_not_understand_are_a_usage_error_and_no_manager_is_created(string[] args, string expected)
    {
        var created = false;

        var code = await MigrationCommandLine.RunAsync(args, () => { created = true; return new FakeMigrationManager(); }, [], CommandOptions());

        Assert.Equal(MigrationExitCodes.UsageError, code);
        Assert.Equal(expected, ErrorLines[0]);
        Assert.Equal("usage: shop <command> [options]", ErrorLines[1]);
        Assert.False(created);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Help_prints_the_usage_and_succeeds(string help)
    {
        var code = await MigrationCommandLine.RunAsync([help], () => throw new InvalidOperationException("no manager for help"), [], CommandOptions());

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.StartsWith("usage: shop <command> [options]", _out.ToString(), StringComparison.Ordinal);
        Assert.Contains("exit codes: 0 done, 1 failed, 2 usage error, 3 the deadline expired, 130 cancelled", _out.ToString(), StringComparison.Ordinal);
        Assert.Empty(_err.ToString());
    }

    [Fact]
    public void Only_the_three_verbs_are_commands()
    {
        Assert.True(MigrationCommandLine.IsCommand(["migrate"]));
        Assert.True(MigrationCommandLine.IsCommand(["status", "--whatever"]));
        Assert.True(MigrationCommandLine.IsCommand(["unlock", "--force"]));
        Assert.False(MigrationCommandLine.IsCommand([]));
        Assert.False(MigrationCommandLine.IsCommand(["--urls", "http://+:80"]));
        Assert.False(MigrationCommandLine.IsCommand(["Migrate"]));
    }

    [Fact]
    public async Task Migrate_runs_the_migrations_and_disposes_the_manager()
    {
        var manager = new FakeOperationsManager();
        var ran = new List<long>();

        var code = await Run(manager, [Reg(1, ran), Reg(2, ran)], "migrate");

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal([1L, 2L], ran);
        Assert.Equal(MigrationStatus.Completed, manager.Persisted[2]);
        Assert.True(manager.Disposed);
        Assert.Empty(_err.ToString());
    }

    [Fact]
    public async Task A_failing_migration_exits_1_with_the_step_and_its_cause_on_one_line()
    {
        var manager = new FakeMigrationManager();

        var code = await Run(manager, [Reg(1, []), Reg(2, [], body: (_, _) => throw new InvalidOperationException("column \"email\" already exists"))], "migrate");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Equal(["error: failed to complete the migration with order 2: column \"email\" already exists"], ErrorLines);
    }

    [Fact]
    public async Task A_factory_that_throws_exits_1_saying_the_manager_could_not_be_created()
    {
        var code = await MigrationCommandLine.RunAsync(["migrate"], () => throw new ArgumentException("The SQLite connection string must name a database file."), [], CommandOptions());

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Equal(["error: failed to create the migration manager: The SQLite connection string must name a database file."], ErrorLines);
    }

    [Fact]
    public async Task Waiting_past_the_deadline_has_its_own_exit_code()
    {
        var manager = new FakeMigrationManager
        {
            Hook = (step, _, token) => step == ManagerStep.AcquireMigrationLock ? Task.Delay(Timeout.Infinite, token) : Task.CompletedTask,
        };

        var code = await MigrationCommandLine.RunAsync(["migrate"], () => manager, [Reg(1, [])], CommandOptions(new MigrationConfig { DeadlineMilliseconds = 100 })).WaitAsync(SafetyTimeout);

        Assert.Equal(MigrationExitCodes.DeadlineExceeded, code);
        Assert.Contains("the migration deadline of 100 ms expired", Assert.Single(ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_exits_130_after_the_lease_was_released()
    {
        using var cancellation = new CancellationTokenSource();
        var manager = new FakeMigrationManager
        {
            Hook = async (step, _, token) =>
            {
                if (step == ManagerStep.PersistStatus)
                {
                    await cancellation.CancelAsync();
                    await Task.Delay(Timeout.Infinite, token);
                }
            },
        };

        var code = await MigrationCommandLine.RunAsync(["migrate"], () => manager, [Reg(1, [])], CommandOptions(), cancellation.Token).WaitAsync(SafetyTimeout);

        Assert.Equal(MigrationExitCodes.Cancelled, code);
        Assert.StartsWith("error: cancelled (cancelled by the caller)", Assert.Single(ErrorLines), StringComparison.Ordinal);
        Assert.Equal(1, manager.ReleaseMigrationLockCount);
    }

    [Fact]
    public async Task Status_prints_the_plan_and_the_lease_and_reads_only()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Live("job/7/abc") };
        manager.WithStatus(1, MigrationStatus.Completed);

        var code = await Run(manager, [Reg(1, [], name: "Shop.M1"), Reg(2, [], name: "Shop.M2")], "status");

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal(["ReadStatuses()", "ReadLease()"], manager.Calls);
        Assert.Equal(
            """
            order  status     action          name     updated  applied by
                1  COMPLETED  skip completed  Shop.M1  -        -
                2  -          run             Shop.M2  -        -
            1 migration(s) to run, from order 2 to 2
            migration lease: held by job/7/abc since 2026-12-03T09:59:50.000Z until 2026-12-03T10:00:20.000Z (live, expires in 20 s)

            """.ReplaceLineEndings("\n"),
            _out.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Status_of_a_database_a_run_would_fail_on_exits_1_with_the_reason()
    {
        var manager = new FakeOperationsManager();
        manager.WithStatus(1, MigrationStatus.Completed).WithStatus(9, MigrationStatus.Completed);

        var code = await Run(manager, [Reg(1, [])], "status");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.StartsWith("error: a run would fail: found persisted migration(s) that are not in the registry: 9", Assert.Single(ErrorLines), StringComparison.Ordinal);
        Assert.Contains("migration lease: none", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_without_a_lease_has_nothing_to_do()
    {
        var manager = new FakeOperationsManager();

        var code = await Run(manager, [], "unlock");

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal("migration lease: none (nothing to release)", _out.ToString().Trim());
        Assert.Equal(["ReadLease()"], manager.Calls);
    }

    [Fact]
    public async Task Unlock_releases_an_expired_lease_without_force_only_while_its_holder_still_holds_it()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Expired("web-3/4711/dead") };

        var code = await Run(manager, [], "unlock");

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Equal(["ReadLease()", "ForceReleaseLease(web-3/4711/dead)"], manager.Calls);
        Assert.Null(manager.Lease);
        Assert.Contains("(expired 30 s ago)", _out.ToString(), StringComparison.Ordinal);
        Assert.Contains("released the expired migration lease of web-3/4711/dead", _out.ToString(), StringComparison.Ordinal);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("released an expired migration lease", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unlock_refuses_a_live_lease_without_force_and_says_how()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Live("job/7/abc") };

        var code = await Run(manager, [], "unlock");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Equal(["ReadLease()"], manager.Calls);
        Assert.NotNull(manager.Lease);
        var error = Assert.Single(ErrorLines);
        Assert.StartsWith("error: the migration lease is live (held by job/7/abc until 2026-12-03T10:00:20.000Z)", error, StringComparison.Ordinal);
        Assert.Contains("Pass --force", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_with_force_releases_a_live_lease_and_logs_a_warning()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Live("job/7/abc") };

        var code = await Run(manager, [], "unlock", "--force");

        Assert.Equal(MigrationExitCodes.Success, code);
        Assert.Null(manager.Lease);
        Assert.Contains("released the live migration lease of job/7/abc (--force)", _out.ToString(), StringComparison.Ordinal);
        var warning = Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("released a live migration lease by force", warning.Message, StringComparison.Ordinal);
        Assert.Contains("job/7/abc", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_with_a_holder_leaves_another_holders_lease_alone()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Expired("web-3/4711/dead") };

        var code = await Run(manager, [], "unlock", "--holder", "web-9/1/other", "--force");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.NotNull(manager.Lease);
        Assert.Equal(["error: the migration lease is held by web-3/4711/dead, not by web-9/1/other: nothing released"], ErrorLines);
    }

    [Fact]
    public async Task Unlock_releases_nothing_when_the_lease_changed_hands_meanwhile()
    {
        var manager = new FakeOperationsManager { Lease = FakeOperationsManager.Expired("web-3/4711/dead"), LeaseChangesHandsBeforeRelease = true };

        var code = await Run(manager, [], "unlock");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Equal("someone-else", manager.Lease?.OwnerId);
        Assert.StartsWith("error: the migration lease changed hands while it was being released", Assert.Single(ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_needs_a_manager_with_operations()
    {
        var code = await Run(new FakeMigrationManager(), [], "unlock");

        Assert.Equal(MigrationExitCodes.Failed, code);
        Assert.Equal(["error: FakeMigrationManager cannot read or release the lease: it does not implement IMigrationOperations"], ErrorLines);
    }

    [Fact]
    public void Several_errors_of_one_run_stay_on_one_line()
    {
        var combined = new MigrationException(
            "failed to complete the migration with order 2; failed to release the migration lock",
            new AggregateException(
                new MigrationException("failed to complete the migration with order 2", new InvalidOperationException("boom")),
                new MigrationException("failed to release the migration lock", new TimeoutException("too slow\nreally"))));

        Assert.Equal(
            "failed to complete the migration with order 2: boom | failed to release the migration lock: too slow",
            MigrationCommandLine.Describe(combined));
    }
}
