using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>Settings of a manager under test (the subset both managers share).</summary>
/// <param name="ForeignKeys">SQLite: open the manager's connections with <c>Foreign Keys=True</c> (PostgreSQL enforces them always).</param>
public sealed record ManagerSettings(TimeSpan? Lease = null, TimeSpan? Poll = null, string? OwnerId = null, bool ForeignKeys = false);

/// <summary>One fresh database of one kind, with raw SQL access for arranging and asserting.</summary>
public abstract class DbTarget : IAsyncDisposable
{
    public abstract string Kind { get; }

    public abstract string ConnectionString { get; }

    /// <summary>The status table as written in SQL (schema-qualified on PostgreSQL).</summary>
    public abstract string StatusTable { get; }

    public abstract string LockTable { get; }

    public abstract IMigrationManager CreateManager(ManagerSettings? settings = null);

    public abstract Task ExecuteAsync(string sql);

    public abstract Task<long> CountAsync(string sql);

    public abstract Task<List<(string Owner, long ExpiresMs)>> ReadLeaseAsync();

    /// <summary>
    /// A table <c>child (id, parent_id)</c> whose foreign key to <c>parent (id)</c> is checked as late as the database
    /// allows: at the commit where constraints can be deferred (SQLite, PostgreSQL). MySQL and MariaDB check foreign keys
    /// at each statement and cannot defer them, so there the orphan row fails its statement, and the migration with it.
    /// </summary>
    public virtual string CreateChildTableWithDeferredForeignKey =>
        "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)";

    public Task CreateSideEffectTableAsync() =>
        ExecuteAsync("CREATE TABLE side_effect (migration_order bigint NOT NULL, previous_status text NOT NULL, pid bigint NOT NULL)");

    public Task<long> SideEffectCountAsync(long order) =>
        CountAsync(string.Create(CultureInfo.InvariantCulture, $"SELECT COUNT(*) FROM side_effect WHERE migration_order = {order}"));

    /// <summary>
    /// What each test migration does: one row through the connection the manager serves as <see cref="DbConnection"/>
    /// (inside the migration's transaction when it is transactional), with a command made the ordinary way.
    /// </summary>
    public static async Task InsertSideEffectAsync(MigrationContext context, CancellationToken ct)
    {
        Assert.NotNull(context.Services);
        var connection = Assert.IsAssignableFrom<DbConnection>(context.Services.GetService(typeof(DbConnection)));
        await using var command = connection.CreateCommand();
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"INSERT INTO side_effect (migration_order, previous_status, pid) VALUES ({context.Order}, '{MigrationStatusText.ToText(context.PreviousStatus)}', {Environment.ProcessId})");
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<Dictionary<long, string>> StatusesAsync()
    {
        var rows = new Dictionary<long, string>();
        await QueryAsync($"SELECT migration_order, status FROM {StatusTable}", r => rows.Add(r.GetInt64(0), r.GetString(1)));
        return rows;
    }

    protected abstract Task QueryAsync(string sql, Action<System.Data.Common.DbDataReader> row);

    public abstract ValueTask DisposeAsync();
}

public sealed class SqliteTarget : DbTarget
{
    private readonly string _directory;

    public SqliteTarget()
    {
        _directory = Path.Combine(Path.GetTempPath(), "sgm-sqlite-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        ConnectionString = "Data Source=" + Path.Combine(_directory, "app.db");
    }

    public override string Kind => "sqlite";

    public override string ConnectionString { get; }

    public override string StatusTable => "migration_status";

    public override string LockTable => "migration_lock";

    public override IMigrationManager CreateManager(ManagerSettings? settings = null)
    {
        settings ??= new ManagerSettings();
        return new SqliteMigrationManager(ConnectionString + (settings.ForeignKeys ? ";Foreign Keys=True" : ""), new SqliteMigrationManagerOptions
        {
            LeaseDuration = settings.Lease ?? TimeSpan.FromSeconds(30),
            PollInterval = settings.Poll ?? TimeSpan.FromMilliseconds(50),
            OwnerId = settings.OwnerId,
        });
    }

    public override async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override async Task<long> CountAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public override async Task<List<(string Owner, long ExpiresMs)>> ReadLeaseAsync()
    {
        var rows = new List<(string, long)>();
        await QueryAsync("SELECT owner_id, expires_at_ms FROM migration_lock", r => rows.Add((r.GetString(0), r.GetInt64(1))));
        return rows;
    }

    protected override async Task QueryAsync(string sql, Action<System.Data.Common.DbDataReader> row)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            row(reader);
        }
    }

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresTarget : DbTarget
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresTarget(string connectionString)
    {
        ConnectionString = connectionString;
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public static async Task<PostgresTarget> CreateAsync() => new(await PostgresServer.Instance.CreateDatabaseAsync());

    public override string Kind => "postgres";

    public override string ConnectionString { get; }

    public override string StatusTable => "public.migration_status";

    public override string LockTable => "public.migration_lock";

    public override IMigrationManager CreateManager(ManagerSettings? settings = null) => CreateManager(ConnectionString, settings);

    /// <summary>A manager on <paramref name="connectionString"/> (this database, perhaps through a pooler) with the test settings.</summary>
    internal static PostgreSqlMigrationManager CreateManager(string connectionString, ManagerSettings? settings)
    {
        settings ??= new ManagerSettings();
        return new PostgreSqlMigrationManager(connectionString, new PostgreSqlMigrationManagerOptions
        {
            LeaseDuration = settings.Lease ?? TimeSpan.FromSeconds(30),
            PollInterval = settings.Poll ?? TimeSpan.FromMilliseconds(50),
            OwnerId = settings.OwnerId,
        });
    }

    public override async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task<long> CountAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public override async Task<List<(string Owner, long ExpiresMs)>> ReadLeaseAsync()
    {
        var rows = new List<(string, long)>();
        await QueryAsync(
            "SELECT owner_id, (extract(epoch from expires_at) * 1000)::bigint FROM public.migration_lock",
            r => rows.Add((r.GetString(0), r.GetInt64(1))));
        return rows;
    }

    protected override Task QueryAsync(string sql, Action<System.Data.Common.DbDataReader> row) => QueryDirectAsync(sql, row);

    /// <summary>Runs a query straight on the server (for targets that wrap this one).</summary>
    internal async Task QueryDirectAsync(string sql, Action<System.Data.Common.DbDataReader> row)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            row(reader);
        }
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
