using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// A real PgBouncer (the Debian package <c>pgbouncer</c>: <c>pgbouncer</c> on PATH or <c>/usr/sbin/pgbouncer</c>) in
/// front of <see cref="PostgresServer.Instance"/>, in transaction pooling mode, on 127.0.0.1 and a free port, with its
/// own temp directory (ini, auth file, unix socket, log, pid); as the <c>postgres</c> user when running as root
/// (PgBouncer refuses to run as root). Started once per process; killed and its directory removed at process exit, and
/// stopped by a watchdog when the test host ends without running its exit handlers (as <c>dotnet test</c> often ends
/// it), its directory then removed by the next start.
/// </summary>
/// <remarks>
/// <para>Configuration and why:</para>
/// <list type="bullet">
/// <item><c>pool_mode = transaction</c>: a server connection belongs to a client only for one transaction (or one
/// autocommit statement); the next transaction of the same client may run on another server connection, and another
/// client's transaction on this one. Session state (session advisory locks, <c>SET</c>, prepared statements) is
/// therefore shared between clients: exactly what the manager must not rely on.</item>
/// <item><c>default_pool_size = 4</c>: far fewer server connections than clients (8 or 32 runner processes with a few
/// connections each), so server connections really are handed from client to client.</item>
/// <item><c>server_round_robin = 1</c>: idle server connections are handed out in turn instead of the most recently
/// used one first (PgBouncer's default, LIFO), so consecutive transactions of one client land on different server
/// connections, as on a busy pooler, and state left on one server connection is met by other clients.</item>
/// <item><c>max_client_conn = 500</c>: 32 processes × a few connections each, plus the in-process tests running in
/// parallel, stay well below it (and below the default open-file limit of 1024 that PgBouncer sizes against).</item>
/// <item><c>[databases] * = host=… port=…</c>: a fallback entry, so every database the tests create on the server is
/// reachable through PgBouncer under the same name, with no reload. Each database gets its own pool of 4.</item>
/// <item><c>auth_type = trust</c> with an auth file naming the server's user (trust still requires the user to be
/// listed; its password, if the server needs one, is what PgBouncer logs in to the server with).</item>
/// <item>No <c>ignore_startup_parameters</c>: Npgsql (10.x) sends only <c>user</c>, <c>database</c> and
/// <c>client_encoding</c> by default (plus <c>application_name</c>/<c>TimeZone</c> when set, which PgBouncer
/// tracks), so nothing needs ignoring. <c>Search Path</c> and <c>Options</c> on the connection string are refused by
/// PgBouncer 1.18 ("unsupported startup parameter: search_path" / "options"); ignoring them would drop them silently,
/// so they stay refused.</item>
/// </list>
/// <para>Npgsql connection string settings through PgBouncer in transaction mode (see <see cref="ConnectionStringFor"/>):</para>
/// <list type="bullet">
/// <item><c>No Reset On Close=true</c>: with Npgsql's own pool on, a connection returned to it is reset with
/// <c>DISCARD ALL</c> before its next use. Behind a transaction pooler that statement runs on whatever server connection
/// PgBouncer picks, i.e. it resets another client's session: <c>DISCARD ALL</c> includes
/// <c>pg_advisory_unlock_all()</c>, <c>DEALLOCATE ALL</c> and <c>RESET ALL</c>. Npgsql's documentation requires it
/// (or <c>Pooling=false</c>) with PgBouncer in transaction or statement mode.</item>
/// <item><c>Max Auto Prepare=0</c> (Npgsql's default, set explicitly): automatic preparation creates named server-side
/// prepared statements that live on one server connection; the next transaction may run on another one ("prepared
/// statement _auto0 does not exist"). PgBouncer 1.18 cannot carry protocol-level prepared statements (1.21 added
/// <c>max_prepared_statements</c>). Unprepared commands use the unnamed statement within one Sync and are safe.</item>
/// <item><c>Server Compatibility Mode</c> is not needed: type loading at the first open is ordinary queries.</item>
/// </list>
/// </remarks>
public sealed class PgBouncerServer
{
    private const string DirectoryPrefix = "sgm-pgbouncer-";
    private static readonly Lazy<(PgBouncerServer? Server, string? Reason)> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private PgBouncerServer(int port) => Port = port;

    /// <summary>The port PgBouncer listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Why PgBouncer is unavailable (PostgreSQL's reason when the server itself is), or null when it is available.</summary>
    public static string? UnavailableReason => Shared.Value.Reason;

    /// <summary>
    /// The reason to skip a PgBouncer test, or null when it must run: PgBouncer is available, or PostgreSQL is required
    /// (<see cref="PostgresServer.Required"/>), where a PgBouncer that cannot start fails the tests with its reason.
    /// </summary>
    public static string? SkipReason => PostgresServer.Required || UnavailableReason is not { } reason ? null : "PgBouncer unavailable: " + reason;

    /// <summary>The running PgBouncer; throws with the reason when it could not be started.</summary>
    public static PgBouncerServer Instance => Shared.Value.Server
        ?? throw new InvalidOperationException("PgBouncer is not available: " + Shared.Value.Reason);

