using System.Globalization;
using MySqlConnector;
using SourceGenMigrations.MySql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>A fresh database on <see cref="MariaDbServer"/>, managed by <see cref="MySqlMigrationManager"/>.</summary>
public sealed class MariaDbTarget : DbTarget
{
    private readonly MySqlDataSource _dataSource;

    private MariaDbTarget(string connectionString)
    {
        ConnectionString = connectionString;
        _dataSource = new MySqlDataSource(connectionString);
    }

    public static async Task<MariaDbTarget> CreateAsync() => new(await MariaDbServer.Instance.CreateDatabaseAsync());

    /// <summary>The runner program's kind: the MySQL manager.</summary>
    public override string Kind => "mysql";

    public override string ConnectionString { get; }

    public override string StatusTable => "migration_status";

    public override string LockTable => "migration_lock";

    /// <summary>The database's name (also what <c>DATABASE()</c> answers on its connections).</summary>
    public string Database => new MySqlConnectionStringBuilder(ConnectionString).Database;

    // A table-level FOREIGN KEY: InnoDB enforces it at each statement (there are no deferred constraints).
    public override string CreateChildTableWithDeferredForeignKey =>
        "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer, FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE = InnoDB";

    public override IMigrationManager CreateManager(ManagerSettings? settings = null) => CreateManager(ConnectionString, settings);

    /// <summary>A manager on <paramref name="connectionString"/> with the test settings.</summary>
    internal static MySqlMigrationManager CreateManager(string connectionString, ManagerSettings? settings)
    {
        settings ??= new ManagerSettings();
        return new MySqlMigrationManager(connectionString, Options(settings));
    }

    internal static MySqlMigrationManagerOptions Options(ManagerSettings settings) => new()
    {
        LeaseDuration = settings.Lease ?? TimeSpan.FromSeconds(30),
        PollInterval = settings.Poll ?? TimeSpan.FromMilliseconds(50),
        OwnerId = settings.OwnerId,
    };

    public override async Task ExecuteAsync(string sql)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task<long> CountAsync(string sql)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public override async Task<List<(string Owner, long ExpiresMs)>> ReadLeaseAsync()
    {
        var rows = new List<(string, long)>();
        await QueryAsync(
            "SELECT owner_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', expires_at) DIV 1000 FROM migration_lock",
            r => rows.Add((r.GetString(0), r.GetInt64(1))));
        return rows;
    }

    protected override async Task QueryAsync(string sql, Action<System.Data.Common.DbDataReader> row)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            row(reader);
        }
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
