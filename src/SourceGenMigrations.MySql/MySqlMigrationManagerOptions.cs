using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.MySql;

/// <summary>
/// Settings of a <see cref="MySqlMigrationManager"/>. Every value is validated when the manager is constructed
/// (<see cref="ArgumentException"/> naming the option and the bad value); later changes to this object have no effect.
/// </summary>
public sealed class MySqlMigrationManagerOptions
{
    /// <summary>The default <see cref="TablePrefix"/>: tables <c>migration_lock</c> and <c>migration_status</c>.</summary>
    public const string DefaultTablePrefix = "migration";

    /// <summary>
    /// The prefix of the two tables, created in the connection's database (<c>DATABASE()</c>): <c>{prefix}_lock</c> (the
    /// lease row) and <c>{prefix}_status</c> (one row per migration). An identifier: <c>[A-Za-z_][A-Za-z0-9_]*</c>, the
    /// resulting names at most 63 characters, quoted with backticks. Default <c>migration</c>.
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

    /// <summary>How often a runner waiting for a held lease tries again (default one second); the database lock is tried again every 50 ms at most.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// This runner's name in the lease row; null (the default) generates <c>host/process id/random</c>, unique per manager.
    /// Two managers must never share one.
    /// </summary>
    public string? OwnerId { get; set; }

    /// <summary>Receives the manager's log (waiting for a lock, lease taken, lease lost, implicit commits); null means none.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>The clock of the polling delays; null means <see cref="System.TimeProvider.System"/>. Lease times use the database server's clock.</summary>
    public TimeProvider? TimeProvider { get; set; }
}
