using Microsoft.EntityFrameworkCore;
using Peers;

namespace Peers.EfCore;

/// <summary>
/// EF Core as a service runs it at start-up: <c>context.Database.MigrateAsync()</c> on a context with no model. Its
/// migrations are the workload's statements (<c>migrationBuilder.Sql</c>), one class per migration, found by EF Core in
/// this assembly by their <c>[DbContext]</c> and <c>[Migration]</c> attributes; it keeps them in
/// <c>__EFMigrationsHistory</c> and, since EF Core 9, takes a migration lock (a lock table on SQLite, an advisory lock on
/// PostgreSQL).
/// </summary>
public static class EfCoreContender
{
    /// <summary>Applies migrations 1..<paramref name="count"/> (100 or 1,000) not yet applied to <paramref name="target"/>.</summary>
    public static async Task RunAsync(string target, int count)
    {
        switch (count)
        {
            case 100:
                await using (var context = new Context0100(Options<Context0100>(target)))
                {
                    await context.Database.MigrateAsync().ConfigureAwait(false);
                }

                break;
            case Workload.MaxCount:
                await using (var context = new Context1000(Options<Context1000>(target)))
                {
                    await context.Database.MigrateAsync().ConfigureAwait(false);
                }

                break;
            default:
                throw new ArgumentException($"Peers.EfCore has migration sets of 100 and {Workload.MaxCount}, not {count}.", nameof(count));
        }
    }

    private static DbContextOptions<T> Options<T>(string target)
        where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        if (Workload.IsPostgres(target))
        {
            builder.UseNpgsql(target);
        }
        else
        {
            builder.UseSqlite(Workload.ConnectionString(target));
        }

        return builder.Options;
    }
}

/// <summary>The context of the 100-migration set: no entities, only migrations.</summary>
public sealed class Context0100(DbContextOptions<Context0100> options) : DbContext(options);

/// <summary>The context of the 1,000-migration set: no entities, only migrations.</summary>
public sealed class Context1000(DbContextOptions<Context1000> options) : DbContext(options);
