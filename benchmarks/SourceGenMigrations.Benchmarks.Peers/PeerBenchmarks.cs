using System.Globalization;
using BenchmarkDotNet.Attributes;
using Perfolizer.Horology;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Data.Sqlite;
using Peers.DbUp;
using Peers.Floor;
using Peers.FloorPostgres;
using Peers.FluentMigrator;
using Peers.Sgm;
using Peers.SgmPostgres;

namespace SourceGenMigrations.Benchmarks.Peers;

/// <summary>The contenders of issue 7 (Sgm: SourceGenMigrations); "NoWal" variants use SQLite's default rollback journal, as the peers do.</summary>
public enum Contender
{
    Floor,
    Sgm,
    FluentMigrator,
    DbUp,
    FloorNoWal,
    SgmNoWal,
}

/// <summary>What the SQLite benchmarks share: one database file per operation, created in PEERS_DB_DIR (default: the temp directory).</summary>
public abstract class SqliteFileBenchmarkBase
{
    private string _directory = "";
    private int _files;

    /// <summary>
    /// The values of <typeparamref name="T"/> named in PEERS_CONTENDERS (comma-separated <see cref="Contender"/> names,
    /// e.g. <c>Sgm,Floor</c>; those <typeparamref name="T"/> lacks, such as <c>SgmNoWal</c> for <see cref="Peer"/>, are
    /// skipped), or all of them.
    /// </summary>
    public static IEnumerable<T> Selected<T>()
        where T : struct, Enum =>
        Environment.GetEnvironmentVariable("PEERS_CONTENDERS") is { Length: > 0 } names
            ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(name => Enum.Parse<Contender>(name).ToString()) // a name no contender has is an error
                .Select(name => Enum.TryParse<T>(name, out var value) ? value : (T?)null).OfType<T>()
            : Enum.GetValues<T>();

    protected string NewFile(string label)
    {
        var n = Interlocked.Increment(ref _files).ToString(CultureInfo.InvariantCulture);
        return Path.Combine(_directory, label + "-" + n + ".db");
    }

    protected void CreateDirectory()
    {
        var root = Environment.GetEnvironmentVariable("PEERS_DB_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
        _directory = Path.Combine(root, "sgm-peers-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
    }

    protected void DeleteDirectory()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    protected static void Delete(string file)
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
        {
            File.Delete(file + suffix);
        }
    }
}

/// <summary>The contenders of the default-mode SQLite cases.</summary>
public abstract class PeerBenchmarkBase : SqliteFileBenchmarkBase
{
    [ParamsSource(nameof(Contenders))]
    public Contender Contender { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    /// <summary>Every contender, or those named in PEERS_CONTENDERS.</summary>
    public static IEnumerable<Contender> Contenders() => Selected<Contender>();

    protected string NewFile() => NewFile(Contender + "-" + N.ToString(CultureInfo.InvariantCulture));

    /// <summary>One run of the contender against <paramref name="file"/>, the same call the contender's program makes.</summary>
    protected void RunContender(string file)
    {
        switch (Contender)
        {
            case Contender.Floor:
                FloorContender.Run(file, N);
                break;
            case Contender.FloorNoWal:
                FloorContender.Run(file, N, writeAheadLog: false);
                break;
            case Contender.Sgm:
                SgmContender.RunAsync(file, N).GetAwaiter().GetResult();
                break;
            case Contender.SgmNoWal:
                SgmContender.RunAsync(file, N, writeAheadLog: false).GetAwaiter().GetResult();
                break;
            case Contender.FluentMigrator:
                FluentMigratorContender.Run(file, N);
                break;
            case Contender.DbUp:
                DbUpContender.Run(file, N);
                break;
            default:
                throw new InvalidOperationException(Contender.ToString());
        }
    }
}

/// <summary>No-op run: all N migrations already applied (what every service start costs).</summary>
[Config(typeof(Config))]
public class NoOpBenchmarks : PeerBenchmarkBase
{
    private string _file = "";

    private sealed class Config : ManualConfig
    {
        // A no-op run leaves the file as it found it, so BenchmarkDotNet's usual steady-state measurement applies: its
        // pilot picks how many runs make a 250 ms iteration, and ten warm-up iterations let tiered compilation finish
        // (the cold path is what the whole-process figures measure).
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1).WithWarmupCount(10).WithIterationCount(20).WithIterationTime(TimeInterval.FromMilliseconds(250)).WithUnrollFactor(1));
    }

    [GlobalSetup]
    public void Setup()
    {
        CreateDirectory();
        _file = NewFile();
        RunContender(_file);
    }

    [Benchmark(Description = "no-op")]
    public void NoOp() => RunContender(_file);

    [GlobalCleanup]
    public void Cleanup() => DeleteDirectory();
}

