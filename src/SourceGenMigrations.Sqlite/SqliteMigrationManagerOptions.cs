using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Sqlite;

/// <summary>
/// Settings of a <see cref="SqliteMigrationManager"/>. Every value is validated when the manager is constructed
/// (<see cref="ArgumentException"/> naming the option and the bad value); later changes to this object have no effect.
/// </summary>
public sealed class SqliteMigrationManagerOptions
{
    /// <summary>The default <see cref="TablePrefix"/>: tables <c>migration_lock</c> and <c>migration_status</c>.</summary>
    public const string DefaultTablePrefix = "migration";

    /// <summary>
    /// The prefix of the two tables: <c>{prefix}_lock</c> (the lease row) and <c>{prefix}_status</c> (one row per migration).
    /// An identifier: <c>[A-Za-z_][A-Za-z0-9_]*</c>, the resulting names at most 63 characters. Default <c>migration</c>.
    /// </summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>The lease table's name; null means <c>{TablePrefix}_lock</c>. Same identifier rules.</summary>
    public string? LockTableName { get; set; }

    /// <summary>The status table's name; null means <c>{TablePrefix}_status</c>. Same identifier rules.</summary>
    public string? StatusTableName { get; set; }

    /// <summary>
    /// How long a taken or extended lease lasts (default 60 seconds). If the runner holding it dies, another one takes
    /// over after at most this long. Keep it several times <see cref="MigrationConfig.HeartbeatIntervalMilliseconds"/>.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a runner waiting for a held lease (or a busy database lock) tries again (default one second).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// This runner's name in the lease row; null (the default) generates <c>host/process id/random</c>, unique per manager.
    /// Two managers must never share one.
    /// </summary>
    public string? OwnerId { get; set; }

    /// <summary>
    /// Whether the manager switches the database to write-ahead logging (<c>PRAGMA journal_mode=WAL</c>, a persistent
    /// property of the file) and uses <c>synchronous=NORMAL</c> on its own connections. Default <see langword="true"/>:
    /// readers never block the lease holder, and a status write costs no fsync (after a power loss the last statuses
    /// may be lost, so a migration may run again: migrations must be idempotent anyway).
    /// </summary>
    public bool UseWriteAheadLog { get; set; } = true;

    /// <summary>
    /// SQLite's <c>PRAGMA synchronous</c> on the manager's connections (the connection served to migrations included):
    /// how hard a commit waits for the disk. Null (the default) means <see cref="SqliteSynchronousMode.Normal"/> with
    /// <see cref="UseWriteAheadLog"/> (a commit is durable once the next checkpoint ran; a power loss may undo the last
    /// ones, never corrupt the file) and the connection's own setting (SQLite's default is
    /// <see cref="SqliteSynchronousMode.Full"/>) without it. Set <see cref="SqliteSynchronousMode.Full"/> for commits that
    /// survive a power loss the moment they return.
    /// </summary>
    public SqliteSynchronousMode? Synchronous { get; set; }

    /// <summary>Receives the manager's log (waiting for a lease, lease taken, lease lost); null means none.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>The clock of the polling delays; null means <see cref="System.TimeProvider.System"/>. Lease times use the database clock.</summary>
    public TimeProvider? TimeProvider { get; set; }
}
