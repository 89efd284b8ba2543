using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Peers.DbUp;
using Peers.Floor;
using Peers.FluentMigrator;
using Peers.Sgm;

namespace SourceGenMigrations.Benchmarks.Peers;

/// <summary>The durable-commit cases on SQLite (issue 13): every contender's commits wait for the disk (synchronous=FULL).</summary>
public enum Durability
{
    /// <summary>(a) Rollback journal (<c>journal_mode=DELETE</c>, SQLite's default for a new file), <c>synchronous=FULL</c>.</summary>
    RollbackFull,

    /// <summary>(b) WAL, put in place in the file before the run (a persistent property of it), <c>synchronous=FULL</c>.</summary>
    WalFull,
}

/// <summary>
/// Fresh run of 1,000 migrations with durable commits on SQLite, every contender at the same durability: the floor that
/// commits once per migration, SourceGenMigrations with <see cref="SgmContender.DurableOptions"/>, FluentMigrator and
/// DbUp as they come (they set no PRAGMA: SQLite's defaults, checked by <see cref="DurabilityCheck"/>).
/// </summary>
[Config(typeof(FreshConfig))]
public class DurableFreshBenchmarks : SqliteFileBenchmarkBase
{
    /// <summary>Migrations per fresh run.</summary>
    public const int N = 1000;

    private string _file = "";

    [ParamsSource(nameof(Contenders))]
    public Peer Contender { get; set; }

    [ParamsAllValues]
    public Durability Durability { get; set; }

    /// <summary>Every contender, or those named in PEERS_CONTENDERS.</summary>
    public static IEnumerable<Peer> Contenders() => Selected<Peer>();

    /// <summary>
    /// Makes <paramref name="file"/> ready for a fresh run of <paramref name="durability"/>: nothing for the rollback
    /// journal (no file: SQLite creates it in DELETE mode); an empty database already in WAL mode for WAL, so that every
    /// contender, also those that never ask for WAL, writes through the WAL.
    /// </summary>
    public static void Prepare(Durability durability, string file)
    {
        if (durability != Durability.WalFull)
        {
            return;
        }

        // Not pooled: no connection of ours is left for a contender to be handed.
        using var connection = new SqliteConnection("Data Source=" + file + ";Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        if (command.ExecuteScalar() is not "wal")
        {
            throw new InvalidOperationException("Could not put " + file + " in WAL mode.");
        }
    }

    /// <summary>One fresh run of <paramref name="contender"/> against <paramref name="file"/> (made ready by <see cref="Prepare"/>).</summary>
    public static void Run(Peer contender, Durability durability, string file)
    {
        var writeAheadLog = durability == Durability.WalFull;
        switch (contender)
        {
            case Peer.Floor:
                FloorContender.RunCommitPerMigration(file, N, writeAheadLog);
                break;
            case Peer.Sgm:
                SgmContender.RunAsync(file, N, SgmContender.DurableOptions(writeAheadLog)).GetAwaiter().GetResult();
                break;
            case Peer.FluentMigrator:
                FluentMigratorContender.Run(file, N);
                break;
            case Peer.DbUp:
                DbUpContender.Run(file, N);
                break;
            default:
                throw new InvalidOperationException(contender.ToString());
        }
    }

    [GlobalSetup]
    public void Setup() => CreateDirectory();

    [IterationSetup]
    public void NewDatabase()
    {
        _file = NewFile(Contender + "-" + Durability);
        Prepare(Durability, _file);
    }

    [Benchmark(Description = "fresh, durable")]
    public void Fresh() => Run(Contender, Durability, _file);

    [IterationCleanup]
    public void DeleteDatabase() => Delete(_file);

    [GlobalCleanup]
    public void Cleanup() => DeleteDirectory();
}

/// <summary>
/// (c) Fresh run of 1,000 migrations on PostgreSQL at the server's defaults (<c>fsync=on</c>,
/// <c>synchronous_commit=on</c>), the floor committing once per migration; otherwise as <see cref="PostgresFreshBenchmarks"/>.
/// </summary>
[Config(typeof(FreshConfig))]
public class PostgresDurableFreshBenchmarks : PostgresFreshBenchmarks
{
    [Params(DurableFreshBenchmarks.N)]
    public override int N { get; set; }

    protected override bool FloorCommitsPerMigration => true;
}
