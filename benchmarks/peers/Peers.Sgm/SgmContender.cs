using Microsoft.Data.Sqlite;
using SourceGenMigrations;
using SourceGenMigrations.Sqlite;

namespace Peers.Sgm;

/// <summary>SourceGenMigrations as a service runs it at start-up: the generated table, the SQLite manager, default options.</summary>
public static class SgmContender
{
    /// <summary>Runs the first <paramref name="count"/> generated migrations against <paramref name="file"/>.</summary>
    /// <param name="file">The SQLite database file.</param>
    /// <param name="count">N: 1,000 runs the whole generated table; fewer runs its first N entries.</param>
    /// <param name="writeAheadLog">The manager's <c>UseWriteAheadLog</c> (default true: WAL, synchronous=NORMAL).</param>
    public static async Task RunAsync(string file, int count, bool writeAheadLog = true)
    {
        var manager = new SqliteMigrationManager(Workload.ConnectionString(file), new SqliteMigrationManagerOptions { UseWriteAheadLog = writeAheadLog });
        await using (manager.ConfigureAwait(false))
        {
            if (count == GeneratedMigrations.Registrations.Count)
            {
                await GeneratedMigrations.RunAsync(manager).ConfigureAwait(false);
            }
            else
            {
                var slice = new MigrationRegistration[count];
                for (var i = 0; i < count; i++)
                {
                    slice[i] = GeneratedMigrations.Registrations[i];
                }

                await MigrationRunner.RunAsync(manager, slice).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>The body every generated [Migration] method calls: the workload statement on the manager's connection.</summary>
internal static class MigrationBody
{
    public static async Task ExecuteAsync(MigrationContext context, int i, CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)context.Services!.GetService(typeof(SqliteConnection))!;
        using var command = connection.CreateCommand();
        command.CommandText = Workload.Statement(i);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
