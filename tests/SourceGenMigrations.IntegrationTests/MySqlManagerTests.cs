using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using SourceGenMigrations.MySql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What only MySQL and MariaDB show (on MariaDB): DDL commits a transactional migration's transaction implicitly, and the
/// manager says so instead of claiming atomicity; the lease can be taken from a runner while its DML migration runs and
/// the commit refuses it then (<see cref="LeaseTheftScenarios"/>); the database lock is a session's <c>GET_LOCK</c>, named per database, that survives the
/// implicit commits of the tables' DDL; a data source of the caller's without <c>IgnoreCommandTransaction</c>.
/// </summary>
public sealed class MySqlManagerTests : LeaseTheftScenarios, IMariaDbTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await MariaDbTarget.CreateAsync();

    private static MigrationOptions Options(int heartbeatMilliseconds = 100) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 120_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    private static MySqlMigrationManager Manager(MariaDbTarget db, LogRecorder? log = null, string? ownerId = null)
    {
        var options = MariaDbTarget.Options(new ManagerSettings(OwnerId: ownerId));
        options.Logger = log;
        return new MySqlMigrationManager(db.ConnectionString, options);
    }

    private static async Task ExecuteAsync(MigrationContext context, string sql, CancellationToken ct)
    {
        await using var command = context.GetMySqlConnection().CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<long> InTransactionAsync(MigrationContext context, CancellationToken ct)
    {
        await using var command = new MySqlCommand("SELECT @@in_transaction", context.GetMySqlConnection());
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    [DbFact]
    public async Task A_transactional_migration_with_DDL_is_completed_in_a_commit_of_its_own_with_a_warning_and_its_DML_before_the_DDL_stays()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var log = new LogRecorder();
        var inTransaction = new List<long>();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                inTransaction.Add(await InTransactionAsync(context, ct));
                await ExecuteAsync(context, "CREATE TABLE IF NOT EXISTS created_by_migration (id int PRIMARY KEY)", ct);
                inTransaction.Add(await InTransactionAsync(context, ct));
                await ExecuteAsync(context, "INSERT INTO created_by_migration VALUES (1)", ct);
            }, name: "App.WithDdl"),
            new MigrationRegistration(2, DbTarget.InsertSideEffectAsync, name: "App.DmlOnly"),
        };

        await using (var manager = Manager(db, log))
        {
            await MigrationRunner.RunAsync(manager, registrations, Options());
        }

        // The server's own word: a transaction before the DDL, none after it (MariaDB's @@in_transaction).
        Assert.Equal([1L, 0L], inTransaction);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM created_by_migration"));
        var warning = Assert.Single(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(
            "Migration 1 (App.WithDdl) contained DDL, which MySQL commits implicitly: its statements and its COMPLETED status did not commit together; keep such migrations idempotent",
            warning.Message);
        Assert.Equal(5003, warning.Id);
    }

    [DbFact]
    public async Task A_transactional_migration_that_fails_after_DDL_keeps_what_the_DDL_committed_is_failed_and_runs_again()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var log = new LogRecorder();
        var attempts = 0;
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                attempts++;
                await DbTarget.InsertSideEffectAsync(context, ct);
                await ExecuteAsync(context, "CREATE TABLE IF NOT EXISTS created_by_migration (id int PRIMARY KEY)", ct);
                await ExecuteAsync(context, "INSERT INTO side_effect (migration_order, previous_status, pid) VALUES (100, 'after DDL', 0)", ct);
                if (attempts == 1)
                {
                    throw new InvalidOperationException("boom after the DDL");
                }
            }, name: "App.FailsAfterDdl"),
        };

        await using (var manager = Manager(db, log))
        {
            var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));
            Assert.Equal("failed to complete the migration with order 1", error.Step);
        }

        // What really happens: the insert before the DDL was committed by it, the one after it in autocommit; no rollback
        // reaches them. The status is FAILED (written on its own), and the warning says what stays.
        Assert.Equal("FAILED", (await db.StatusesAsync())[1]);
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal(1, await db.SideEffectCountAsync(100));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Id == 5004 && e.Message.Contains("Migration 1 (App.FailsAfterDdl) failed after DDL", StringComparison.Ordinal));

        // The next run runs it again: a migration with DDL must be idempotent (this one is not, and shows it).
        await using (var again = Manager(db))
        {
            await MigrationRunner.RunAsync(again, registrations, Options());
        }

        Assert.Equal("COMPLETED", (await db.StatusesAsync())[1]);
        Assert.Equal(2, await db.SideEffectCountAsync(1));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM side_effect WHERE migration_order = 1 AND previous_status = 'FAILED'"));
    }

    [DbFact]
    public async Task A_DML_migration_whose_commit_is_refused_for_a_lost_lease_is_rolled_back_and_not_reported_as_an_implicit_commit()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var log = new LogRecorder();
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await DbTarget.InsertSideEffectAsync(context, ct);
                await db.ExecuteAsync($"UPDATE {db.LockTable} SET owner_id = 'thief'");
            }),
        };

        await using (var manager = Manager(db, log, ownerId: "victim"))
        {
            await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options(heartbeatMilliseconds: 60_000)));
        }

        Assert.Equal(0, await db.SideEffectCountAsync(1));
        Assert.Equal("PENDING", (await db.StatusesAsync())[1]);
        Assert.DoesNotContain(log.Entries, e => e.Id is 5003 or 5004);
    }

    [DbFact]
    public async Task The_database_lock_is_a_GET_LOCK_named_after_the_database_that_survives_the_tables_DDL_and_is_released()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        var name = MySqlMigrationManager.ComputeDbLockName(db.Database, "migration_lock");
        Assert.Equal("sgm:" + db.Database + ".migration_lock", name);
        await using var manager = Manager(db);

        await manager.AcquireDbLockAsync(CancellationToken.None);
        Assert.Equal(1, await db.CountAsync($"SELECT IS_USED_LOCK('{name}') IS NOT NULL"));
        await manager.EnsureDataStoresAsync(CancellationToken.None); // CREATE TABLE commits implicitly
        Assert.Equal(1, await db.CountAsync($"SELECT IS_USED_LOCK('{name}') IS NOT NULL"));
        Assert.Equal(1, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migration_status'"));

        await manager.ReleaseDbLockAsync(CancellationToken.None);
        Assert.Equal(1, await db.CountAsync($"SELECT IS_USED_LOCK('{name}') IS NULL"));
    }

    [DbFact]
    public async Task Two_databases_on_one_server_do_not_share_the_database_lock()
    {
        await using var first = await MariaDbTarget.CreateAsync();
        await using var second = await MariaDbTarget.CreateAsync();
        await using var holder = Manager(first);
        await using var other = Manager(second);
        await using var sameDatabase = Manager(first);

        await holder.AcquireDbLockAsync(CancellationToken.None);
        await other.AcquireDbLockAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sameDatabase.AcquireDbLockAsync(cts.Token));
        }

        await other.ReleaseDbLockAsync(CancellationToken.None);
        await holder.ReleaseDbLockAsync(CancellationToken.None);
    }

    [Fact]
    public void A_lock_name_longer_than_64_characters_is_hashed_to_64()
    {
        var database = new string('d', 64);
        var name = MySqlMigrationManager.ComputeDbLockName(database, "migration_lock");
        Assert.Equal(64, name.Length);
        Assert.Matches("^sgm:[0-9a-f]{60}$", name);
        Assert.NotEqual(name, MySqlMigrationManager.ComputeDbLockName(database, "other_lock"));
        Assert.Equal("sgm:app.migration_lock", MySqlMigrationManager.ComputeDbLockName("app", "migration_lock"));
    }

    [DbFact]
    public async Task The_server_computes_the_same_hashed_lock_name_for_a_long_database_name()
    {
        // A 64-character database name: the lock name must be hashed, and the server's SHA2 must agree with the C# rule.
        var db = await MariaDbTarget.CreateAsync();
        await db.DisposeAsync();
        var longName = "sgm_long_" + Guid.NewGuid().ToString("N") + new string('x', 23);
        var admin = new MySqlConnectionStringBuilder(db.ConnectionString) { Database = "" }.ConnectionString;
        await using (var connection = new MySqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new MySqlCommand($"CREATE DATABASE `{longName}`", connection);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new MySqlConnectionStringBuilder(db.ConnectionString) { Database = longName }.ConnectionString;
        await using var manager = new MySqlMigrationManager(connectionString);
        await manager.AcquireDbLockAsync(CancellationToken.None);
        await using (var probe = new MySqlConnection(connectionString))
        {
            await probe.OpenAsync();
            await using var used = new MySqlCommand("SELECT IS_USED_LOCK(@name) IS NOT NULL", probe);
            used.Parameters.AddWithValue("@name", MySqlMigrationManager.ComputeDbLockName(longName, "migration_lock"));
            Assert.Equal(1L, Convert.ToInt64(await used.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        }

        await manager.ReleaseDbLockAsync(CancellationToken.None);
    }

    [DbFact]
    public async Task Releasing_a_database_lock_whose_session_was_killed_is_an_error()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        var name = MySqlMigrationManager.ComputeDbLockName(db.Database, "migration_lock");
        await using var manager = Manager(db);
        await manager.AcquireDbLockAsync(CancellationToken.None);
        var holder = await db.CountAsync($"SELECT IS_USED_LOCK('{name}')");
        await db.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"KILL {holder}"));

        await Assert.ThrowsAnyAsync<Exception>(() => manager.ReleaseDbLockAsync(CancellationToken.None));
        Assert.Equal(1, await db.CountAsync($"SELECT IS_USED_LOCK('{name}') IS NULL"));
    }

    [DbFact]
    public async Task A_callers_data_source_without_IgnoreCommandTransaction_is_warned_about_and_commands_that_set_Transaction_still_work()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var log = new LogRecorder();
        await using var dataSource = new MySqlDataSource(db.ConnectionString);
        await using var manager = new MySqlMigrationManager(dataSource, new MySqlMigrationManagerOptions { Logger = log, PollInterval = TimeSpan.FromMilliseconds(50) });
        Assert.Contains(log.Entries, e => e.Id == 5005 && e.Message.Contains("IgnoreCommandTransaction=true", StringComparison.Ordinal));
        var registrations = new[]
        {
            new MigrationRegistration(1, async (context, ct) =>
            {
                await using var command = new MySqlCommand("INSERT INTO side_effect VALUES (1, 'PENDING', 0)", context.GetMySqlConnection(), context.GetMySqlTransaction());
                await command.ExecuteNonQueryAsync(ct);
            }),
            new MigrationRegistration(2, DbTarget.InsertSideEffectAsync),
        };

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, registrations, Options()));

        // MySqlConnector refuses a command without the transaction; the migration fails and keeps nothing.
        Assert.Equal("failed to complete the migration with order 2", error.Step);
        Assert.Contains("transaction", ManagerScenarios.FullText(error), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "FAILED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(1));
        Assert.Equal(0, await db.SideEffectCountAsync(2));
    }

    [DbFact]
    public async Task A_callers_data_source_with_IgnoreCommandTransaction_serves_commands_made_the_ordinary_way_and_is_itself_served()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        var log = new LogRecorder();
        await using var dataSource = new MySqlDataSource(db.ConnectionString + ";IgnoreCommandTransaction=true");
        await using var manager = new MySqlMigrationManager(dataSource, new MySqlMigrationManagerOptions { Logger = log });
        object? served = null;
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, (context, ct) =>
        {
            served = context.Services!.GetService(typeof(MySqlDataSource));
            return DbTarget.InsertSideEffectAsync(context, ct);
        })], Options());

        Assert.Same(dataSource, served);
        Assert.DoesNotContain(log.Entries, e => e.Id == 5005);
        Assert.Equal(1, await db.SideEffectCountAsync(1));
    }

    [DbFact]
    public async Task A_non_transactional_migration_is_served_a_connection_without_a_transaction()
    {
        await using var db = await MariaDbTarget.CreateAsync();
        await using var manager = Manager(db);
        var seen = new List<object?>();
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, async (context, ct) =>
        {
            seen.Add(context.Services!.GetService(typeof(MySqlTransaction)));
            seen.Add(await InTransactionAsync(context, ct));
        }, transactional: false)], Options());

        Assert.Equal([null, 0L], seen);
    }

    /// <summary>Keeps every log entry with its event id.</summary>
    private sealed class LogRecorder : ILogger
    {
        private readonly ConcurrentQueue<(LogLevel Level, int Id, string Message)> _entries = new();

        public IReadOnlyCollection<(LogLevel Level, int Id, string Message)> Entries => _entries;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}
