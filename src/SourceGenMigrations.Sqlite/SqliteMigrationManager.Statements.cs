using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    /// <summary>The manager's SQL, each statement built from the table names on first use (a start with nothing to do needs two). Parameters: <c>$owner</c>, <c>$lease_ms</c>, <c>$order</c>, <c>$status</c>, <c>$name</c>.</summary>
    private sealed class Statements
    {
        // Unix milliseconds from SQLite's clock; 'now' is fixed for the duration of one statement.
        public const string NowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
        private const string NowText = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

        private readonly string _lockTable;
        private readonly string _statusTable;
        private readonly string _statusTableName;
        private string? _create;
        private string? _statusColumns;
        private string? _addedColumnCount;
        private string? _addColumnPrefix;
        private string? _take;
        private string? _readLease;
        private string? _extend;
        private string? _release;
        private string? _list;
        private string? _listWithColumnCount;
        private string? _listRows;
        private string? _statusOf;
        private string? _beginCheck;
        private string? _persist;
        private string? _pending;
        private string? _writeFenced;
        private string? _completeInTransaction;
        private string? _breakingNames;

        /// <param name="lockTable">The lease table's name, quoted.</param>
        /// <param name="statusTable">The status table's name, quoted.</param>
        /// <param name="statusTableName">The status table's name unquoted (an identifier: letters, digits, underscores), written as a literal where SQLite wants a string.</param>
        /// <param name="leaseMilliseconds">The lease's duration.</param>
        public Statements(string lockTable, string statusTable, string statusTableName, long leaseMilliseconds)
        {
            _lockTable = lockTable;
            _statusTable = statusTable;
            _statusTableName = statusTableName;
            LeaseMilliseconds = leaseMilliseconds;
        }

        public long LeaseMilliseconds { get; }

        // COMPLETED of a transactional migration, inside its BEGIN IMMEDIATE transaction: the begin's read fenced it (the
        // write lock keeps every other connection out until the commit), and the run wrote its PENDING row, so a plain
        // update by key does. Short on purpose: a migration that changes the schema makes SQLite parse this statement
        // again on every migration. No row updated (a migration not written PENDING first): WriteFenced instead.
        public string CompleteInTransaction => _completeInTransaction ??=
            $"""
                UPDATE {_statusTable} SET {StatusTableSchema.Status} = '{MigrationStatusText.Completed}', {StatusTableSchema.UpdatedAt} = {NowText},
                    {StatusTableSchema.Name} = $name, {StatusTableSchema.AppliedBy} = $applied_by, {StatusTableSchema.BreaksOlderBuilds} = $breaks, {StatusTableSchema.Checksum} = $checksum
                WHERE {StatusTableSchema.Order} = $order AND {StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;

        public string Create => _create ??=
            $"""
                CREATE TABLE IF NOT EXISTS {_lockTable} (
                    lock_id INTEGER NOT NULL PRIMARY KEY CHECK (lock_id = 1),
                    owner_id TEXT NOT NULL,
                    acquired_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS {_statusTable} (
                    {StatusTableSchema.Order} INTEGER NOT NULL PRIMARY KEY,
                    {StatusTableSchema.Status} TEXT NOT NULL,
                    {StatusTableSchema.UpdatedAt} TEXT NOT NULL{StatusTableSchema.AddedColumnDefinitions(TypeName)}
                );
                """;

        /// <summary>The column names of a table (<c>$table</c>, unquoted).</summary>
        public string StatusColumns => _statusColumns ??=
            $"SELECT name FROM pragma_table_info($table);";

        /// <summary>How many of the columns added after the first release the status table has.</summary>
        // The name as a literal, not a parameter: a start with nothing to do binds no parameter at all, and binding
        // compiles Microsoft.Data.Sqlite's value binder (~2 ms of a cold start, issue 14).
        public string AddedColumnCount => _addedColumnCount ??=
            $"SELECT count(*) FROM pragma_table_info('{_statusTableName}') WHERE lower(name) IN ({StatusTableSchema.AddedColumnNames()});";

        /// <summary><c>ALTER TABLE … ADD COLUMN </c>, followed by a column definition.</summary>
        public string AddColumnPrefix => _addColumnPrefix ??=
            $"ALTER TABLE {_statusTable} ADD COLUMN ";

        public string Take => _take ??=
            $"""
                INSERT INTO {_lockTable} (lock_id, owner_id, acquired_at_ms, expires_at_ms)
                VALUES (1, $owner, {NowMs}, {NowMs} + $lease_ms)
                ON CONFLICT (lock_id) DO UPDATE SET
                    owner_id = excluded.owner_id, acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
                WHERE {_lockTable}.expires_at_ms <= excluded.acquired_at_ms OR {_lockTable}.owner_id = excluded.owner_id
                RETURNING expires_at_ms;
                """;

        public string ReadLease => _readLease ??=
            $"SELECT owner_id, expires_at_ms FROM {_lockTable} WHERE lock_id = 1;";

        public string Extend => _extend ??=
            $"UPDATE {_lockTable} SET expires_at_ms = {NowMs} + $lease_ms WHERE lock_id = 1 AND owner_id = $owner RETURNING expires_at_ms;";

        public string Release => _release ??=
            $"DELETE FROM {_lockTable} WHERE lock_id = 1 AND owner_id = $owner;";

        public string List => _list ??=
            CompactStatusList.Sql(_statusTable);

        /// <summary>
        /// The read of a start that may have nothing to do: how many added columns the status table has, and the list. Its
        /// prepare fails on a missing table or one of the first release (the list names added columns).
        /// </summary>
        public string ListWithColumnCount => _listWithColumnCount ??=
            $"SELECT ({AddedColumnCount.TrimEnd(';')}), ({List.TrimEnd().TrimEnd(';')});";

        public string ListRows => _listRows ??=
            $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.BreaksOlderBuilds} = 1, CASE WHEN {StatusTableSchema.BreaksOlderBuilds} = 1 THEN {StatusTableSchema.Name} END, {StatusTableSchema.Checksum} FROM {_statusTable} ORDER BY {StatusTableSchema.Order};";

        public string StatusOf => _statusOf ??=
            $"SELECT {StatusTableSchema.Status} FROM {_statusTable} WHERE {StatusTableSchema.Order} = $order;";

        /// <summary>What a transactional migration's begin reads: its status (null without a row) and the milliseconds left on the lease when it is <c>$owner</c>'s (null when it is not).</summary>
        public string BeginCheck => _beginCheck ??=
            $"SELECT (SELECT {StatusTableSchema.Status} FROM {_statusTable} WHERE {StatusTableSchema.Order} = $order), (SELECT expires_at_ms - {NowMs} FROM {_lockTable} WHERE lock_id = 1 AND owner_id = $owner);";

        public string Persist => _persist ??=
            $"""
                INSERT INTO {_statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.AppliedBy})
                VALUES ($order, $status, {NowText}, $owner)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy};
                """;

        public string Pending => _pending ??=
            $"""
                INSERT INTO {_statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy})
                VALUES ($order, '{MigrationStatusText.Pending}', {NowText}, $name, $applied_by)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.Name} = excluded.{StatusTableSchema.Name}, {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy}
                WHERE {_statusTable}.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;

        // The fenced write of STARTED, COMPLETED and FAILED: only while this owner holds the lease row, and never over
        // COMPLETED (zero rows changed tells the caller to find out which of the two stopped it). $breaks is the
        // BreaksOlderBuilds flag to store with this status, or NULL to keep the stored one (it is stored only with the
        // status that marks the migration's effect). $checksum is a SQL file's checksum (NULL for a method).
        public string WriteFenced => _writeFenced ??=
            $"""
                INSERT INTO {_statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}, {StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum})
                SELECT $order, $status, {NowText}, $name, $applied_by, $breaks, $checksum
                WHERE EXISTS (SELECT 1 FROM {_lockTable} WHERE lock_id = 1 AND owner_id = $owner)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET
                    {StatusTableSchema.Status} = excluded.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = excluded.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.Name} = excluded.{StatusTableSchema.Name}, {StatusTableSchema.AppliedBy} = excluded.{StatusTableSchema.AppliedBy},
                    {StatusTableSchema.Checksum} = excluded.{StatusTableSchema.Checksum},
                    {StatusTableSchema.BreaksOlderBuilds} = coalesce(excluded.{StatusTableSchema.BreaksOlderBuilds}, {_statusTable}.{StatusTableSchema.BreaksOlderBuilds})
                WHERE {_statusTable}.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}';
                """;

        /// <summary>Order and name of the migrations stored as breaking older builds (read only when the list shows one).</summary>
        public string BreakingNames => _breakingNames ??=
            $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Name} FROM {_statusTable} WHERE {StatusTableSchema.BreaksOlderBuilds} = 1;";

        public static string TypeName(StatusColumnKind kind) => kind == StatusColumnKind.Boolean ? "INTEGER" : "TEXT";
    }
}
