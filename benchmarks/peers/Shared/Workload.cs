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

    /// <summary>A Microsoft.Data.Sqlite connection string for a database file.</summary>
    public static string ConnectionString(string file) => "Data Source=" + file;

    /// <summary>Parses <c>&lt;database file&gt; &lt;N&gt; [flags]</c>, the command line of every contender program.</summary>
    public static (string File, int Count, string[] Flags) ParseArgs(string[] args, string name)
    {
        if (args.Length < 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count < 1 || count > MaxCount)
        {
            throw new ArgumentException($"usage: {name} <database file> <N: 1..{MaxCount}> [flags]");
        }

        return (args[0], count, args[2..]);
    }
}
