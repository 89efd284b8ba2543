// Usage: Runner <sqlite|postgres|mysql> <connection string> <migration count> <lease ms> [<block order> <marker file>] [flags]
// Runs migrations 1..count; each inserts one row (order, previous status, pid) into side_effect through the connection
// the manager serves. With a block order, that migration writes the marker file once it has started and then waits
// forever (until the test kills the process). Flags:
//   --after-effect        the blocked migration inserts its row before writing the marker (a crash after its effect)
//   --non-transactional   every migration is [Migration(Transactional = false)]
//   --migration-ms=N      every migration waits N ms (honouring cancellation) before its insert
// Exit code 0 on success, 1 on failure (the error on stderr).
using System.Data.Common;
using System.Globalization;
using SourceGenMigrations;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var flags = args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var kind = positional[0];
var connectionString = positional[1];
var count = int.Parse(positional[2], CultureInfo.InvariantCulture);
var lease = TimeSpan.FromMilliseconds(int.Parse(positional[3], CultureInfo.InvariantCulture));
long? blockOrder = positional.Length > 5 ? long.Parse(positional[4], CultureInfo.InvariantCulture) : null;
var marker = positional.Length > 5 ? positional[5] : null;
var afterEffect = flags.Contains("--after-effect");
var transactional = !flags.Contains("--non-transactional");
var migrationMs = flags.Where(f => f.StartsWith("--migration-ms=", StringComparison.Ordinal))
    .Select(f => int.Parse(f["--migration-ms=".Length..], CultureInfo.InvariantCulture)).FirstOrDefault();
var poll = TimeSpan.FromMilliseconds(100);

await using IAsyncDisposable managerLifetime = kind switch
{
    "sqlite" => new SqliteMigrationManager(connectionString, new SqliteMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll }),
    "mysql" => new MySqlMigrationManager(connectionString, new MySqlMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll }),
    _ => new PostgreSqlMigrationManager(connectionString, new PostgreSqlMigrationManagerOptions { LeaseDuration = lease, PollInterval = poll }),
};
var manager = (IMigrationManager)managerLifetime;

var registrations = new List<MigrationRegistration>();
for (var order = 1L; order <= count; order++)
{
    var current = order;
    registrations.Add(new MigrationRegistration(current, async (context, ct) =>
    {
        if (migrationMs > 0)
        {
            await Task.Delay(migrationMs, ct);
        }

        if (current == blockOrder)
        {
            if (afterEffect)
            {
                await InsertSideEffectAsync(context, ct);
            }

            await File.WriteAllTextAsync(marker!, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct);
            await Task.Delay(Timeout.Infinite, ct);
        }

        await InsertSideEffectAsync(context, ct);
    }, transactional: transactional));
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
    var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
    await using var command = connection.CreateCommand();
    command.CommandText = string.Create(CultureInfo.InvariantCulture, $"INSERT INTO side_effect (migration_order, previous_status, pid) VALUES ({context.Order}, '{previous}', {Environment.ProcessId})");
    await command.ExecuteNonQueryAsync(ct);
}
