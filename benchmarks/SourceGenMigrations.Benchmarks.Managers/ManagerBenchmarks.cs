using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Data.Sqlite;
using Npgsql;
using SourceGenMigrations;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.Benchmarks.Managers;

/// <summary>
/// The two targets of DESIGN.md on real databases: a no-op run over 1,000 completed migrations (what every service
/// start costs) and a fresh run of 1,000 trivial migrations. SQLite: a file in WAL mode (the manager's default,
/// synchronous=NORMAL on its connections). PostgreSQL: when SGM_POSTGRES_CONNECTION_STRING is set.
/// Each operation includes constructing and disposing the manager.
/// </summary>
[Config(typeof(Config))]
public class ManagerBenchmarks
{
    private const int Count = 1000;
    private static readonly MigrationOptions Options = new() { ConfigProvider = () => new MigrationConfig() };
    private readonly List<MigrationRegistration> _registrations =
        Enumerable.Range(1, Count).Select(i => new MigrationRegistration(i, static (_, _) => Task.CompletedTask)).ToList();

    private string _completedDatabase = "";
    private string _freshDatabase = "";
    private string _directory = "";
    private int _fresh;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // In process; one operation per iteration because a fresh run needs a fresh database.
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithInvocationCount(1).WithUnrollFactor(1).WithIterationCount(10));
        }
    }

    [ParamsSource(nameof(Databases))]
    public string Database { get; set; } = "sqlite";

    public static IEnumerable<string> Databases() =>
        string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SGM_POSTGRES_CONNECTION_STRING")) ? ["sqlite"] : ["sqlite", "postgres"];

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "sgm-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        _completedDatabase = NewDatabase();
        RunAsync(_completedDatabase).GetAwaiter().GetResult();
    }

    [IterationSetup(Target = nameof(FreshRun))]
    public void NewFreshDatabase() => _freshDatabase = NewDatabase();

    [Benchmark(Description = "no-op run, 1,000 completed")]
    public Task NoOpRun() => RunAsync(_completedDatabase);

    [Benchmark(Description = "fresh run, 1,000 trivial migrations")]
    public Task FreshRun() => RunAsync(_freshDatabase);

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task RunAsync(string connectionString)
    {
        IMigrationManager manager = Database == "sqlite"
            ? new SqliteMigrationManager(connectionString)
            : new PostgreSqlMigrationManager(connectionString);
        try
        {
            await MigrationRunner.RunAsync(manager, _registrations, Options);
        }
        finally
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }
    }

    private string NewDatabase()
    {
        var n = Interlocked.Increment(ref _fresh).ToString(CultureInfo.InvariantCulture);
        if (Database == "sqlite")
        {
            return "Data Source=" + Path.Combine(_directory, "db" + n + ".db");
        }

        var admin = Environment.GetEnvironmentVariable("SGM_POSTGRES_CONNECTION_STRING")!;
        var name = "sgm_bench_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "_" + n;
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\"; ", connection);
            command.ExecuteNonQuery();
            command.CommandText = $"CREATE DATABASE \"{name}\"";
            command.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }
}
