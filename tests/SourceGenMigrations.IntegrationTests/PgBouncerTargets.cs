using System.Globalization;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// A fresh PostgreSQL database whose managers (in process, and the runner processes given
/// <see cref="ConnectionString"/>) reach it through <see cref="PgBouncerServer"/> in transaction pooling mode, while
/// the raw SQL of arranging and asserting (statuses, side effects, the lease, <c>pg_locks</c>) goes straight to the
/// server (<see cref="PostgresTarget"/>), so no assertion depends on the pooler.
/// </summary>
public sealed class PgBouncerTarget : DbTarget
{
    private readonly PostgresTarget _server;

    private PgBouncerTarget(PostgresTarget server)
    {
        _server = server;
        ConnectionString = PgBouncerServer.Instance.ConnectionStringFor(server.ConnectionString);
    }

    public static async Task<PgBouncerTarget> CreateAsync()
    {
        _ = PgBouncerServer.Instance; // fails with PgBouncer's reason before a database is created
        return new(await PostgresTarget.CreateAsync());
    }

    /// <summary>The runner program's kind: the PostgreSQL manager (on the connection string through PgBouncer).</summary>
    public override string Kind => _server.Kind;

    /// <summary>The connection string through PgBouncer.</summary>
    public override string ConnectionString { get; }

    /// <summary>The connection string straight to the server (same database).</summary>
    public string DirectConnectionString => _server.ConnectionString;

    public override string StatusTable => _server.StatusTable;

    public override string LockTable => _server.LockTable;

    public override IMigrationManager CreateManager(ManagerSettings? settings = null) => PostgresTarget.CreateManager(ConnectionString, settings);

    /// <summary>Advisory locks held on this database by any session (asked of the server, not through PgBouncer).</summary>
    public Task<long> AdvisoryLockCountAsync() =>
        CountAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");

    /// <summary>What holds advisory locks on this database, one line per lock (for failure messages).</summary>
    public async Task<string> DescribeAdvisoryLocksAsync()
    {
        var lines = new List<string>();
        await QueryAsync(
            """
            SELECT l.pid, l.objid, l.mode, l.granted, coalesce(a.state, ''), coalesce(a.client_addr::text, ''), coalesce(left(a.query, 80), '')
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY l.pid
            """,
            r => lines.Add(string.Create(CultureInfo.InvariantCulture, $"pid {r.GetInt32(0)} key {r.GetValue(1)} {r.GetString(2)} granted={r.GetBoolean(3)} state={r.GetString(4)} client={r.GetString(5)} last query: {r.GetString(6)}")));
        return lines.Count == 0 ? "none" : string.Join("; ", lines);
    }

    public override Task ExecuteAsync(string sql) => _server.ExecuteAsync(sql);

    public override Task<long> CountAsync(string sql) => _server.CountAsync(sql);

    public override Task<List<(string Owner, long ExpiresMs)>> ReadLeaseAsync() => _server.ReadLeaseAsync();

    protected override Task QueryAsync(string sql, Action<System.Data.Common.DbDataReader> row) => _server.QueryDirectAsync(sql, row);

    public override ValueTask DisposeAsync() => _server.DisposeAsync();
}
