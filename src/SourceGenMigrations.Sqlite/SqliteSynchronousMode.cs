namespace SourceGenMigrations.Sqlite;

/// <summary>The values of SQLite's <c>PRAGMA synchronous</c> (see <see cref="SqliteMigrationManagerOptions.Synchronous"/>).</summary>
public enum SqliteSynchronousMode
{
    /// <summary><c>OFF</c>: no waiting for the disk; an operating system crash or a power loss can corrupt the database.</summary>
    Off = 0,

    /// <summary><c>NORMAL</c>: with write-ahead logging, commits wait for the disk only at checkpoints.</summary>
    Normal = 1,

    /// <summary><c>FULL</c>: every commit waits for the disk (SQLite's default).</summary>
    Full = 2,

    /// <summary><c>EXTRA</c>: like <see cref="Full"/>, and in rollback-journal mode the directory is synced too.</summary>
    Extra = 3,
}
