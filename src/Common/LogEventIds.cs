namespace SourceGenMigrations.Internal;

/// <summary>
/// The event-id range of every component that logs, declared in one place so that no two log messages of the library
/// share an id (a test checks it across the assemblies). Source linked into several assemblies (the lease protocol, the
/// unit of work) keeps its one range wherever it is compiled. Ids are never reused once shipped.
/// </summary>
internal static class LogEventIds
{
    /// <summary>The runner (<c>MigrationRunner</c>): 1000–1999.</summary>
    public const int Runner = 1000;

    /// <summary>The migration lease, shared by every manager: 2000–2099.</summary>
    public const int Lease = 2000;

    /// <summary>A migration's unit of work, shared by every manager: 2100–2199.</summary>
    public const int UnitOfWork = 2100;

    /// <summary>The status table (creation and upgrade), shared by every manager: 2200–2299.</summary>
    public const int StatusTable = 2200;

    /// <summary>The SQLite manager's own lines: 3000–3999.</summary>
    public const int Sqlite = 3000;

    /// <summary>The PostgreSQL manager's own lines: 4000–4999.</summary>
    public const int PostgreSql = 4000;

    /// <summary>The MySQL/MariaDB manager's own lines: 5000–5999.</summary>
    public const int MySql = 5000;

    /// <summary>The Generic Host integration: 6000–6999.</summary>
    public const int Hosting = 6000;
}
