using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using SourceGenMigrations;

namespace SourceGenMigrations.Sample;

/// <summary>
/// Reaches the database the running manager serves through <see cref="MigrationContext.Services"/>: the SQLite
/// manager serves its open <see cref="SqliteConnection"/>, the PostgreSQL manager its <see cref="NpgsqlDataSource"/>.
/// </summary>
internal static class SampleDatabase
{
    public static async Task ExecuteAsync(MigrationContext context, string sql, CancellationToken cancellationToken)
    {
        var services = context.Services
            ?? throw new InvalidOperationException($"Migration {context.Name} needs MigrationContext.Services to reach its database.");
        if (services.GetService(typeof(SqliteConnection)) is SqliteConnection sqlite)
        {
            // The manager owns this connection: use it, do not dispose it.
            await ExecuteAsync(sqlite, sql, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (services.GetService(typeof(NpgsqlDataSource)) is NpgsqlDataSource dataSource)
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        throw new InvalidOperationException($"Migration {context.Name}: the manager serves neither a SqliteConnection nor an NpgsqlDataSource.");
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
