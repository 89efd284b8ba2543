using System.Data.Common;

namespace SourceGenMigrations.SqlFiles.Tests;

/// <summary>The C# migrations, between the SQL files in one order space.</summary>
public static class Migrations
{
    [Migration(Order = 2)]
    public static Task AddUserFromCode(MigrationContext context, CancellationToken cancellationToken) =>
        Execute(context, "INSERT INTO users (id, email) VALUES (3, 'Code@Example.com')", cancellationToken);

    [Migration(Order = 7)]
    public static Task LowerEmails(MigrationContext context, CancellationToken cancellationToken) =>
        Execute(context, "UPDATE users SET email = lower(email)", cancellationToken);

    private static async Task Execute(MigrationContext context, string sql, CancellationToken cancellationToken)
    {
        await using var command = context.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
