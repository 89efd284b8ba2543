using System.Diagnostics;
using System.Globalization;
using System.Text;
using MySqlConnector;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// The MariaDB server of the test run: the one named by <c>SGM_MARIADB_CONNECTION_STRING</c> (a user allowed to create
/// databases), else a throwaway instance from the Debian package <c>mariadb-server</c> (<c>mariadb-install-db</c> and
/// <c>mariadbd</c>): a data directory, socket, pid file and log in a temp directory, on 127.0.0.1 and a free port, root
/// without a password; as the <c>mysql</c> user when running as root (mariadbd refuses to run as root). Started once per
/// process; killed and its directory removed at process exit, and stopped by a watchdog when the test host ends without
/// running its exit handlers (<see cref="ServerProcesses.StartWatched"/>), its directory then removed by the next start.
/// </summary>
/// <remarks>
/// Settings and why: <c>--no-defaults</c> (no /etc/mysql configuration of the machine leaks in);
/// <c>--innodb-flush-log-at-trx-commit=2</c> and <c>--sync-binlog=0</c> (commits without an fsync each: the tests are
/// about locking and atomicity, not durability across power loss, and 32 processes commit a lot);
/// <c>--max-connections=600</c> (32 runner processes with a few pooled connections each, beside the in-process tests);
/// <c>--skip-name-resolve</c> (no DNS lookup per connection).
/// </remarks>
public sealed class MariaDbServer
{
    public const string ConnectionStringVariable = "SGM_MARIADB_CONNECTION_STRING";
    public const string RequireVariable = "SGM_REQUIRE_MARIADB";

    private const string DirectoryPrefix = "sgm-mariadb-";
    private static readonly Lazy<(MariaDbServer? Server, string? Reason)> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private int _databaseCount;

    private MariaDbServer(string adminConnectionString) => AdminConnectionString = adminConnectionString;

    /// <summary>A connection string of a user that may create databases (no database named).</summary>
    public string AdminConnectionString { get; }

    /// <summary>Whether MariaDB must be available (CI): then a failure to start fails the tests instead of skipping them.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why MariaDB is unavailable, or null when it is available.</summary>
    public static string? UnavailableReason => Shared.Value.Reason;

    /// <summary>The reason to skip a MariaDB test, or null when it must run (available, or <see cref="Required"/>).</summary>
    public static string? SkipReason => Required || UnavailableReason is not { } reason ? null : "MariaDB unavailable: " + reason;

    /// <summary>The server; throws with the reason when it could not be started.</summary>
    public static MariaDbServer Instance => Shared.Value.Server
        ?? throw new InvalidOperationException("MariaDB is not available: " + Shared.Value.Reason);

    /// <summary>Creates a fresh, empty database and returns its connection string (pooled).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"sgm_{Environment.ProcessId}_{Interlocked.Increment(ref _databaseCount)}_{Guid.NewGuid():N}")[..40];
        await using (var connection = new MySqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new MySqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    private static (MariaDbServer?, string?) Start()
    {
        // Registered first thing, so that it runs even when starting fails half-way.
        var cleanup = new ServerCleanup();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cleanup.Run();
        try
        {
            var given = Environment.GetEnvironmentVariable(ConnectionStringVariable);
            if (!string.IsNullOrWhiteSpace(given))
            {
                using var probe = new MySqlConnection(given);
                probe.Open();
                return (new MariaDbServer(given), null);
            }

            var server = Find("mariadbd", "/usr/sbin");
            var installDb = Find("mariadb-install-db", "/usr/bin");
            if (server is null || installDb is null)
            {
                return (null, $"no mariadbd and mariadb-install-db (Debian package mariadb-server) and {ConnectionStringVariable} is not set");
            }

            return (StartServer(server, installDb, cleanup), null);
        }
        catch (Exception e)
        {
            return (null, e.GetType().Name + ": " + e.Message);
        }
    }

    private static string? Find(string name, string fallbackDirectory) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append(fallbackDirectory)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private static MariaDbServer StartServer(string server, string installDb, ServerCleanup cleanup)
    {
        ServerProcesses.RemoveStaleDirectories(DirectoryPrefix, "mariadbd.pid");
        var root = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        var data = Path.Combine(root, "data");
        var log = Path.Combine(root, "server.log");
        Directory.CreateDirectory(data);
        cleanup.Root = root;
        var user = ServerProcesses.AsRoot ? "mysql" : null;
        if (user is not null)
        {
            // The socket is created in root, by the server's user.
            ServerProcesses.Run("chown", ["-R", "mysql:mysql", root]);
        }

        // root@localhost (and 127.0.0.1) with an empty password and the ordinary password plugin, not unix_socket, so
        // that MySqlConnector connects over TCP as root.
        string[] install = ["--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"];
        ServerProcesses.Run(installDb, user is null ? install : [.. install, "--user=" + user]);

        var port = ServerProcesses.FreePort();
        string[] arguments =
        [
            "--no-defaults", "--datadir=" + data, "--socket=" + Path.Combine(root, "sock"), "--port=" + port.ToString(CultureInfo.InvariantCulture),
            "--bind-address=127.0.0.1", "--pid-file=" + Path.Combine(root, "mariadbd.pid"), "--log-error=" + log,
            "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", "--max-connections=600", "--skip-name-resolve",
        ];
        var output = new StringBuilder();
        var process = ServerProcesses.StartWatched(server, user is null ? arguments : [.. arguments, "--user=" + user], root, output, user);
        cleanup.Process = process;

        var admin = string.Create(CultureInfo.InvariantCulture, $"Server=127.0.0.1;Port={port};User ID=root;Password=;Pooling=false;Connection Timeout=30");
        WaitUntilReady(admin, process, output, log);
        return new MariaDbServer(admin);
    }

    // Ready once a query answers; a server that exits (a taken port, a bad data directory) or never answers is an error
    // with its output and the end of its log.
    private static void WaitUntilReady(string admin, Process process, StringBuilder output, string log)
    {
        var probe = new MySqlConnectionStringBuilder(admin) { ConnectionTimeout = 2 }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"mariadbd exited with {process.ExitCode} at start: {ServerProcesses.Describe(output, log)}");
            }

            try
            {
                using var connection = new MySqlConnection(probe);
                connection.Open();
                using var command = new MySqlCommand("SELECT 1", connection);
                command.ExecuteScalar();
                return;
            }
            catch (MySqlException e)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    ServerProcesses.Kill(process);
                    throw new InvalidOperationException($"mariadbd did not answer in 60 s ({e.Message}): {ServerProcesses.Describe(output, log)}");
                }
            }

            Thread.Sleep(100);
        }
    }
}

/// <summary>Marks a test class whose tests need MariaDB (see <see cref="MariaDbServer.SkipReason"/>).</summary>
public interface IMariaDbTests;
