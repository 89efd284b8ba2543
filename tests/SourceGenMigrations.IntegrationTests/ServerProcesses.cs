using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What the throwaway database servers of the tests (<see cref="PostgresServer"/>, <see cref="PgBouncerServer"/>,
/// <see cref="MariaDbServer"/>) share: a free loopback port, running a tool (as a service user when the tests run as root,
/// since the servers refuse to run as root), a server process that dies with the test host, and removing directories.
/// </summary>
internal static class ServerProcesses
{
    /// <summary>Whether the tests run as root: then servers run as their service user (postgres, mysql).</summary>
    public static bool AsRoot => Environment.UserName == "root";

    /// <summary>
    /// Runs the server (<c>"$@"</c>, standard input from /dev/null, so an unread pipe never blocks it) and stops it
    /// (SIGTERM) when the script's standard input reaches end of file, i.e. when the test host is gone however it ended
    /// (its exit handlers may not run: a hang timeout, a kill). The shell exits with the server's status, so a server that
    /// fails at start is seen at once. The reader's stdin is redirected explicitly: an asynchronous list in a
    /// non-interactive shell otherwise reads /dev/null.
    /// </summary>
    private const string Watchdog =
        "exec 3<&0; \"$@\" </dev/null & pid=$!; "
        + "{ read -r _ <&3; kill \"$pid\" 2>/dev/null; } & reader=$!; "
        + "wait \"$pid\"; status=$?; kill \"$reader\" 2>/dev/null; exit $status";

    /// <summary>A TCP port free on the loopback interface right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Removes a test server's directory; one still in use by a server of another test run stays.</summary>
    public static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Runs a tool to its end (at most 120 s), as <paramref name="user"/> when given (runuser); an error with its output when it fails.</summary>
    public static void Run(string file, IEnumerable<string> arguments, string? user = null)
    {
        var start = new ProcessStartInfo(user is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var all = user is null ? arguments : new[] { "-u", user, "--", file }.Concat(arguments);
        foreach (var a in all)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} did not finish in 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result} {stdout.Result}");
        }
    }

    /// <summary>
    /// Starts a server under the <see cref="Watchdog"/> (as <paramref name="user"/> when given), its output collected into
    /// <paramref name="output"/>. The caller keeps the process (its standard input open) for as long as the server must run.
    /// </summary>
    public static Process StartWatched(string executable, IEnumerable<string> arguments, string workingDirectory, StringBuilder output, string? user = null)
    {
        // sh runs the watchdog script; its standard input is a pipe this process holds open and never writes to.
        var start = new ProcessStartInfo(user is null ? "sh" : "runuser")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        IEnumerable<string> watched = ["-c", Watchdog, "sh", executable, .. arguments];
        foreach (var argument in user is null ? watched : ["-u", user, "--", "sh", .. watched])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + executable);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>What a server printed, and the end of its log file.</summary>
    public static string Describe(StringBuilder output, string log)
    {
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        var logTail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no log)";
        return text + " " + logTail;
    }

    /// <summary>Kills a server process (the watchdog shell, runuser and the server) and waits a little for it.</summary>
    public static void Kill(Process? process)
    {
        try
        {
            process?.Kill(entireProcessTree: true);
            process?.WaitForExit(5_000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Whether the process in <paramref name="pidFile"/> runs and its command line contains <paramref name="commandLineContains"/> (pids are reused).</summary>
    private static bool Running(string pidFile, string commandLineContains)
    {
        try
        {
            return File.Exists(pidFile)
                && int.TryParse(File.ReadAllText(pidFile).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains(commandLineContains, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>
    /// Removes the directories (<c>{prefix}*</c> in the temp directory) of earlier test runs whose server is no longer
    /// running (the pid file <paramref name="pidFileName"/> in it, checked against the command line, which names the
    /// directory): a test host ended before its exit handler ran leaves its directory behind (its server was stopped by
    /// the watchdog). Live runs' directories stay.
    /// </summary>
    public static void RemoveStaleDirectories(string prefix, string pidFileName)
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), prefix + "*"))
        {
            if (!Running(Path.Combine(stale, pidFileName), stale))
            {
                TryDeleteDirectory(stale);
            }
        }
    }
}

/// <summary>At process exit: kill a test server (the watchdog, runuser and the server) and remove its directory.</summary>
internal sealed class ServerCleanup
{
    public Process? Process { get; set; }

    public string? Root { get; set; }

    public void Run()
    {
        ServerProcesses.Kill(Process);
        if (Root is not null)
        {
            ServerProcesses.TryDeleteDirectory(Root);
        }
    }
}
