using System.Diagnostics;
using System.Globalization;

namespace Peers;

/// <summary>
/// The in-process figure of a cold start (issue 14): the time from the first line of <c>Main</c> to the end of the run,
/// JIT compilation included, reported on stderr as <c>main-ms=…</c> only when <c>PEERS_REPORT_MAIN_MS=1</c> (the
/// whole-process timings run without it, so they pay no console).
/// </summary>
internal static class ColdStart
{
    public static long Now() => Stopwatch.GetTimestamp();

    public static void Report(long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (Environment.GetEnvironmentVariable("PEERS_REPORT_MAIN_MS") == "1")
        {
            Console.Error.WriteLine("main-ms=" + elapsed.ToString("F3", CultureInfo.InvariantCulture));
        }
    }
}
