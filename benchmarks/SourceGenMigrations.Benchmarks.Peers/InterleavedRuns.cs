using System.Diagnostics;
using System.Globalization;

namespace SourceGenMigrations.Benchmarks.Peers;

/// <summary>
/// The PostgreSQL durable fresh case (c) in process, contenders interleaved: BenchmarkDotNet measures one contender after
/// another (load from other jobs that comes and goes lands on some contenders and not others) and, in process, raises
/// the main thread's priority, where synchronous contenders do all their work. Here every round runs each contender once, on a new database,
/// in an order rotated by one each round, after one untimed round; the ratios are taken within each round.
/// </summary>
public static class InterleavedRuns
{
    public static int PostgresDurableFresh(int rounds)
    {
        var peers = PostgresPeerBenchmarkBase.Contenders().ToArray();
        var times = peers.ToDictionary(p => p, _ => new List<double>());
        var ratios = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        Console.WriteLine($"load average at the start: {LoadAverage()}");
        for (var round = -1; round < rounds; round++)
        {
            var thisRound = new Dictionary<Peer, double>();
            for (var k = 0; k < peers.Length; k++)
            {
                var peer = peers[(k + Math.Max(round, 0)) % peers.Length];
                var benchmark = new PostgresDurableFreshBenchmarks { N = DurableFreshBenchmarks.N, Contender = peer };
                benchmark.NewDatabase();
                var stopwatch = Stopwatch.StartNew();
                benchmark.Fresh();
                stopwatch.Stop();
                benchmark.DropIt();
                thisRound[peer] = stopwatch.Elapsed.TotalMilliseconds;
            }

            if (round < 0)
            {
                continue;
            }

            foreach (var (peer, ms) in thisRound)
            {
                times[peer].Add(ms);
            }

            if (thisRound.TryGetValue(Peer.Sgm, out var sgm))
            {
                foreach (var (peer, ms) in thisRound.Where(p => p.Key != Peer.Sgm))
                {
                    var key = peer == Peer.Floor ? "SourceGenMigrations / floor" : $"{peer} / SourceGenMigrations";
                    (ratios.TryGetValue(key, out var list) ? list : ratios[key] = []).Add(peer == Peer.Floor ? sgm / ms : ms / sgm);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {string.Join(", ", thisRound.Select(p => $"{p.Key} {p.Value:F0} ms"))}"));
        }

        Console.WriteLine($"load average at the end: {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"| (c) PostgreSQL, fresh 1,000, durable, in process, {rounds} interleaved rounds | median ms | min–max ms |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (peer, list) in times)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {peer} | {Median(list):F0} | {list.Min():F0}–{list.Max():F0} |"));
        }

        Console.WriteLine();
        Console.WriteLine("| ratio within a round | median | min–max |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (name, list) in ratios)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Median(list):F2} | {list.Min():F2}–{list.Max():F2} |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
