using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// One unit of work per migration, on both databases: a transactional migration's statements and its COMPLETED status
/// commit together on the connection the manager serves (commands made the ordinary way join the transaction), a
/// failure anywhere up to the commit keeps nothing of it, the status writes are fenced, and misuse of the manager's
/// transaction is a clear error.
/// </summary>
public abstract class UnitOfWorkScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected abstract Task<DbTarget> CreateTargetAsync();

    /// <summary>Creates a command on <paramref name="connection"/> with the provider's own constructor and no transaction set.</summary>
    protected abstract DbCommand NewCommand(string sql, DbConnection connection);

    private static MigrationOptions Options(int heartbeatMilliseconds = 100) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 60_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    private static DbConnection Served(MigrationContext context) => Assert.IsAssignableFrom<DbConnection>(context.Services!.GetService(typeof(DbConnection)));

    protected static async Task<MigrationException> RunExpectingFailureAsync(DbTarget db, IReadOnlyList<MigrationRegistration> registrations, ManagerSettings? settings = null, MigrationOptions? options = null)
    {
        var manager = db.CreateManager(settings);
        try
        {
            return await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, options ?? Options()).WaitAsync(Patience));
        }
        finally
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }
    }

    protected static string FullText(Exception e) => ManagerScenarios.FullText(e);

    /// <summary>The provider's connection as the typed helper returns it (<c>GetSqliteConnection</c>, <c>GetNpgsqlConnection</c>).</summary>
    protected abstract DbConnection TypedConnection(MigrationContext context);

    [DbFact]
    public async Task The_served_connection_is_one_object_as_DbConnection_as_the_providers_type_and_from_the_typed_helpers()
    {
        await using var db = await CreateTargetAsync();
        var seen = new List<object?>();
        var manager = db.CreateManager();
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, (context, _) =>
        {
            seen.Add(context.Services!.GetService(typeof(DbConnection)));
            seen.Add(context.GetDbConnection());
            seen.Add(TypedConnection(context));
            return Task.CompletedTask;
        })], Options());
        await ((IAsyncDisposable)manager).DisposeAsync();

        Assert.Equal(3, seen.Count);
        Assert.NotNull(seen[0]);
        Assert.All(seen, s => Assert.Same(seen[0], s));
    }

    /// <summary>What a transactional migration reads of its own status row inside its transaction (MySQL writes STARTED there).</summary>
    protected virtual string OwnStatusInsideTheTransaction => "PENDING";

    [DbFact]
    public async Task A_transactional_migration_sees_its_own_status_as_the_run_marked_it_the_begin_only_reads()
    {
        await using var db = await CreateTargetAsync();
        string? seen = null;
        var manager = db.CreateManager();
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, async (context, ct) =>
        {
            await using var command = NewCommand($"SELECT status FROM {db.StatusTable} WHERE migration_order = 1", Served(context));
            seen = (string?)await command.ExecuteScalarAsync(ct);
        })], Options());
        await ((IAsyncDisposable)manager).DisposeAsync();

        Assert.Equal(OwnStatusInsideTheTransaction, seen);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED" }, await db.StatusesAsync());
    }

    [DbFact]
    public async Task A_migration_that_throws_after_its_statements_keeps_none_of_them_and_is_failed()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, DbTarget.InsertSideEffectAsync),
            new MigrationRegistration(2, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                throw new InvalidOperationException("boom after the insert");
            }),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to complete the migration with order 2", error.Step);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "FAILED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal(0, await db.SideEffectCountAsync(2));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task Commands_made_with_the_providers_constructor_join_the_migrations_transaction()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                var connection = Served(context);
                await using (var insert = NewCommand("INSERT INTO side_effect (migration_order, previous_status, pid) VALUES (1, 'PENDING', 0)", connection))
                {
                    await insert.ExecuteNonQueryAsync(ct);
                }

                throw new InvalidOperationException("roll it back");
            }),
        };

        await RunExpectingFailureAsync(db, registrations);

        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.Equal("FAILED", (await db.StatusesAsync())[1]);
    }

    [DbFact]
    public async Task A_deferred_constraint_failing_at_the_commit_is_the_migrations_failure_and_keeps_nothing()
    {
        await using var db = await CreateTargetAsync();
        await db.ExecuteAsync("CREATE TABLE parent (id integer PRIMARY KEY)");
        await db.ExecuteAsync(db.CreateChildTableWithDeferredForeignKey);
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await using var orphan = Served(context).CreateCommand();
                orphan.CommandText = "INSERT INTO child (id, parent_id) VALUES (1, 42)";
                await orphan.ExecuteNonQueryAsync(ct); // accepted now, refused at COMMIT (refused now on MySQL/MariaDB)
            }, name: "App.Orphans"),
        };

        var error = await RunExpectingFailureAsync(db, registrations, new ManagerSettings(ForeignKeys: true));

        Assert.Equal("failed to complete the migration with order 1", error.Step);
        Assert.Contains("foreign key", FullText(error), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("FAILED", (await db.StatusesAsync())[1]);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM child"));
        Assert.Empty(await db.ReadLeaseAsync());
    }

    [DbFact]
    public async Task A_migration_that_begins_its_own_transaction_fails_with_what_to_do_and_keeps_nothing()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                await using var own = await Served(context).BeginTransactionAsync(ct);
            }, name: "App.OwnTransaction"),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to complete the migration with order 1", error.Step);
        var cause = Assert.IsAssignableFrom<InvalidOperationException>(error.InnerException);
        Assert.Contains("migration 1 (App.OwnTransaction) began a transaction of its own", cause.Message, StringComparison.Ordinal);
        Assert.Contains("[Migration(Order = 1, Transactional = false)]", cause.Message, StringComparison.Ordinal);
        Assert.NotNull(cause.InnerException);
        Assert.Equal("FAILED", (await db.StatusesAsync())[1]);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
    }

    [DbFact]
    public async Task A_migration_that_commits_the_managers_transaction_fails_with_what_to_do_and_is_not_completed()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                await CommitTheManagersTransactionAsync(context, ct);
            }, name: "App.Commits"),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to complete the migration with order 1", error.Step);
        Assert.Contains("migration 1 (App.Commits) committed or rolled back the transaction the manager runs it in", FullText(error), StringComparison.Ordinal);
        Assert.Contains("Transactional = false", FullText(error), StringComparison.Ordinal);
        Assert.NotEqual("COMPLETED", (await db.StatusesAsync())[1]);
        Assert.Empty(await db.ReadLeaseAsync());
    }

    /// <summary>What a migration might do to end the transaction it runs in (each provider's natural way).</summary>
    protected abstract Task CommitTheManagersTransactionAsync(MigrationContext context, CancellationToken cancellationToken);

    [DbFact]
    public async Task Started_is_not_written_over_completed_so_a_migration_another_runner_completed_does_not_run_again()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var ranTwo = false;
        var registrations = new[]
        {
            // As if another runner had taken over and completed 2 while this one was in 1 (a lost lease).
            new MigrationRegistration(1, async (_, _) => await db.ExecuteAsync($"UPDATE {db.StatusTable} SET status = 'COMPLETED' WHERE migration_order = 2"), transactional: false),
            new MigrationRegistration(2, (_, _) => { ranTwo = true; return Task.CompletedTask; }),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to persist the status STARTED for the migration order 2", error.Step);
        Assert.Contains("COMPLETED already", FullText(error), StringComparison.Ordinal);
        Assert.False(ranTwo);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED" }, await db.StatusesAsync());
    }

    [DbFact]
    public async Task The_status_row_keeps_the_migrations_name_and_who_applied_it()
    {
        await using var db = await CreateTargetAsync();
        var manager = db.CreateManager(new ManagerSettings(OwnerId: "host-a/42/abc"));
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(7, (_, _) => Task.CompletedTask, name: "App.Migrations.Seven")], Options());
        await ((IAsyncDisposable)manager).DisposeAsync();

        // The owner id first; the build's version follows it where the manager stores it (OperationsScenarios).
        Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM {db.StatusTable} WHERE migration_order = 7 AND name = 'App.Migrations.Seven' AND applied_by LIKE 'host-a/42/abc%' AND status = 'COMPLETED'"));
    }

    [DbFact]
    public async Task BreaksOlderBuilds_is_stored_once_the_migration_took_effect_and_listed_with_its_name()
    {
        await using var db = await CreateTargetAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, (_, _) => Task.CompletedTask, name: "App.Additive"),
            new MigrationRegistration(2, (_, _) => Task.CompletedTask, name: "App.DropLegacy", breaksOlderBuilds: true),
            new MigrationRegistration(3, (_, _) => throw new InvalidOperationException("rolled back"), name: "App.FailsBreaking", breaksOlderBuilds: true),
        };

        var manager = db.CreateManager();
        await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));
        var listed = await manager.ListStatusesAsync(CancellationToken.None);
        await ((IAsyncDisposable)manager).DisposeAsync();

        // Completed and breaking: flagged and named. Failed and rolled back: no effect, no flag.
        Assert.Equal(
            [(1L, MigrationStatus.Completed, false, (string?)null), (2L, MigrationStatus.Completed, true, "App.DropLegacy"), (3L, MigrationStatus.Failed, false, null)],
            listed.Select(s => (s.Order, s.Status, s.BreaksOlderBuilds, s.Name)));
    }

    [DbFact]
    public async Task A_non_transactional_breaking_migration_counts_from_its_start()
    {
        await using var db = await CreateTargetAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, (_, _) => throw new InvalidOperationException("half done"), name: "App.RenameConcurrently", transactional: false, breaksOlderBuilds: true),
        };

        var manager = db.CreateManager();
        await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));
        var listed = Assert.Single(await manager.ListStatusesAsync(CancellationToken.None));
        await ((IAsyncDisposable)manager).DisposeAsync();

        // Its statements commit as they run: whatever it did before failing may break older builds.
        Assert.Equal((MigrationStatus.Failed, true, "App.RenameConcurrently"), (listed.Status, listed.BreaksOlderBuilds, listed.Name));
    }

    [DbFact]
    public async Task A_pending_write_never_overwrites_a_completed_row()
    {
        await using var db = await CreateTargetAsync();
        var manager = (ITransactionalMigrationManager)db.CreateManager();
        await manager.AcquireDbLockAsync(CancellationToken.None);
        await manager.EnsureDataStoresAsync(CancellationToken.None);
        await manager.ReleaseDbLockAsync(CancellationToken.None);
        await manager.PersistStatusAsync(1, MigrationStatus.Completed, CancellationToken.None);
        await manager.PersistStatusAsync(2, MigrationStatus.Failed, CancellationToken.None);

        await manager.PersistPendingAsync([new MigrationDescriptor(1, "One", true, MigrationStatus.Pending), new MigrationDescriptor(2, "Two", true, MigrationStatus.Failed), new MigrationDescriptor(3, "Three", false, MigrationStatus.Pending)], CancellationToken.None);

        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "PENDING", [3] = "PENDING" }, await db.StatusesAsync());
        Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM {db.StatusTable} WHERE migration_order = 3 AND name = 'Three'"));
        await ((IAsyncDisposable)manager).DisposeAsync();
    }
}

