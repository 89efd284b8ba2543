using System.Data.Common;

namespace SourceGenMigrations;

/// <summary>Typed access to what the manager serves a running migration through <see cref="MigrationContext.Services"/>.</summary>
public static class MigrationContextExtensions
{
    /// <summary>
    /// The connection the manager serves to the migration, as <see cref="DbConnection"/>: on the shipped managers, inside
    /// the migration's transaction when it is transactional (a command made with <c>CreateCommand()</c> joins it).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Nothing serves a <see cref="DbConnection"/>: the message says why.</exception>
    public static DbConnection GetDbConnection(this MigrationContext context) => context.GetRequiredService<DbConnection>();

    /// <summary>
    /// The service of type <typeparamref name="T"/> from <see cref="MigrationContext.Services"/>; an error that names the
    /// migration and the type when there is none.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="InvalidOperationException">No service of that type.</exception>
    public static T GetRequiredService<T>(this MigrationContext context)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Services is null)
        {
            throw new InvalidOperationException(
                $"Migration {context.Order} ({context.Name}) asked for a {typeof(T).Name}, but it has no services: pass MigrationOptions.Services, or use a manager that serves its connection (the SQLite and PostgreSQL managers do).");
        }

        return context.Services.GetService(typeof(T)) as T
            ?? throw new InvalidOperationException(
                $"Migration {context.Order} ({context.Name}) asked for a {typeof(T).Name}, but neither the services nor the manager serve one.");
    }
}
