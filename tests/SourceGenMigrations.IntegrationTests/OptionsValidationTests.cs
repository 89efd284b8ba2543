using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Bad identifiers and options are an <see cref="ArgumentException"/> at construction, naming the option and the value.</summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<string> BadIdentifiers => ["", "1abc", "migration; DROP TABLE x", "a\"b", "with space", "tab\tle", "naïve", new string('a', 64), "a-b"];

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public void Sqlite_rejects_a_bad_table_prefix(string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { TablePrefix = prefix }));
        Assert.Equal("TablePrefix", error.ParamName);
        Assert.Contains("'" + prefix + "'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public void PostgreSql_rejects_a_bad_schema_prefix_or_table_name(string name)
    {
        const string cs = "Host=127.0.0.1;Username=x";
        Assert.Equal("Schema", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager(cs, new PostgreSqlMigrationManagerOptions { Schema = name })).ParamName);
        Assert.Equal("TablePrefix", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager(cs, new PostgreSqlMigrationManagerOptions { TablePrefix = name })).ParamName);
        Assert.Equal("LockTableName", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager(cs, new PostgreSqlMigrationManagerOptions { LockTableName = name })).ParamName);
        Assert.Equal("StatusTableName", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager(cs, new PostgreSqlMigrationManagerOptions { StatusTableName = name })).ParamName);
    }

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public void MySql_rejects_a_bad_prefix_or_table_name(string name)
    {
        const string cs = "Server=127.0.0.1;Database=app";
        Assert.Equal("TablePrefix", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager(cs, new MySqlMigrationManagerOptions { TablePrefix = name })).ParamName);
        Assert.Equal("LockTableName", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager(cs, new MySqlMigrationManagerOptions { LockTableName = name })).ParamName);
        var error = Assert.Throws<ArgumentException>(() => new MySqlMigrationManager(cs, new MySqlMigrationManagerOptions { StatusTableName = name }));
        Assert.Equal("StatusTableName", error.ParamName);
        Assert.Contains("'" + name + "'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MySql_table_names_that_differ_only_by_case_are_rejected_as_the_same_table()
    {
        // lower_case_table_names makes them one table on Windows and macOS servers.
        Assert.Throws<ArgumentException>(() => new MySqlMigrationManager("Server=h;Database=app", new MySqlMigrationManagerOptions { LockTableName = "Migrations", StatusTableName = "migrations" }));
        using var ok = new MySqlMigrationManager("Server=h;Database=app", new MySqlMigrationManagerOptions { TablePrefix = "app_1" });
        Assert.Equal(("app_1_lock", "app_1_status"), (ok.LockTableName, ok.StatusTableName));
    }

    [Fact]
    public void A_prefix_whose_table_names_are_too_long_is_rejected()
    {
        var prefix = new string('p', 60); // 60 + "_lock" > 63
        var error = Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { TablePrefix = prefix }));
        Assert.Contains(prefix + "_lock", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Explicit_table_names_must_be_identifiers_and_differ()
    {
        Assert.Equal("LockTableName", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { LockTableName = "x y" })).ParamName);
        Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { LockTableName = "same", StatusTableName = "same" }));
        using var ok = new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { LockTableName = "locks", StatusTableName = "Statuses_2" });
        Assert.Equal("locks", ok.LockTableName);
        Assert.Equal("Statuses_2", ok.StatusTableName);
    }

    public static TheoryData<TimeSpan> BadDurations => [TimeSpan.Zero, TimeSpan.FromMilliseconds(-1), TimeSpan.FromDays(2)];

    [Theory]
    [MemberData(nameof(BadDurations))]
    public void Durations_must_be_positive_and_bounded(TimeSpan value)
    {
        Assert.Equal("LeaseDuration", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { LeaseDuration = value })).ParamName);
        Assert.Equal("PollInterval", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { PollInterval = value })).ParamName);
        Assert.Equal("LeaseDuration", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager("Host=h", new PostgreSqlMigrationManagerOptions { LeaseDuration = value })).ParamName);
        Assert.Equal("PollInterval", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager("Host=h", new PostgreSqlMigrationManagerOptions { PollInterval = value })).ParamName);
        Assert.Equal("LeaseDuration", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager("Server=h", new MySqlMigrationManagerOptions { LeaseDuration = value })).ParamName);
        Assert.Equal("PollInterval", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager("Server=h", new MySqlMigrationManagerOptions { PollInterval = value })).ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a\nb")]
    public void Owner_id_must_be_visible_text(string owner)
    {
        Assert.Equal("OwnerId", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { OwnerId = owner })).ParamName);
        Assert.Equal("OwnerId", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager("Host=h", new PostgreSqlMigrationManagerOptions { OwnerId = owner })).ParamName);
        Assert.Equal("OwnerId", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager("Server=h", new MySqlMigrationManagerOptions { OwnerId = owner })).ParamName);
    }

    [Fact]
    public void Bad_connection_strings_are_argument_exceptions()
    {
        Assert.Throws<ArgumentNullException>(() => new SqliteMigrationManager(null!));
        Assert.Equal("connectionString", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Nonsense Keyword=1")).ParamName);
        Assert.Equal("connectionString", Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Mode=ReadOnly")).ParamName);
        Assert.Equal("connectionString", Assert.Throws<ArgumentException>(() => new PostgreSqlMigrationManager("Nonsense Keyword=1")).ParamName);
        Assert.Throws<ArgumentNullException>(() => new PostgreSqlMigrationManager((Npgsql.NpgsqlDataSource)null!));
        Assert.Equal("connectionString", Assert.Throws<ArgumentException>(() => new MySqlMigrationManager("Nonsense Keyword=1")).ParamName);
        Assert.Throws<ArgumentNullException>(() => new MySqlMigrationManager((string)null!));
        Assert.Throws<ArgumentNullException>(() => new MySqlMigrationManager((MySqlConnector.MySqlDataSource)null!));
    }

    [Fact]
    public void MySql_manager_built_from_a_connection_string_serves_commands_without_their_transaction()
    {
        // Its own data source has IgnoreCommandTransaction=true, so commands made the ordinary way join a migration's transaction.
        using var manager = new MySqlMigrationManager("Server=h;Database=app;IgnoreCommandTransaction=false");
        var dataSource = Assert.IsType<MySqlConnector.MySqlDataSource>(manager.GetService(typeof(MySqlConnector.MySqlDataSource)));
        Assert.True(new MySqlConnector.MySqlConnectionStringBuilder(dataSource.ConnectionString).IgnoreCommandTransaction);
        Assert.Null(manager.GetService(typeof(System.Data.Common.DbConnection)));
        Assert.Same(manager, manager.GetService(typeof(ITransactionalMigrationManager)));
    }

    [Fact]
    public void Generated_owner_ids_name_host_and_process_and_differ_per_manager()
    {
        using var a = new SqliteMigrationManager("Data Source=x.db");
        using var b = new SqliteMigrationManager("Data Source=x.db");
        Assert.StartsWith(Environment.MachineName + "/" + Environment.ProcessId + "/", a.OwnerId, StringComparison.Ordinal);
        Assert.Matches("/[0-9a-f]{12}$", a.OwnerId);
        Assert.NotEqual(a.OwnerId, b.OwnerId);

        // Many at once: the random part keeps every manager of a process apart.
        var ids = Enumerable.Range(0, 1_000).Select(_ => { using var m = new SqliteMigrationManager("Data Source=x.db"); return m.OwnerId; }).ToHashSet();
        Assert.Equal(1_000, ids.Count);
    }

    [Fact]
    public void Advisory_lock_key_is_fixed_per_schema_and_lock_table()
    {
        using var a = new PostgreSqlMigrationManager("Host=h");
        using var b = new PostgreSqlMigrationManager("Host=h", new PostgreSqlMigrationManagerOptions { Schema = "other" });
        Assert.Equal(PostgreSqlMigrationManager.ComputeAdvisoryLockKey("public", "migration_lock"), a.AdvisoryLockKey);
        Assert.NotEqual(a.AdvisoryLockKey, b.AdvisoryLockKey);
        // FNV-1a-64 of "SourceGenMigrations:public.migration_lock": documented, so it must never change.
        Assert.Equal(a.AdvisoryLockKey, new PostgreSqlMigrationManager("Host=h").AdvisoryLockKey);
    }
}
