using System.Data.Common;
using System.Text;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations;

/// <summary>
/// Runs the SQL of a SQL-file migration on the connection the manager serves (<see cref="MigrationContextExtensions.GetDbConnection"/>).
/// The source generator calls it for every <c>&lt;digits&gt;_&lt;name&gt;.sql</c> AdditionalFile, with the file's text as
/// UTF-8 data.
/// </summary>
public static class SqlFileMigration
{
    /// <summary>Runs <paramref name="utf8Sql"/> (see <see cref="RunAsync(MigrationContext, string, bool, CancellationToken)"/>).</summary>
    /// <param name="context">The running migration; its services serve the connection.</param>
    /// <param name="utf8Sql">The file's text, UTF-8.</param>
    /// <param name="transactional">Whether the migration runs in the manager's transaction (false: <c>-- migration: no-transaction</c>).</param>
    /// <param name="cancellationToken">The run's token.</param>
    /// <returns>A task that completes when every statement has run.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Nothing serves a <see cref="DbConnection"/>.</exception>
    public static Task RunAsync(MigrationContext context, ReadOnlySpan<byte> utf8Sql, bool transactional, CancellationToken cancellationToken) =>
        RunAsync(context, Encoding.UTF8.GetString(utf8Sql), transactional, cancellationToken);

    /// <summary>
    /// Runs <paramref name="sql"/> on the served connection. Transactional: as one command, inside the migration's
    /// transaction (multi-statement text, as SQLite, PostgreSQL and MySQL execute it). Not transactional: split into its
    /// statements (quotes, comments and <c>$$</c> bodies respected), each run as a command of its own, so that PostgreSQL
    /// does not wrap them in one implicit transaction (where <c>CREATE INDEX CONCURRENTLY</c> fails).
    /// </summary>
    /// <param name="context">The running migration; its services serve the connection.</param>
    /// <param name="sql">The SQL text.</param>
    /// <param name="transactional">Whether the migration runs in the manager's transaction.</param>
    /// <param name="cancellationToken">The run's token.</param>
    /// <returns>A task that completes when every statement has run.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="sql"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Nothing serves a <see cref="DbConnection"/>.</exception>
    public static async Task RunAsync(MigrationContext context, string sql, bool transactional, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sql);
        var connection = context.GetDbConnection();
        if (transactional)
        {
            await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var statement in SqlScript.Split(sql))
        {
            await ExecuteAsync(connection, statement, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
#pragma warning disable CA2100 // The SQL is the migration file's own text, compiled into the application.
            command.CommandText = sql;
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
