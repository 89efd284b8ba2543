using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

public sealed partial class PostgreSqlMigrationManager
{
    /// <summary>The manager's SQL, built once from the checked names (positional parameters <c>$1</c>, <c>$2</c>, …).</summary>
    private sealed class Statements
    {
        public Statements(string schemaName, string lockTableName, string statusTableName)
        {
            var schema = ManagerValidation.Quote(schemaName);
            var lockTable = schema + "." + ManagerValidation.Quote(lockTableName);
            var statusTable = schema + "." + ManagerValidation.Quote(statusTableName);
            StatusTableRegClass = statusTable;
            SchemaExists = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)";
            CreateSchema = $"CREATE SCHEMA IF NOT EXISTS {schema}";
            CreateLockTable =
                $"""
                CREATE TABLE IF NOT EXISTS {lockTable} (
                    lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1),
                    owner_id text NOT NULL,
                    acquired_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """;
            CreateStatusTable =
                $"""
                CREATE TABLE IF NOT EXISTS {statusTable} (
                    {StatusTableSchema.Order} bigint NOT NULL PRIMARY KEY,
                    {StatusTableSchema.Status} text NOT NULL,
                    {StatusTableSchema.UpdatedAt} timestamptz NOT NULL{StatusTableSchema.AddedColumnDefinitions(TypeName)}
                )
                """;

            // The catalog is read before any ALTER: ADD COLUMN IF NOT EXISTS takes its lock even when the column exists.
            StatusColumns = "SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped";
            AlterStatusTable = $"ALTER TABLE {statusTable} ";
            TryLock = "SELECT pg_try_advisory_xact_lock($1)";
            Take =
                $"""
                INSERT INTO {lockTable} AS l (lock_id, owner_id, acquired_at, expires_at)
                VALUES (1, $1, clock_timestamp(), clock_timestamp() + $2)
                ON CONFLICT (lock_id) DO UPDATE SET
                    owner_id = EXCLUDED.owner_id, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
                WHERE l.expires_at <= EXCLUDED.acquired_at OR l.owner_id = EXCLUDED.owner_id
                RETURNING l.expires_at
                """;
            ReadLease = $"SELECT owner_id, expires_at FROM {lockTable} WHERE lock_id = 1";
            Extend = $"UPDATE {lockTable} SET expires_at = clock_timestamp() + $2 WHERE lock_id = 1 AND owner_id = $1 RETURNING expires_at";
            Release = $"DELETE FROM {lockTable} WHERE lock_id = 1 AND owner_id = $1";
            // The name only where a build that does not know the migration must say which one stops it.
            List = $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.BreaksOlderBuilds} IS TRUE, CASE WHEN {StatusTableSchema.BreaksOlderBuilds} THEN {StatusTableSchema.Name} END, {StatusTableSchema.Checksum} FROM {statusTable} ORDER BY {StatusTableSchema.Order}";
            StatusOf = $"SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = $1";
            const string SetColumns =
                $"""
                {StatusTableSchema.Status} = EXCLUDED.{StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt} = EXCLUDED.{StatusTableSchema.UpdatedAt},
                    {StatusTableSchema.AppliedBy} = EXCLUDED.{StatusTableSchema.AppliedBy}
                """;
            const string SetNamedColumns = SetColumns + $", {StatusTableSchema.Name} = EXCLUDED.{StatusTableSchema.Name}";
            Persist =
                $"""
                INSERT INTO {statusTable} AS s ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.AppliedBy})
                VALUES ($1, $2, clock_timestamp(), $3)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET {SetColumns}
                """;
            Pending =
                $"""
                INSERT INTO {statusTable} AS s ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy})
                VALUES ($1, '{MigrationStatusText.Pending}', clock_timestamp(), $2, $3)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET {SetNamedColumns}
                WHERE s.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}'
                """;

            // The fenced write of STARTED, COMPLETED and FAILED: only while this owner ($4) holds the lease row, and never
            // over COMPLETED; $5 is the BreaksOlderBuilds flag to store, or NULL to keep the stored one; $6 the applied_by
            // value; $7 a SQL file's checksum (NULL for a method). Returns the transaction id, which the commit of a
            // transactional migration checks.
            WriteFenced =
                $"""
                INSERT INTO {statusTable} AS s ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}, {StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum})
                SELECT $1, $2, clock_timestamp(), $3, $6, $5, $7
                WHERE EXISTS (SELECT 1 FROM {lockTable} WHERE lock_id = 1 AND owner_id = $4)
                ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET {SetNamedColumns}, {StatusTableSchema.Checksum} = EXCLUDED.{StatusTableSchema.Checksum},
                    {StatusTableSchema.BreaksOlderBuilds} = coalesce(EXCLUDED.{StatusTableSchema.BreaksOlderBuilds}, s.{StatusTableSchema.BreaksOlderBuilds})
                WHERE s.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}'
                RETURNING txid_current()
                """;

            // COMPLETED ($1 order, $2 name, $3 applied_by, $5 BreaksOlderBuilds, $6 checksum) and the lease's extension inside the migration's transaction ($4: its
            // id). A transaction the migration ended has another id (or none yet), so nothing is written outside it.
            CompleteInTransaction =
                $"""
                UPDATE {statusTable} SET {StatusTableSchema.Status} = '{MigrationStatusText.Completed}', {StatusTableSchema.UpdatedAt} = clock_timestamp(),
                    {StatusTableSchema.Name} = $2, {StatusTableSchema.AppliedBy} = $3, {StatusTableSchema.BreaksOlderBuilds} = $5, {StatusTableSchema.Checksum} = $6
                WHERE {StatusTableSchema.Order} = $1 AND txid_current_if_assigned() = $4
                """;
            // The lease's extension inside the migration's transaction ($1 owner, $2 lease, $3 its id), and its fence: when
            // the row is not this owner's, the division by zero fails the statement, the transaction is aborted, and the
            // COMMIT sent in the same round trip is never run (a subquery's count cannot be folded at plan time).
            ExtendOrFailInTransaction =
                $"""
                WITH extended AS (
                    UPDATE {lockTable} SET expires_at = clock_timestamp() + $2
                    WHERE lock_id = 1 AND owner_id = $1 AND txid_current_if_assigned() = $3 RETURNING 1)
                SELECT 1 / (SELECT count(*)::int FROM extended)
                """;
        }

        /// <summary>The status table, quoted and schema-qualified, as text for <c>to_regclass</c>.</summary>
        public string StatusTableRegClass { get; }

        public string SchemaExists { get; }

        public string CreateSchema { get; }

        public string CreateLockTable { get; }

        public string CreateStatusTable { get; }

        public string StatusColumns { get; }

        public string AlterStatusTable { get; }

        public string TryLock { get; }

        public string Take { get; }

        public string ReadLease { get; }

        public string Extend { get; }

        public string Release { get; }

        public string List { get; }

        public string StatusOf { get; }

        public string Persist { get; }

        public string Pending { get; }

        public string WriteFenced { get; }

        public string CompleteInTransaction { get; }

        public string ExtendOrFailInTransaction { get; }

        public static string TypeName(StatusColumnKind kind) => kind == StatusColumnKind.Boolean ? "boolean" : "text";
    }
}
