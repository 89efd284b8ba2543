using Microsoft.Extensions.Logging;
using MySqlConnector;
using Npgsql;
using SourceGenMigrations;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sample;
using SourceGenMigrations.Sqlite;

// The sample service: migrate the database at start-up (the common path), or run another migration command.
//   SourceGenMigrations.Sample [migrate|status|unlock [--force]] [--sqlite <file>] [--postgres <connection string>] [--mysql <connection string>] [--verbose]
// PostgreSQL is used when --postgres or SAMPLE_POSTGRES_CONNECTION_STRING is given, MySQL/MariaDB when --mysql or
// SAMPLE_MYSQL_CONNECTION_STRING is; otherwise the SQLite file sample.db in the working directory. MIGRATION_* environment
// variables configure the run (see the README). The commands, their exit codes, Ctrl-C and SIGTERM are
// MigrationCommandLine's: what a Kubernetes Job or an operator runs against the service's own binary.
return await SampleCommand.RunAsync(args).ConfigureAwait(false);

internal static partial class SampleCommand
{
    private const string Usage = "usage: SourceGenMigrations.Sample [command] [--sqlite <file>] [--postgres <connection string>] [--mysql <connection string>] [--verbose]";

    public static async Task<int> RunAsync(string[] args)
    {
        string sqliteFile = "sample.db";
        string? postgres = Environment.GetEnvironmentVariable("SAMPLE_POSTGRES_CONNECTION_STRING");
        string? mySql = Environment.GetEnvironmentVariable("SAMPLE_MYSQL_CONNECTION_STRING");
        var level = LogLevel.Information;
        var command = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sqlite" when i + 1 < args.Length:
                    sqliteFile = args[++i];
                    postgres = null;
                    mySql = null;
                    break;
                case "--postgres" when i + 1 < args.Length:
                    postgres = args[++i];
                    mySql = null;
                    break;
                case "--mysql" when i + 1 < args.Length:
                    mySql = args[++i];
                    postgres = null;
                    break;
                case "--verbose":
                    level = LogLevel.Debug;
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    Console.WriteLine(MigrationCommandLine.Usage("SourceGenMigrations.Sample"));
                    return MigrationExitCodes.Success;
                default:
                    // The command and its options (migrate, status, unlock --force, …): MigrationCommandLine reads them.
                    command.Add(args[i]);
                    break;
            }
        }

        if (command.Count == 0)
        {
            command.Add(MigrationCommandLine.MigrateCommand);
        }

        using var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            }));
        var logger = loggerFactory.CreateLogger("SourceGenMigrations");
        return await MigrationCommandLine.RunAsync(
            command,
            () =>
            {
                var manager = CreateManager(postgres, mySql, sqliteFile, logger, out var target);
                if (command[0] == MigrationCommandLine.MigrateCommand)
                {
                    LogMigrating(logger, target);
                }

                return manager;
            },
            GeneratedMigrations.Registrations,
            new MigrationCommandLineOptions { RunOptions = new MigrationOptions { Logger = logger }, ProgramName = "SourceGenMigrations.Sample" }).ConfigureAwait(false);
    }

    private static IMigrationManager CreateManager(string? postgres, string? mySql, string sqliteFile, ILogger logger, out string target)
    {
        if (!string.IsNullOrWhiteSpace(mySql))
        {
            var builder = new MySqlConnectionStringBuilder(mySql);
            target = $"MySQL database '{builder.Database}' on {builder.Server}:{builder.Port}";
            return new MySqlMigrationManager(mySql, new MySqlMigrationManagerOptions { Logger = logger });
        }

        if (!string.IsNullOrWhiteSpace(postgres))
        {
            var builder = new NpgsqlConnectionStringBuilder(postgres);
            target = $"PostgreSQL database '{builder.Database ?? builder.Username}' on {builder.Host}:{builder.Port}";
            return new PostgreSqlMigrationManager(postgres, new PostgreSqlMigrationManagerOptions { Logger = logger });
        }

        target = $"SQLite file {Path.GetFullPath(sqliteFile)}";
        return new SqliteMigrationManager($"Data Source={sqliteFile}", new SqliteMigrationManagerOptions { Logger = logger });
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Migrating {Target}")]
    private static partial void LogMigrating(ILogger logger, string target);
}
