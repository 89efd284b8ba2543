using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    /// <summary>The manager's SQL, built once from the quoted table names. Parameters: <c>$owner</c>, <c>$lease_ms</c>, <c>$order</c>, <c>$status</c>, <c>$name</c>.</summary>
    private sealed class Statements
    {
        // Unix milliseconds from SQLite's clock; 'now' is fixed for the duration of one statement.
        public const string NowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
        private const string NowText = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

        /// <param name="lockTable">The lease table's name, quoted.</param>
        /// <param name="statusTable">The status table's name, quoted.</param>
        /// <param name="statusTableName">The status table's name unquoted (an identifier: letters, digits, underscores), written as a literal where SQLite wants a string.</param>
        /// <param name="leaseMilliseconds">The lease's duration.</param>
        public Statements(string lockTable, string statusTable, string statusTableName, long leaseMilliseconds)
        {
            LeaseMilliseconds = leaseMilliseconds;
            Create =
                $"""
                CREATE TABLE IF NOT EXISTS {lockTable} (
                    lock_id INTEGER NOT NULL PRIMARY KEY CHECK (lock_id = 1),
                    owner_id TEXT NOT NULL,
                    acquired_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS {statusTable} (
                    {StatusTableSchema.Order} INTEGER NOT NULL PRIMARY KEY,
                    {StatusTableSchema.Status} TEXT NOT NULL,
                    {StatusTableSchema.UpdatedAt} TEXT NOT NULL{StatusTableSchema.AddedColumnDefinitions(TypeName)}
                );
                """;
            StatusColumns = $"SELECT name FROM pragma_table_info($table);";
            // The name as a literal, not a parameter: a start with nothing to do binds no parameter at all, and binding
            // compiles Microsoft.Data.Sqlite's value binder (~2 ms of a cold start, issue 14).
            AddedColumnCount = $"SELECT count(*) FROM pragma_table_info('{statusTableName}') WHERE lower(name) IN ({StatusTableSchema.AddedColumnNames()});";
            AddColumnPrefix = $"ALTER TABLE {statusTable} ADD COLUMN ";
            Take =
                $"""
                INSERT INTO {lockTable} (lock_id, owner_id, acquired_at_ms, expires_at_ms)
                VALUES (1, $owner, {NowMs}, {NowMs} + $lease_ms)
                ON CONFLICT (lock_id) DO UPDATE SET
                    owner_id = excluded.owner_id, acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
                WHERE {lockTable}.expires_at_ms <= excluded.acquired_at_ms OR {lockTable}.owner_id = excluded.owner_id
                RETURNING expires_at_ms;
                """;
            ReadLease = $"SELECT owner_id, expires_at_ms FROM {lockTable} WHERE lock_id = 1;";
            Extend = $"UPDATE {lockTable} SET expires_at_ms = {NowMs} + $lease_ms WHERE lock_id = 1 AND owner_id = $owner RETURNING expires_at_ms;";
            Release = $"DELETE FROM {lockTable} WHERE lock_id = 1 AND owner_id = $owner;";
            List = CompactStatusList.Sql(statusTable);
            ListRows = $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.BreaksOlderBuilds} = 1, CASE WHEN {StatusTableSchema.BreaksOlderBuilds} = 1 THEN {StatusTableSchema.Name} END, {StatusTableSchema.Checksum} FROM {statusTable} ORDER BY {StatusTableSchema.Order};";
            StatusOf = $"SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = $order;";
            BeginCheck = $"SELECT (SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = $order), (SELECT expires_at_ms - {NowMs} FROM {lockTable} WHERE lock_id = 1 AND owner_id = $owner);";
            Persist =
                $"""
                INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.AppliedBy})
                VALUES ($order, $status, {NowText}, $owner)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy};
                """;
            Pending =
                $"""
                INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy})
                VALUES ($order, '{MigrationStatusText.Pending}', {NowText}, $name, $applied_by)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.Name} = excluded.{StatusTableSchema.Name}, {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy}
                WHERE {statusTable}.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;

            // The fenced write of STARTED, COMPLETED and FAILED: only while this owner holds the lease row, and never over
            // COMPLETED (zero rows changed tells the caller to find out which of the two stopped it). $breaks is the
            // BreaksOlderBuilds flag to store with this status, or NULL to keep the stored one (it is stored only with the
            // status that marks the migration's effect). $checksum is a SQL file's checksum (NULL for a method).
            WriteFenced =
                $"""
                INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}, {StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum})
                SELECT $order, $status, {NowText}, $name, $applied_by, $breaks, $checksum
                WHERE EXISTS (SELECT 1 FROM {lockTable} WHERE lock_id = 1 AND owner_id = $owner)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.Name} = excluded.{StatusTableSchema.Name}, {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy},
                    {StatusTableSchema.Checksum} = excluded.{StatusTableSchema.Checksum},
                    {StatusTableSchema.BreaksOlderBuilds} = coalesce(excluded.{StatusTableSchema.BreaksOlderBuilds}, {statusTable}.{StatusTableSchema.BreaksOlderBuilds})
                WHERE {statusTable}.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;
            // COMPLETED of a transactional migration, inside its BEGIN IMMEDIATE transaction: the begin's read fenced it (the
            // write lock keeps every other connection out until the commit), and the run wrote its PENDING row, so a plain
            // update by key does. Short on purpose: a migration that changes the schema makes SQLite parse this statement
            // again on every migration. No row updated (a migration not written PENDING first): WriteFenced instead.
            CompleteInTransaction =
                $"""
                UPDATE {statusTable} SET {StatusTableSchema.Status} = '{MigrationStatusText.Completed}', {StatusTableSchema.UpdatedAt} = {NowText},
                    {StatusTableSchema.Name} = $name, {StatusTableSchema.AppliedBy} = $applied_by, {StatusTableSchema.BreaksOlderBuilds} = $breaks, {StatusTableSchema.Checksum} = $checksum
                WHERE {StatusTableSchema.Order} = $order AND {StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;
            BreakingNames = $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Name} FROM {statusTable} WHERE {StatusTableSchema.BreaksOlderBuilds} = 1;";
        }

        public long LeaseMilliseconds { get; }

        public string CompleteInTransaction { get; }

        public string Create { get; }

        /// <summary>The column names of a table (<c>$table</c>, unquoted).</summary>
        public string StatusColumns { get; }

        /// <summary>How many of the columns added after the first release the status table has.</summary>
        public string AddedColumnCount { get; }

        /// <summary><c>ALTER TABLE … ADD COLUMN </c>, followed by a column definition.</summary>
        public string AddColumnPrefix { get; }

        public string Take { get; }

        public string ReadLease { get; }

        public string Extend { get; }

        public string Release { get; }

        public string List { get; }

        public string ListRows { get; }

        public string StatusOf { get; }

        /// <summary>What a transactional migration's begin reads: its status (null without a row) and the milliseconds left on the lease when it is <c>$owner</c>'s (null when it is not).</summary>
        public string BeginCheck { get; }

        public string Persist { get; }

        public string Pending { get; }

        public string WriteFenced { get; }

        /// <summary>Order and name of the migrations stored as breaking older builds (read only when the list shows one).</summary>
        public string BreakingNames { get; }

        public static string TypeName(StatusColumnKind kind) => kind == StatusColumnKind.Boolean ? "INTEGER" : "TEXT";
    }
}
