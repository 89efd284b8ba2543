using System.Globalization;
using Npgsql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// The PostgreSQL server of the test run: the one named by <c>SGM_POSTGRES_CONNECTION_STRING</c>, else a throwaway
/// cluster started from the local binaries (<c>/usr/lib/postgresql/N/bin</c>; as the <c>postgres</c> user when running
/// as root) on 127.0.0.1, a free port, trust auth, in a temp directory removed at process exit. Started once per process.
/// </summary>
public sealed class PostgresServer
{
    public const string ConnectionStringVariable = "SGM_POSTGRES_CONNECTION_STRING";
    public const string RequireVariable = "SGM_REQUIRE_POSTGRES";

    private static readonly Lazy<(PostgresServer? Server, string? Reason)> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private int _databaseCount;

    private PostgresServer(string adminConnectionString) => AdminConnectionString = adminConnectionString;

    public string AdminConnectionString { get; }

    /// <summary>Whether PostgreSQL must be available (CI): then a failure to start fails the tests instead of skipping them.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why PostgreSQL is unavailable, or null when it is available.</summary>
    public static string? UnavailableReason => Shared.Value.Reason;

    /// <summary>The server; throws with the reason when it could not be started.</summary>
    public static PostgresServer Instance => Shared.Value.Server
        ?? throw new InvalidOperationException("PostgreSQL is not available: " + Shared.Value.Reason);

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"sgm_{Environment.ProcessId}_{Interlocked.Increment(ref _databaseCount)}_{Guid.NewGuid():N}")[..40];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    private static (PostgresServer?, string?) Start()
    {
        try
        {
            var given = Environment.GetEnvironmentVariable(ConnectionStringVariable);
            if (!string.IsNullOrWhiteSpace(given))
            {
                using var probe = new NpgsqlConnection(given);
                probe.Open();
                return (new PostgresServer(given), null);
            }

            return StartCluster();
        }
        catch (Exception e)
        {
            return (null, e.GetType().Name + ": " + e.Message);
        }
    }

    private static (PostgresServer?, string?) StartCluster()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .ToList()
            : [];
        if (versions.Count == 0)
        {
            return (null, $"no PostgreSQL binaries in /usr/lib/postgresql/*/bin and {ConnectionStringVariable} is not set");
        }

        var bin = Path.Combine(versions[0], "bin");
        RemoveStaleClusters();
        var root = Path.Combine(Path.GetTempPath(), "sgm-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        var user = ServerProcesses.AsRoot ? "postgres" : null;
        if (user is not null)
        {
            ServerProcesses.Run("chown", ["postgres:postgres", root]);
        }

        var port = ServerProcesses.FreePort();
        ServerProcesses.Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], user);
        ServerProcesses.Run(Path.Combine(bin, "pg_ctl"), [
            "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", string.Create(CultureInfo.InvariantCulture, $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"),
            "start"], user);

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                ServerProcesses.Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], user);
            }
            catch (InvalidOperationException)
            {
            }

            ServerProcesses.TryDeleteDirectory(root);
        };

        var connectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=30");
        return (new PostgresServer(connectionString), null);
    }

    // The test host may be ended before its exit handler has removed the directory: clear earlier runs' leftovers
    // (directories whose server is no longer running) so they never pile up.
    private static void RemoveStaleClusters()
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), "sgm-pg-*"))
        {
            if (File.Exists(Path.Combine(stale, "data", "postmaster.pid")))
            {
                continue;
            }

            ServerProcesses.TryDeleteDirectory(stale);
        }
    }
}
