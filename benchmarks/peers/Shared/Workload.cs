using System.Data.Common;
using System.Globalization;

namespace Peers;

/// <summary>The workload every contender runs: migration i is one small statement, the same text for every contender.</summary>
internal static class Workload
{
    /// <summary>The most migrations any contender has (N = 100 uses the first 100).</summary>
    public const int MaxCount = 1000;

    /// <summary>The statement of migration <paramref name="i"/> (1-based).</summary>
    public static string Statement(long i) =>
        string.Create(CultureInfo.InvariantCulture, $"CREATE TABLE IF NOT EXISTS t_{i} (id INTEGER)");

    /// <summary>The name of migration <paramref name="i"/> (1-based), as the floors' journal rows record it: <c>M0001</c>.</summary>
    public static string Name(long i) => string.Create(CultureInfo.InvariantCulture, $"M{i:D4}");

    /// <summary>
    /// The durable-commit case of an SQLite contender's command line (issue 13): <c>--durable=delete</c> (rollback
    /// journal) gives false, <c>--durable=wal</c> gives true, both with <c>synchronous=FULL</c>; no such flag gives null
    /// (the default-mode cases).
    /// </summary>
    public static bool? DurableWriteAheadLog(string[] flags)
    {
        bool? writeAheadLog = null;
        foreach (var flag in flags)
        {
            if (flag.StartsWith("--durable=", StringComparison.Ordinal))
            {
                writeAheadLog = flag["--durable=".Length..] switch
                {
                    "delete" => false,
                    "wal" => true,
                    _ => throw new ArgumentException($"unknown {flag}: expected --durable=delete or --durable=wal"),
                };
            }
        }

        return writeAheadLog;
    }

    /// <summary>
    /// Whether a contender's target is a PostgreSQL database (an Npgsql connection string, which contains '=') rather
    /// than an SQLite file path or a MySQL database.
    /// </summary>
    public static bool IsPostgres(string target) => target.Contains('=', StringComparison.Ordinal) && !IsMySql(target);

    /// <summary>
    /// Whether a contender's target is a MySQL or MariaDB database: a MySqlConnector connection string, which the
    /// benchmarks write with <c>Server=</c> (the PostgreSQL ones with <c>Host=</c>).
    /// </summary>
    public static bool IsMySql(string target) => target.StartsWith("Server=", StringComparison.OrdinalIgnoreCase);

    /// <summary>A Microsoft.Data.Sqlite connection string for a database file.</summary>
    public static string ConnectionString(string file) => "Data Source=" + file;

    /// <summary>
    /// Parses <c>&lt;database file or PostgreSQL connection string&gt; &lt;N&gt; [flags]</c>, the command line of every
    /// contender program.
    /// </summary>
    public static (string File, int Count, string[] Flags) ParseArgs(string[] args, string name)
    {
        if (args.Length < 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count < 1 || count > MaxCount)
        {
            throw new ArgumentException($"usage: {name} <SQLite file | PostgreSQL or MySQL connection string> <N: 1..{MaxCount}> [flags]");
        }

        return (args[0], count, args[2..]);
    }

    /// <summary>
    /// The journal of the durable-commit floors as read by <paramref name="reader"/> (first column: a migration's
    /// order): applied[i] is true when migration i (1..<paramref name="count"/>) is in it.
    /// </summary>
    public static bool[] AppliedMigrations(DbDataReader reader, int count)
    {
        var applied = new bool[count + 1];
        while (reader.Read())
        {
            var order = reader.GetInt64(0);
            if (order >= 1 && order <= count)
            {
                applied[order] = true;
            }
        }

        return applied;
    }

    /// <summary>
    /// The run semantics as the floors issue them: PENDING for every migration to run, then for each in order STARTED,
    /// the migration, COMPLETED (every write its own statement).
    /// </summary>
    /// <param name="completed">completed[i]: migration i is COMPLETED (index 0 unused).</param>
    /// <param name="persist">Writes the status of a migration.</param>
    /// <param name="migrate">Runs migration i.</param>
    public static void ApplyPending(bool[] completed, Action<int, string> persist, Action<int> migrate)
    {
        var toRun = new List<int>();
        for (var i = 1; i < completed.Length; i++)
        {
            if (!completed[i])
            {
                toRun.Add(i);
            }
        }

        foreach (var i in toRun)
        {
            persist(i, "PENDING");
        }

        foreach (var i in toRun)
        {
            persist(i, "STARTED");
            migrate(i);
            persist(i, "COMPLETED");
        }
    }
}
