using System.Reflection;
using System.Runtime.CompilerServices;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>
/// Approved-file snapshots (Verify is not available here): <c>Snapshots/&lt;name&gt;.approved.cs</c> is the expected text.
/// On a mismatch, <c>&lt;name&gt;.received.cs</c> is written beside it and the test fails; with
/// <c>SGM_ACCEPT_SNAPSHOTS=1</c> the received text overwrites the approved file instead.
/// </summary>
internal static class Snapshot
{
    private static readonly string SnapshotDirectory = typeof(Snapshot).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "SnapshotDirectory").Value!;

    public static void Match(string actual, [CallerMemberName] string name = "")
    {
        var directory = SnapshotDirectory;
        var approvedPath = Path.Combine(directory, name + ".approved.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        var normalized = Normalize(actual);

        if (Environment.GetEnvironmentVariable("SGM_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(approvedPath, normalized);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : null;
        if (approved == normalized)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, normalized);
        Assert.Fail(approved is null
            ? $"No approved snapshot {approvedPath}; the output was written to {receivedPath}. Review it, then rename it or run with SGM_ACCEPT_SNAPSHOTS=1."
            : $"The output differs from {approvedPath}; see {receivedPath} (diff them, then run with SGM_ACCEPT_SNAPSHOTS=1 to accept).\n{FirstDifference(approved, normalized)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "<end>";
            var a = i < actualLines.Length ? actualLines[i] : "<end>";
            if (e != a)
            {
                return $"line {i + 1}:\n  approved: {e}\n  received: {a}";
            }
        }

        return string.Empty;
    }
}
