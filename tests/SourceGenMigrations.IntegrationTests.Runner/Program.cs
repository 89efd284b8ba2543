// Usage: Runner <sqlite|postgres> <connection string> <migration count> <lease ms> [<block order> <marker file>]
// Runs migrations 1..count; each inserts one row (order, previous status, pid) into side_effect through the manager's
// served connection. With a block order, that migration writes the marker file once it has started and then waits
// forever (until the test kills the process). Exit code 0 on success, 1 on failure (the error on stderr).
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using SourceGenMigrations;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

var kind = args[0];
var connectionString = args[1];
var count = int.Parse(args[2], CultureInfo.InvariantCulture);
var lease = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture));
long? blockOrder = args.Length > 5 ? long.Parse(args[4], CultureInfo.InvariantCulture) : null;
var marker = args.Length > 5 ? args[5] : null;
var poll = TimeSpan.FromMilliseconds(100);

await using IAsyncDisposable managerLifetime = kind == "sqlite"
    ? new SqliteMigrationManager(connectionString, new SqliteMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll })
    : new PostgreSqlMigrationManager(connectionString, new PostgreSqlMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll });
var manager = (IMigrationManager)managerLifetime;

var registrations = new List<MigrationRegistration>();
for (var order = 1L; order <= count; order++)
{
    var current = order;
    registrations.Add(new MigrationRegistration(current, async (context, ct) =>
    {
        if (current == blockOrder)
        {
            await File.WriteAllTextAsync(marker!, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct);
            await Task.Delay(Timeout.Infinite, ct);
        }

        await InsertSideEffectAsync(context, ct);
    }));
}

try
{
    await MigrationRunner.RunAsync(manager, registrations, new MigrationOptions
    {
        ConfigProvider = () => new MigrationConfig
        {
            DeadlineMilliseconds = 120_000,
            HeartbeatIntervalMilliseconds = Math.Max(50, (int)lease.TotalMilliseconds / 5),
            HeartbeatFailureRetryCount = 1,
        },
    });
    return 0;
}
catch (Exception e)
{
    await Console.Error.WriteLineAsync(e.ToString());
    return 1;
}

static async Task InsertSideEffectAsync(MigrationContext context, CancellationToken ct)
{
    var previous = MigrationStatusText.ToText(context.PreviousStatus);
    var sql = string.Create(CultureInfo.InvariantCulture, $"INSERT INTO side_effect (migration_order, previous_status, pid) VALUES ({context.Order}, '{previous}', {Environment.ProcessId})");
    if (context.Services!.GetService(typeof(SqliteConnection)) is SqliteConnection sqlite)
    {
        using var command = sqlite.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
    else
    {
        var dataSource = (NpgsqlDataSource)context.Services.GetService(typeof(NpgsqlDataSource))!;
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(ct);
    }
}
