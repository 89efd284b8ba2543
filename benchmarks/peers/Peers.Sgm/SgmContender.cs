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
    public static Task RunAsync(string file, int count, bool writeAheadLog = true) =>
        RunAsync(file, count, new SqliteMigrationManagerOptions { UseWriteAheadLog = writeAheadLog });

    /// <summary>
    /// The manager's options in the durable-commit cases (issue 13): <c>synchronous=FULL</c> on its connections (the one
    /// served to migrations included), with the rollback journal (<paramref name="writeAheadLog"/> false: the file's
    /// own mode, DELETE for a new file) or WAL.
    /// </summary>
    public static SqliteMigrationManagerOptions DurableOptions(bool writeAheadLog) =>
        new() { UseWriteAheadLog = writeAheadLog, Synchronous = SqliteSynchronousMode.Full };

    /// <summary>Runs the first <paramref name="count"/> generated migrations against <paramref name="file"/> with <paramref name="options"/>.</summary>
    public static async Task RunAsync(string file, int count, SqliteMigrationManagerOptions options)
    {
        var manager = new SqliteMigrationManager(Workload.ConnectionString(file), options);
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
