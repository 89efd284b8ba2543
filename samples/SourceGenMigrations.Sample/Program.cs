using Microsoft.Extensions.Logging;
using MySqlConnector;
using Npgsql;
using SourceGenMigrations;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sample;
using SourceGenMigrations.Sqlite;

// The sample service: migrate the database at start-up (the common path), or show each migration's status.
//   SourceGenMigrations.Sample [migrate|status] [--sqlite <file>] [--postgres <connection string>] [--mysql <connection string>] [--verbose]
// PostgreSQL is used when --postgres or SAMPLE_POSTGRES_CONNECTION_STRING is given, MySQL/MariaDB when --mysql or
// SAMPLE_MYSQL_CONNECTION_STRING is; otherwise the SQLite file sample.db in the working directory. MIGRATION_* environment variables configure the run (see the README).
return await SampleCommand.RunAsync(args).ConfigureAwait(false);

internal static partial class SampleCommand
{
    private const string Usage = "usage: SourceGenMigrations.Sample [migrate|status] [--sqlite <file>] [--postgres <connection string>] [--mysql <connection string>] [--verbose]";

    public static async Task<int> RunAsync(string[] args)
    {
        string command = "migrate";
        string sqliteFile = "sample.db";
        string? postgres = Environment.GetEnvironmentVariable("SAMPLE_POSTGRES_CONNECTION_STRING");
        string? mySql = Environment.GetEnvironmentVariable("SAMPLE_MYSQL_CONNECTION_STRING");
        var level = LogLevel.Information;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "migrate" or "status":
                    command = args[i];
                    break;
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
                    return 0;
                default:
                    Console.Error.WriteLine($"error: unknown argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        using var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            }));
        var logger = loggerFactory.CreateLogger("SourceGenMigrations");
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        try
        {
            var manager = CreateManager(postgres, mySql, sqliteFile, logger, out var target);
            await using var disposeManager = (IAsyncDisposable)manager;
            if (command == "status")
            {
                return await PrintStatusAsync(manager, logger, cancellation.Token).ConfigureAwait(false);
            }

            LogMigrating(logger, target);
            await GeneratedMigrations.RunAsync(manager, new MigrationOptions { Logger = logger }, cancellation.Token).ConfigureAwait(false);
            return 0;
        }
        catch (MigrationException exception)
        {
            Console.Error.WriteLine($"error: {Describe(exception)}");
            return 1;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.Error.WriteLine("error: cancelled");
            return 130;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or NpgsqlException or MySqlException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {Describe(exception)}");
            return 1;
        }
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

    // What a run would do, from PlanAsync: no migration lock is taken, nothing runs, nothing but the data stores is written.
    private static async Task<int> PrintStatusAsync(IMigrationManager manager, ILogger logger, CancellationToken cancellationToken)
    {
        var plan = await GeneratedMigrations.PlanAsync(manager, new MigrationOptions { Logger = logger }, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"{"order",5}  {"status",-9}  {"enabled",-7}  {"action",-14}  name");
        foreach (var entry in plan.Entries)
        {
            var status = entry.PersistedStatus is { } persisted ? MigrationStatusText.ToText(persisted) : "-";
            Console.WriteLine($"{entry.Order,5}  {status,-9}  {(entry.Enabled ? "yes" : "no"),-7}  {ActionText(entry.Action),-14}  {entry.Name}");
        }

        foreach (var order in plan.UnknownPersistedOrders)
        {
            Console.WriteLine($"{order,5}  {"?",-9}  {"",-7}  {"unknown",-14}  (persisted, but not in this build's registry)");
        }

        if (plan.Error is { } error)
        {
            Console.Error.WriteLine($"error: a run would fail: {error.Message}");
            return 1;
        }

        Console.WriteLine(plan.IsUpToDate ? "up to date" : $"{plan.RunCount} migration(s) to run");
        return 0;
    }

    private static string ActionText(MigrationAction action) => action switch
    {
        MigrationAction.Run => "run",
        MigrationAction.SkipCompleted => "skip completed",
        _ => "skip disabled",
    };

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Migrating {Target}")]
    private static partial void LogMigrating(ILogger logger, string target);

    // The chain of messages, so a 3 a.m. reader sees the step and its cause on one line.
    private static string Describe(Exception exception)
    {
        var parts = new List<string>();
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException aggregate && aggregate.InnerExceptions.Count > 1)
            {
                parts.Add(string.Join(" | ", aggregate.InnerExceptions.Select(Describe)));
                break;
            }

            if (current is not AggregateException)
            {
                parts.Add(current.Message);
            }
        }

        return string.Join(": ", parts);
    }
}