    /// <summary>
    /// The connection string through PgBouncer to the database that <paramref name="directConnectionString"/> names on
    /// the server (same database, user and password; PgBouncer's host and port; the settings described on the type).
    /// </summary>
    public string ConnectionStringFor(string directConnectionString) => new NpgsqlConnectionStringBuilder(directConnectionString)
    {
        Host = "127.0.0.1",
        Port = Port,
        NoResetOnClose = true,
        MaxAutoPrepare = 0,
    }.ConnectionString;

    /// <summary>Creates a fresh, empty database on the server; returns its direct connection string and the one through PgBouncer.</summary>
    public async Task<(string Direct, string ThroughPgBouncer)> CreateDatabaseAsync()
    {
        var direct = await PostgresServer.Instance.CreateDatabaseAsync();
        return (direct, ConnectionStringFor(direct));
    }

    private static (PgBouncerServer?, string?) Start()
    {
        // Registered first thing: before PostgreSQL is started when this is its first use, so it then runs before
        // PostgresServer's handler (stopping the cluster can take long enough for the test host to be ended before later
        // handlers run). Should no handler run at all, PgBouncer still stops: see ServerProcesses.StartWatched.
        var cleanup = new ServerCleanup();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cleanup.Run();
        try
        {
            var server = new NpgsqlConnectionStringBuilder(PostgresServer.Instance.AdminConnectionString);
            var executable = FindExecutable();
            if (executable is null)
            {
                return (null, "no pgbouncer on PATH or at /usr/sbin/pgbouncer (Debian package pgbouncer)");
            }

            return (StartPgBouncer(executable, server, cleanup), null);
        }
        catch (Exception e)
        {
            return (null, e.GetType().Name + ": " + e.Message);
        }
    }

    private static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Select(directory => Path.Combine(directory, "pgbouncer"))
            .FirstOrDefault(File.Exists);

    private static PgBouncerServer StartPgBouncer(string executable, NpgsqlConnectionStringBuilder server, ServerCleanup cleanup)
    {
        ServerProcesses.RemoveStaleDirectories(DirectoryPrefix, "pgbouncer.pid");
        var root = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        cleanup.Root = root;
        var port = ServerProcesses.FreePort();
        var ini = Path.Combine(root, "pgbouncer.ini");
        var log = Path.Combine(root, "pgbouncer.log");
        File.WriteAllText(Path.Combine(root, "users.txt"), $"{Quote(server.Username ?? "postgres")} {Quote(server.Password ?? "")}\n");
        File.WriteAllText(ini, string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            * = host={server.Host} port={server.Port}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir = {root}
            auth_type = trust
            auth_file = {Path.Combine(root, "users.txt")}
            pool_mode = transaction
            default_pool_size = 4
            server_round_robin = 1
            max_client_conn = 500
            logfile = {log}
            pidfile = {Path.Combine(root, "pgbouncer.pid")}

            """));

        var user = ServerProcesses.AsRoot ? "postgres" : null;
        if (user is not null)
        {
            ServerProcesses.Run("chown", ["-R", "postgres:postgres", root]);
        }

        // -q: the log goes to the log file only. The watchdog stops PgBouncer (SIGTERM, an immediate shutdown) when the
        // test host is gone.
        var output = new StringBuilder();
        var process = ServerProcesses.StartWatched(executable, ["-q", ini], root, output, user);
        cleanup.Process = process;

        var pgBouncer = new PgBouncerServer(port);
        WaitUntilReady(pgBouncer, process, server, output, log);
        return pgBouncer;
    }

    // Ready once a query on the server's own database answers through PgBouncer; a PgBouncer that exits (a bad
    // configuration, a taken port) or never answers is an error with its output and the end of its log.
    private static void WaitUntilReady(PgBouncerServer pgBouncer, Process process, NpgsqlConnectionStringBuilder server, StringBuilder output, string log)
    {
        var probe = new NpgsqlConnectionStringBuilder(pgBouncer.ConnectionStringFor(server.ConnectionString)) { Pooling = false, Timeout = 2 }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"pgbouncer exited with {process.ExitCode} at start: {ServerProcesses.Describe(output, log)}");
            }

            try
            {
                using var connection = new NpgsqlConnection(probe);
                connection.Open();
                using var command = new NpgsqlCommand("SELECT 1", connection);
                command.ExecuteScalar();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    process.Kill(entireProcessTree: true);
                    throw new InvalidOperationException($"pgbouncer did not answer in 30 s ({e.Message}): {ServerProcesses.Describe(output, log)}");
                }
            }

            Thread.Sleep(100);
        }
    }

    private static string Quote(string value) => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

}

/// <summary>Marks a test class whose tests run through <see cref="PgBouncerServer"/> (see <see cref="PgBouncerServer.SkipReason"/>).</summary>
public interface IPgBouncerTests : IPostgresTests;

/// <summary>
/// A fact through PgBouncer: skipped with the reason when PgBouncer (or PostgreSQL) cannot be started, unless
/// <c>SGM_REQUIRE_POSTGRES=1</c>, where it runs and fails with the reason (like <see cref="PostgresFactAttribute"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PgBouncerFactAttribute : FactAttribute
{
    public PgBouncerFactAttribute()
    {
        if (PgBouncerServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
