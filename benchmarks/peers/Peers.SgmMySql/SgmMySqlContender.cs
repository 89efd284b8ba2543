using System.Collections.Concurrent;
using MySqlConnector;
using SourceGenMigrations;
using SourceGenMigrations.MySql;

namespace Peers.SgmMySql;

/// <summary>
/// SourceGenMigrations on MySQL/MariaDB as a service runs it at start-up: the generated table, the MySQL manager on the
/// service's <see cref="MySqlDataSource"/> (with <c>IgnoreCommandTransaction=true</c>, as the manager's README asks),
/// default options.
/// </summary>
/// <remarks>
/// The data source is made once per process and connection string, as a service registers it and as MySqlConnector
/// pools the connections the other contenders open from a connection string (see SgmPostgresContender for why).
/// </remarks>
public static class SgmMySqlContender
{
    private static readonly ConcurrentDictionary<string, MySqlDataSource> DataSources = new(StringComparer.Ordinal);

    /// <summary>Runs the first <paramref name="count"/> generated migrations against the database of <paramref name="connectionString"/>.</summary>
    public static async Task RunAsync(string connectionString, int count)
    {
        var dataSource = DataSources.GetOrAdd(connectionString, static cs => new MySqlDataSource(cs + ";IgnoreCommandTransaction=true"));
        var manager = new MySqlMigrationManager(dataSource);
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

/// <summary>The body every generated [Migration] method calls: the workload statement on the served connection.</summary>
internal static class MigrationBody
{
    public static async Task ExecuteAsync(MigrationContext context, int i, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(Workload.Statement(i), context.GetMySqlConnection());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
