using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Peers.Sgm;
using SQLitePCL;

namespace SourceGenMigrations.Benchmarks.Peers;

/// <summary>
/// Which durability each contender of the SQLite durable-commit cases really ran with, read on its own connections
/// (<c>--verify-durability OUT.json</c>; benchmarks/run-peers.sh runs it). After one fresh run in process, the
/// connections Microsoft.Data.Sqlite's pool holds for the file are the ones the contender opened and closed (same
/// connection string; <c>PRAGMA synchronous</c> is a property of the connection and survives the pool): each one that
/// wrote (<c>sqlite3_total_changes</c> &gt; 0) is asked for <c>PRAGMA synchronous</c> and <c>PRAGMA journal_mode</c>.
/// The first connection with no changes is a new one: it shows what a connection that sets nothing gets. A control
/// run of SourceGenMigrations with its default options (WAL, <c>synchronous=NORMAL</c>) shows that the check sees a
/// contender's own setting and not only SQLite's default.
/// </summary>
public static class DurabilityCheck
{
    private static readonly string[] SynchronousNames = ["OFF", "NORMAL", "FULL", "EXTRA"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static int Run(string outputPath)
    {
        var root = Environment.GetEnvironmentVariable("PEERS_DB_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
        var directory = Path.Combine(root, "sgm-peers-check-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var rows = new List<Dictionary<string, object>>();
        try
        {
            foreach (var durability in Enum.GetValues<Durability>())
            {
                foreach (var contender in SqliteFileBenchmarkBase.Selected<Peer>())
                {
                    rows.Add(Check(directory, durability.ToString(), contender.ToString(), file =>
                    {
                        DurableFreshBenchmarks.Prepare(durability, file);
                        DurableFreshBenchmarks.Run(contender, durability, file);
                    }));
                }
            }

            rows.Add(Check(directory, "Control", "Sgm, default options", file =>
                SgmContender.RunAsync(file, DurableFreshBenchmarks.N).GetAwaiter().GetResult()));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }

        var report = new Dictionary<string, object>
        {
            ["sqlite_version"] = Scalar(":memory:", "SELECT sqlite_version();"),
            ["compile_options"] = CompileOptions(),
            ["rows"] = rows,
        };
        File.WriteAllText(outputPath, JsonSerializer.Serialize(report, Indented));
        Console.WriteLine("SQLite " + report["sqlite_version"] + "; compile options about synchronous: " + string.Join(", ", (List<string>)report["compile_options"]));
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {row["case"],-12} {row["contender"],-22} written by {row["writing_connections"]} connection(s): {row["seen"]}; file header: {row["file_header"]}; new connection: {row["new_connection"]}"));
        }

        return 0;
    }

    private static Dictionary<string, object> Check(string directory, string durabilityCase, string contender, Action<string> run)
    {
        var file = Path.Combine(directory, durabilityCase + "-" + contender.Replace(' ', '_').Replace(',', '_') + ".db");
        SqliteConnection.ClearAllPools();
        run(file);

        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var writing = 0;
        var newConnection = "none opened";
        var held = new List<SqliteConnection>();
        try
        {
            // Take the pooled connections one by one (held, so the pool hands out the next) until a new one comes.
            for (var k = 0; k < 8; k++)
            {
                var connection = new SqliteConnection("Data Source=" + file);
                held.Add(connection);
                connection.Open();
                var state = "synchronous=" + SynchronousNames[Convert.ToInt32(Scalar(connection, "PRAGMA synchronous;"), CultureInfo.InvariantCulture)]
                    + " journal_mode=" + Scalar(connection, "PRAGMA journal_mode;");
                if (raw.sqlite3_total_changes(connection.Handle) == 0)
                {
                    newConnection = state;
                    break;
                }

                writing++;
                seen.Add(state);
            }
        }
        finally
        {
            foreach (var connection in held)
            {
                connection.Dispose();
            }

            SqliteConnection.ClearAllPools();
        }

        // Bytes 18 and 19 of the header: 1 = rollback journal, 2 = WAL (the file's persistent journal mode).
        var header = new byte[20];
        using (var stream = File.OpenRead(file))
        {
            stream.ReadExactly(header);
        }

        return new Dictionary<string, object>
        {
            ["case"] = durabilityCase,
            ["contender"] = contender,
            ["writing_connections"] = writing,
            ["seen"] = string.Join(" | ", seen),
            ["new_connection"] = newConnection,
            ["file_header"] = (header[18], header[19]) switch { (1, 1) => "rollback journal", (2, 2) => "WAL", var other => other.ToString() },
            ["journal_file_left"] = File.Exists(file + "-journal"),
        };
    }

    private static List<string> CompileOptions()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA compile_options;";
        using var reader = command.ExecuteReader();
        var options = new List<string>();
        while (reader.Read())
        {
            var option = reader.GetString(0);
            if (option.Contains("SYNCHRONOUS", StringComparison.Ordinal) || option.Contains("WAL", StringComparison.Ordinal))
            {
                options.Add(option);
            }
        }

        if (options.Count == 0)
        {
            options.Add("none (SQLite's defaults: DEFAULT_SYNCHRONOUS=2, FULL; DEFAULT_WAL_SYNCHRONOUS = DEFAULT_SYNCHRONOUS)");
        }

        return options;
    }

    private static object Scalar(string file, string sql)
    {
        using var connection = new SqliteConnection("Data Source=" + file);
        connection.Open();
        return Scalar(connection, sql);
    }

    private static object Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() ?? "";
    }
}
