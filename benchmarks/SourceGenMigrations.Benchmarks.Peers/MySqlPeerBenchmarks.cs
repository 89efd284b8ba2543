using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MySqlConnector;
using Peers.FloorMySql;
using Peers.FluentMigrator;
using Peers.SgmMySql;
using Perfolizer.Horology;

namespace SourceGenMigrations.Benchmarks.Peers;

/// <summary>
/// The contenders on MySQL/MariaDB (issue 18). DbUp is not among them: its MySQL package (dbup-mysql) is not served
/// where these benchmarks are built, only dbup-core, -postgresql, -sqlite and -sqlserver.
/// </summary>
public enum MySqlPeer
{
    Floor,
    Sgm,
    FluentMigrator,
}

/// <summary>
/// What the MySQL benchmarks share: a new database per case (no-op) or per run (fresh), created on the server of
/// PEERS_MYSQL_CONNECTION_STRING (a MySqlConnector connection string starting with <c>Server=</c>, of a user that may
/// create databases, e.g. <c>Server=127.0.0.1;Port=3306;User ID=root;Password=</c>; benchmarks/run-peers.sh sets it).
/// </summary>
public abstract class MySqlPeerBenchmarkBase
{
    [ParamsSource(nameof(Contenders))]
    public MySqlPeer Contender { get; set; }

    [Params(1000)]
    public int N { get; set; }

    /// <summary>Every contender, or those named in PEERS_CONTENDERS.</summary>
    public static IEnumerable<MySqlPeer> Contenders() => SqliteFileBenchmarkBase.Selected<MySqlPeer>();

    private static string Admin =>
        Environment.GetEnvironmentVariable("PEERS_MYSQL_CONNECTION_STRING") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("Set PEERS_MYSQL_CONNECTION_STRING to run the MySQL benchmarks (benchmarks/run-peers.sh does).");

    /// <summary>Creates an empty database and returns the connection string of it (unique names: contenders keep pools per connection string).</summary>
    protected string CreateDatabase()
    {
        var name = "sgm_peers_" + Contender.ToString().ToLowerInvariant() + "_" + N.ToString(CultureInfo.InvariantCulture) + "_"
            + Guid.NewGuid().ToString("N")[..12];
        ExecuteOnAdmin($"CREATE DATABASE `{name}`");
        return new MySqlConnectionStringBuilder(Admin) { Database = name }.ConnectionString;
    }

    protected static void DropDatabase(string connectionString)
    {
        MySqlConnection.ClearAllPools();
        ExecuteOnAdmin($"DROP DATABASE IF EXISTS `{new MySqlConnectionStringBuilder(connectionString).Database}`");
    }

    /// <summary>One run of the contender against the database of <paramref name="connectionString"/>.</summary>
    protected void RunContender(string connectionString)
    {
        switch (Contender)
        {
            case MySqlPeer.Floor:
                FloorMySqlContender.Run(connectionString, N);
                break;
            case MySqlPeer.Sgm:
                SgmMySqlContender.RunAsync(connectionString, N).GetAwaiter().GetResult();
                break;
            case MySqlPeer.FluentMigrator:
                FluentMigratorContender.Run(connectionString, N);
                break;
            default:
                throw new InvalidOperationException(Contender.ToString());
        }
    }

    private static void ExecuteOnAdmin(string sql)
    {
        using var connection = new MySqlConnection(Admin);
        connection.Open();
        using var command = new MySqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}

/// <summary>No-op run on MySQL/MariaDB: all N migrations already applied.</summary>
[Config(typeof(Config))]
public class MySqlNoOpBenchmarks : MySqlPeerBenchmarkBase
{
    private string _database = "";

    private sealed class Config : ManualConfig
    {
        // As NoOpBenchmarks: steady state.
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1).WithWarmupCount(10).WithIterationCount(20).WithIterationTime(TimeInterval.FromMilliseconds(250)).WithUnrollFactor(1));
    }

    [GlobalSetup]
    public void Setup()
    {
        _database = CreateDatabase();
        RunContender(_database);
    }

    [Benchmark(Description = "no-op")]
    public void NoOp() => RunContender(_database);

    [GlobalCleanup]
    public void Cleanup() => DropDatabase(_database);
}

/// <summary>Fresh run on MySQL/MariaDB: an empty database, apply N.</summary>
[Config(typeof(FreshConfig))]
public class MySqlFreshBenchmarks : MySqlPeerBenchmarkBase
{
    private string _database = "";

    [IterationSetup]
    public void NewDatabase() => _database = CreateDatabase();

    [Benchmark(Description = "fresh")]
    public void Fresh() => RunContender(_database);

    [IterationCleanup]
    public void DropIt() => DropDatabase(_database);
}