/// <summary>The job of every fresh case: one run per iteration (a fresh run needs a fresh database), 5 after 1 warm-up.</summary>
public sealed class FreshConfig : ManualConfig
{
    public FreshConfig() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
}

/// <summary>Fresh run: an empty database file, apply N.</summary>
[Config(typeof(FreshConfig))]
public class FreshBenchmarks : PeerBenchmarkBase
{
    private string _file = "";

    [GlobalSetup]
    public void Setup() => CreateDirectory();

    [IterationSetup]
    public void NewDatabase() => _file = NewFile();

    [Benchmark(Description = "fresh")]
    public void Fresh() => RunContender(_file);

    [IterationCleanup]
    public void DeleteDatabase() => Delete(_file);

    [GlobalCleanup]
    public void Cleanup() => DeleteDirectory();
}

/// <summary>The contenders on PostgreSQL and in the durable-commit cases (the rollback-journal variants of <see cref="Contender"/> are the default-mode SQLite cases').</summary>
public enum Peer
{
    Floor,
    Sgm,
    FluentMigrator,
    DbUp,
}

/// <summary>
/// What the PostgreSQL benchmarks share: a new database per case (no-op) or per run (fresh), created on the server of
/// PEERS_PG_CONNECTION_STRING (a connection string to a database the benchmark may create databases from, e.g.
/// <c>Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres</c>; benchmarks/run-peers.sh sets it).
/// </summary>
public abstract class PostgresPeerBenchmarkBase
{
    [ParamsSource(nameof(Contenders))]
    public Peer Contender { get; set; }

    /// <summary>N: each concrete class gives its values.</summary>
    public abstract int N { get; set; }

    /// <summary>Whether the floor is the durable-commit cases' one (one commit per migration) rather than SourceGenMigrations' statements.</summary>
    protected virtual bool FloorCommitsPerMigration => false;

    /// <summary>Every contender, or those named in PEERS_CONTENDERS.</summary>
    public static IEnumerable<Peer> Contenders() => SqliteFileBenchmarkBase.Selected<Peer>();

    private static string Admin =>
        Environment.GetEnvironmentVariable("PEERS_PG_CONNECTION_STRING") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("Set PEERS_PG_CONNECTION_STRING to run the PostgreSQL benchmarks (benchmarks/run-peers.sh does).");

    /// <summary>Creates an empty database and returns the connection string of it.</summary>
    protected string CreateDatabase()
    {
        // Unique in the process: a contender may keep a data source per connection string, and a dropped database's
        // name used again would hand it connections the drop terminated.
        var name = "sgm_peers_" + Contender.ToString().ToLowerInvariant() + "_" + N.ToString(CultureInfo.InvariantCulture) + "_"
            + Guid.NewGuid().ToString("N")[..12];
        ExecuteOnAdmin($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        ExecuteOnAdmin($"CREATE DATABASE {name}");
        return new Npgsql.NpgsqlConnectionStringBuilder(Admin) { Database = name }.ConnectionString;
    }

    protected static void DropDatabase(string connectionString)
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        var name = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database;
        ExecuteOnAdmin($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>One run of the contender against the database of <paramref name="connectionString"/>.</summary>
    protected void RunContender(string connectionString)
    {
        switch (Contender)
        {
            case Peer.Floor when FloorCommitsPerMigration:
                FloorPostgresContender.RunCommitPerMigration(connectionString, N);
                break;
            case Peer.Floor:
                FloorPostgresContender.Run(connectionString, N);
                break;
            case Peer.Sgm:
                SgmPostgresContender.RunAsync(connectionString, N).GetAwaiter().GetResult();
                break;
            case Peer.FluentMigrator:
                FluentMigratorContender.Run(connectionString, N);
                break;
            case Peer.DbUp:
                DbUpContender.Run(connectionString, N);
                break;
            default:
                throw new InvalidOperationException(Contender.ToString());
        }
    }

    private static void ExecuteOnAdmin(string sql)
    {
        using var connection = new Npgsql.NpgsqlConnection(Admin);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}

/// <summary>No-op run on PostgreSQL: all N migrations already applied.</summary>
[Config(typeof(Config))]
public class PostgresNoOpBenchmarks : PostgresPeerBenchmarkBase
{
    private string _database = "";

    [Params(100, 1000)]
    public override int N { get; set; }

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

/// <summary>Fresh run on PostgreSQL: an empty database, apply N.</summary>
[Config(typeof(FreshConfig))]
public class PostgresFreshBenchmarks : PostgresPeerBenchmarkBase
{
    private string _database = "";

    [Params(100, 1000)]
    public override int N { get; set; }

    [IterationSetup]
    public void NewDatabase() => _database = CreateDatabase();

    [Benchmark(Description = "fresh")]
    public void Fresh() => RunContender(_database);

    [IterationCleanup]
    public void DropIt() => DropDatabase(_database);
}