public sealed class SqliteUnitOfWorkTests : UnitOfWorkScenarios
{
    protected override Task<DbTarget> CreateTargetAsync() => Task.FromResult<DbTarget>(new SqliteTarget());

    protected override DbCommand NewCommand(string sql, DbConnection connection) => new SqliteCommand(sql, (SqliteConnection)connection);

    protected override DbConnection TypedConnection(MigrationContext context) => SourceGenMigrations.Sqlite.SqliteMigrationContextExtensions.GetSqliteConnection(context);

    protected override async Task CommitTheManagersTransactionAsync(MigrationContext context, CancellationToken cancellationToken)
    {
        await using var commit = ((SqliteConnection)context.Services!.GetService(typeof(SqliteConnection))!).CreateCommand();
        commit.CommandText = "COMMIT";
        await commit.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed class PostgreSqlUnitOfWorkTests : UnitOfWorkScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();

    protected override DbCommand NewCommand(string sql, DbConnection connection) => new NpgsqlCommand(sql, (NpgsqlConnection)connection);

    protected override DbConnection TypedConnection(MigrationContext context) => SourceGenMigrations.PostgreSql.PostgreSqlMigrationContextExtensions.GetNpgsqlConnection(context);

    protected override async Task CommitTheManagersTransactionAsync(MigrationContext context, CancellationToken cancellationToken) =>
        await ((NpgsqlTransaction)context.Services!.GetService(typeof(NpgsqlTransaction))!).CommitAsync(cancellationToken);

    // Npgsql sees the transaction open again after "COMMIT; BEGIN" in one command; the transaction id written at the start
    // of the migration is what tells that the transaction completing it is another one.
    [DbFact]
    public async Task A_migration_that_commits_and_begins_again_with_SQL_is_not_completed_in_the_new_transaction()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                await using var command = new NpgsqlCommand("COMMIT; BEGIN", SourceGenMigrations.PostgreSql.PostgreSqlMigrationContextExtensions.GetNpgsqlConnection(context));
                await command.ExecuteNonQueryAsync(ct);
            }, name: "App.CommitsWithSql"),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to complete the migration with order 1", error.Step);
        Assert.Contains("migration 1 (App.CommitsWithSql) committed or rolled back the transaction the manager runs it in", FullText(error), StringComparison.Ordinal);
        Assert.Equal("FAILED", (await db.StatusesAsync())[1]);
        Assert.Equal(1, await db.SideEffectCountAsync(1)); // what it committed itself stays
        Assert.Empty(await db.ReadLeaseAsync());
    }

    // The manager reads the status when the migration's transaction begins and writes nothing until COMPLETED: a runner
    // that completed the migration meanwhile (this one's lease had lapsed) is caught by COMPLETED's fence, and this
    // runner's statements are rolled back rather than committed a second time.
    [DbFact]
    public async Task A_migration_completed_by_another_runner_while_it_ran_is_rolled_back_not_applied_twice()
    {
        await using var db = await CreateTargetAsync();
        await db.CreateSideEffectTableAsync();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                await db.ExecuteAsync($"UPDATE {db.StatusTable} SET status = 'COMPLETED' WHERE migration_order = 1");
            }, name: "App.CompletedElsewhere"),
        };

        var error = await RunExpectingFailureAsync(db, registrations);

        Assert.Equal("failed to complete the migration with order 1", error.Step);
        Assert.Contains("migration 1 (App.CompletedElsewhere) is COMPLETED already: another runner completed it while this one ran it", FullText(error), StringComparison.Ordinal);
        Assert.Equal("COMPLETED", (await db.StatusesAsync())[1]);
        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.Empty(await db.ReadLeaseAsync());
    }
}
