using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// A database file the process cannot write (another user's, in a directory it may write to): the run fails, naming the
/// file, and leaves no <c>-wal</c>/<c>-shm</c> files behind. Root writes every file, so as root (CI) the runner process
/// runs as <c>nobody</c> (<c>setpriv</c>); as anyone else the file is simply made read-only.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SqliteReadOnlyTests
{
    [Fact]
    public async Task A_run_on_a_read_only_database_fails_naming_it_and_leaves_no_wal_or_shm_files()
    {
        var directory = Directory.CreateTempSubdirectory("sgm-readonly-").FullName;
        try
        {
            var path = Path.Combine(directory, "app.db");
            var connectionString = $"Data Source={path};Pooling=False";
            await using (var manager = new SqliteMigrationManager(connectionString))
            {
                // A database in WAL mode (the manager's default) with one completed migration.
                await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, (_, _) => Task.CompletedTask)]);
            }

            Assert.Equal(["app.db"], Directory.GetFiles(directory).Select(Path.GetFileName));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111); // anyone may create files beside it

            var (exitCode, errors) = await RunAsNonRootAsync(connectionString);

            Assert.True(exitCode == 1, errors);
            Assert.Contains(
                $"failed to acquire the database lock: SQLite Error 8: 'attempt to write a readonly database'.",
                errors,
                StringComparison.Ordinal);
            Assert.Contains($"(SQLite database file '{path}')", errors, StringComparison.Ordinal);
            Assert.Equal(["app.db"], Directory.GetFiles(directory).Select(Path.GetFileName));

            // Untouched: still the one completed migration.
            await using var check = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            await check.OpenAsync();
            await using var command = new SqliteCommand("SELECT count(*) FROM migration_status WHERE status = 'COMPLETED'", check);
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The test runner program (two migrations) as a user who cannot write the file: nobody when root.</summary>
    private static async Task<(int ExitCode, string Errors)> RunAsNonRootAsync(string connectionString)
    {
        var asRoot = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";
        var start = new ProcessStartInfo(asRoot ? "setpriv" : "dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        if (asRoot)
        {
            foreach (var argument in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", "dotnet" })
            {
                start.ArgumentList.Add(argument);
            }

            // nobody's home (/nonexistent) cannot be written; the runtime needs none, but keep it somewhere harmless.
            start.Environment["HOME"] = Path.GetTempPath();
            start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        }

        foreach (var argument in new[] { ProcessScenarios.RunnerPath(), "sqlite", connectionString, "2", "5000" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the runner");
        return await ProcessScenarios.WaitAsync(process);
    }
}
