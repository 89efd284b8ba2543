namespace SourceGenMigrations;

/// <summary>
/// Marks a <see langword="static"/> method as a migration. The SourceGenMigrations source generator collects every
/// such method at compile time into the generated <c>GeneratedMigrations</c> table, sorted by <see cref="Order"/>.
/// </summary>
/// <remarks>
/// <para>Accepted shapes: a <see langword="static"/>, non-generic method returning <see cref="System.Threading.Tasks.Task"/>,
/// <see cref="System.Threading.Tasks.ValueTask"/> or <see langword="void"/>, taking <c>()</c>, <c>(CancellationToken)</c>,
/// <c>(MigrationContext)</c> or <c>(MigrationContext, CancellationToken)</c>, declared in non-generic types that are
/// <see langword="public"/> or <see langword="internal"/>.</para>
/// <para>Mistakes are build errors reported by the bundled analyzers: a duplicate order (SGM001), a negative order
/// (SGM002), a missing order (SGM003), an unsupported signature (SGM004), an unreachable method (SGM005).</para>
/// <para>A migration runs in one transaction with its <c>COMPLETED</c> status on managers that support it (see
/// <see cref="Transactional"/>); a non-transactional one must be idempotent: a run interrupted while it executes runs it again.</para>
/// </remarks>
/// <example>
/// <code>
/// public static class Migrations
/// {
///     [Migration(Order = 1)]
///     public static async Task CreateUsers(MigrationContext context, CancellationToken cancellationToken) { ... }
///
///     [Migration(Order = 2, Enabled = false)] // superseded by 3
///     public static Task OldBackfill(CancellationToken cancellationToken) => Task.CompletedTask;
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class MigrationAttribute : Attribute
{
    /// <summary>
    /// The position of the migration in the run sequence. Required, zero or more, unique within the compilation
    /// (disabled migrations included). Once a migration has run against a database, its order must never change.
    /// </summary>
    public long Order { get; set; }

    /// <summary>
    /// Whether the migration runs. A disabled migration keeps its order reserved; disable one that a later
    /// migration supersedes. Defaults to <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether the migration runs inside one transaction with its <c>COMPLETED</c> status (default
    /// <see langword="true"/>). On the shipped SQLite and PostgreSQL managers the connection served to the migration
    /// (<c>DbConnection</c>, <c>SqliteConnection</c>, <c>NpgsqlConnection</c>) is already inside that transaction: a
    /// failure, a cancellation or a crash rolls back the migration's statements and its status together, so it takes
    /// effect exactly once. Do not begin, commit or roll back a transaction of your own in it. Set
    /// <see langword="false"/> for statements that cannot run in a transaction (PostgreSQL's
    /// <c>CREATE INDEX CONCURRENTLY</c>, SQLite's <c>VACUUM</c> or <c>PRAGMA foreign_keys</c>); such a migration must be
    /// idempotent, because a crash while it runs runs it again.
    /// </summary>
    public bool Transactional { get; set; } = true;

    /// <summary>
    /// Whether builds that do not know this migration must not run against a database where it took effect (default
    /// <see langword="false"/>). Mark a migration that older code cannot live with (it drops or renames what they use):
    /// the flag is stored with its status, and a build that finds it among the migrations it does not know refuses to
    /// start, even with <see cref="MigrationConfig.AllowNewerMigrations"/>, naming this migration. The flag counts once
    /// the migration took effect (<c>COMPLETED</c>; for a non-transactional one, once it started), so a breaking
    /// migration that failed and rolled back does not stop a rollback to the older build.
    /// </summary>
    public bool BreaksOlderBuilds { get; set; }
}
