using System.Collections.Concurrent;
using Npgsql;
using SourceGenMigrations;
using SourceGenMigrations.PostgreSql;

namespace Peers.SgmPostgres;

/// <summary>
/// SourceGenMigrations on PostgreSQL as a service runs it at start-up: the generated table, the PostgreSQL manager on
/// the service's <see cref="NpgsqlDataSource"/>, default options.
/// </summary>
/// <remarks>
/// The data source is made once per process and connection string, as a service registers it (Npgsql's advice: one
/// data source per database) and as Npgsql itself pools the connections the other contenders open from a connection
/// string. A manager built from a connection string builds a data source of its own: in process, every run would then
/// open a new physical connection and load Npgsql's type information again (milliseconds; benchmarks/README.md), a cost no
/// other contender pays per run. Whole-process figures pay it once, like everyone.
/// </remarks>
public static class SgmPostgresContender
{
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> DataSources = new(StringComparer.Ordinal);

    /// <summary>Runs the first <paramref name="count"/> generated migrations against the database of <paramref name="connectionString"/>.</summary>
    public static async Task RunAsync(string connectionString, int count)
    {
        var manager = new PostgreSqlMigrationManager(DataSources.GetOrAdd(connectionString, static cs => NpgsqlDataSource.Create(cs)));
        await using (manager.ConfigureAwait(false))
        {
            if (count == GeneratedMigrations.Registrations.Count)
            {
                await GeneratedMigrations.RunAsync(manager).ConfigureAwait(false);
            }
            else
            {
                await MigrationRunner.RunAsync(manager, GeneratedMigrations.Registrations.Take(count).ToArray()).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>
/// The body every generated [Migration] method calls: the workload statement on the served connection — the
/// migration's transaction, once the manager serves one (issue 13) — else through the served data source (a manager
/// that serves only its <see cref="NpgsqlDataSource"/>, as before that change).
/// </summary>
internal static class MigrationBody
{
    public static async Task ExecuteAsync(MigrationContext context, int i, CancellationToken cancellationToken)
    {
        if (context.Services!.GetService(typeof(NpgsqlConnection)) is NpgsqlConnection connection)
        {
            await using var onConnection = new NpgsqlCommand(Workload.Statement(i), connection);
            await onConnection.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var dataSource = (NpgsqlDataSource)context.Services.GetService(typeof(NpgsqlDataSource))!;
        await using var command = dataSource.CreateCommand(Workload.Statement(i));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
