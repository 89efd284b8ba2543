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
            PendingInsert =
                $"INSERT INTO {statusTable} AS s ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}) VALUES ";
            PendingConflict =
                $"""

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

            // The start of a transactional migration, in its transaction (with Npgsql's BEGIN, one round trip, nothing
            // written): the transaction's id ($1 order, $2 owner), the migration's status, and whether the lease is ours.
            BeginInTransaction =
                $"""
                SELECT txid_current(), (SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = $1),
                    EXISTS (SELECT 1 FROM {lockTable} WHERE lock_id = 1 AND owner_id = $2)
                """;

            // COMPLETED ($1 order, $2 name, $3 applied_by, $4 BreaksOlderBuilds, $8 a SQL file's checksum or NULL) and the
            // lease's extension ($5 owner, $6 lease), in the migration's transaction ($7: its id; a transaction the
            // migration ended has another id, or none yet). The fence: unless the status was written (not COMPLETED already, the same transaction) and the
            // lease row is this owner's, the division by zero fails the statement, the transaction is aborted, and the
            // COMMIT sent in the same round trip is never run (a subquery's count cannot be folded at plan time).
            CompleteInTransaction =
                $"""
                WITH completed AS (
                    INSERT INTO {statusTable} AS s ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}, {StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum})
                    SELECT $1, '{MigrationStatusText.Completed}', clock_timestamp(), $2, $3, $4, $8
                    WHERE txid_current_if_assigned() = $7
                    ON CONFLICT ({StatusTableSchema.Order}) DO UPDATE SET {SetNamedColumns},
                        {StatusTableSchema.BreaksOlderBuilds} = EXCLUDED.{StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum} = EXCLUDED.{StatusTableSchema.Checksum}
                    WHERE s.{StatusTableSchema.Status} <> '{MigrationStatusText.Completed}'
                    RETURNING 1),
                extended AS (
                    UPDATE {lockTable} SET expires_at = clock_timestamp() + $6
                    WHERE lock_id = 1 AND owner_id = $5 AND EXISTS (SELECT 1 FROM completed)
                    RETURNING 1)
                SELECT 1 / (SELECT count(*)::int FROM extended)
                """;

            // Why CompleteInTransaction's fence failed, asked after its rollback ($1 order, $2 owner).
            StatusAndLease =
                $"""
                SELECT (SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = $1),
                    EXISTS (SELECT 1 FROM {lockTable} WHERE lock_id = 1 AND owner_id = $2)
                """;

            // The two statements of every transactional migration, also as PL/pgSQL functions created with the tables:
            // PL/pgSQL keeps a statement's plan for the server session, whatever client or pooler calls it, where the
            // statements themselves are parsed and planned on every migration (the manager prepares nothing: PgBouncer's
            // transaction pooling cannot carry prepared statements). Same parameters, same results, same fence (the
            // division by zero). Versioned names: a later release that changes a body creates a new function, and
            // replicas of this one keep calling theirs during a rolling upgrade.
            ChecksFunctionName = FunctionName(statusTableName, "_checks_v1");
            CompleteFunctionName = FunctionName(statusTableName, "_complete_v1");
            var checksFunction = schema + "." + ManagerValidation.Quote(ChecksFunctionName);
            var completeFunction = schema + "." + ManagerValidation.Quote(CompleteFunctionName);
            // The bodies are compared with the catalog's (pg_proc.prosrc): a function of that name with another body (another
            // lock table, an edited copy) is replaced, never trusted.
            ChecksFunctionBody =
                $"""

                BEGIN
                    {BeginInTransaction} INTO transaction_id, migration_status, lease_is_ours;
                END

                """;
            CompleteFunctionBody =
                $"""

                DECLARE fenced integer;
                BEGIN
                    {CompleteInTransaction} INTO fenced;
                    RETURN fenced;
                END

                """;
            CreateChecksFunction =
                $"CREATE OR REPLACE FUNCTION {checksFunction}(bigint, text, OUT transaction_id bigint, OUT migration_status text, OUT lease_is_ours boolean) LANGUAGE plpgsql AS $sgm${ChecksFunctionBody}$sgm$";
            CreateCompleteFunction =
                $"CREATE OR REPLACE FUNCTION {completeFunction}(bigint, text, text, boolean, text, interval, bigint, text) RETURNS integer LANGUAGE plpgsql AS $sgm${CompleteFunctionBody}$sgm$";
            FunctionsExist =
                """
                SELECT count(DISTINCT p.proname)::int FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = $1 AND ((p.proname = $2 AND p.prosrc = $3) OR (p.proname = $4 AND p.prosrc = $5))
                """;
            CallChecks = $"SELECT transaction_id, migration_status, lease_is_ours FROM {checksFunction}($1::bigint, $2::text)";
            CallComplete = $"SELECT {completeFunction}($1::bigint, $2::text, $3::text, $4::boolean, $5::text, $6::interval, $7::bigint, $8::text)";
        }

        /// <summary>The function of <see cref="BeginInTransaction"/>'s checks (unquoted name, in the tables' schema).</summary>
        public string ChecksFunctionName { get; }

        /// <summary>The function of <see cref="CompleteInTransaction"/> (unquoted name, in the tables' schema).</summary>
        public string CompleteFunctionName { get; }

        public string ChecksFunctionBody { get; }

        public string CompleteFunctionBody { get; }

        public string CreateChecksFunction { get; }

        public string CreateCompleteFunction { get; }

        /// <summary>How many of the two functions exist with this release's bodies ($1 schema; $2, $3 and $4, $5 name and body of each).</summary>
        public string FunctionsExist { get; }

        /// <summary><see cref="BeginInTransaction"/> through its function: same parameters, same row.</summary>
        public string CallChecks { get; }

        /// <summary><see cref="CompleteInTransaction"/> through its function: same parameters, same fence.</summary>
        public string CallComplete { get; }

        /// <summary>A transactional migration's checks and its COMPLETED: through the functions once they are known to exist, else the statements.</summary>
        public (string Checks, string Complete) UnitOfWork(bool functionsExist) =>
            functionsExist ? (CallChecks, CallComplete) : (BeginInTransaction, CompleteInTransaction);

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

        public string Persist { get; }

        /// <summary>
        /// The PENDING upsert of <paramref name="rows"/> migrations as one statement (<c>$1</c> order, <c>$2</c> name,
        /// <c>$3</c> applied_by for the first row, <c>$4</c>… for the next): parsed and planned once, not once per migration.
        /// </summary>
        public string Pending(int rows)
        {
            const string Row = "'" + MigrationStatusText.Pending + "', clock_timestamp(), ";
            var sql = new System.Text.StringBuilder(PendingInsert.Length + PendingConflict.Length + (rows * 64));
            sql.Append(PendingInsert);
            for (var row = 0; row < rows; row++)
            {
                var first = (row * PendingParametersPerRow) + 1;
                sql.Append(row == 0 ? "(" : ", (").Append('$').Append(first).Append("::bigint, ").Append(Row)
                    .Append('$').Append(first + 1).Append("::text, $").Append(first + 2).Append("::text)");
            }

            return sql.Append(PendingConflict).ToString();
        }

        /// <summary>The parameters of one migration in <see cref="Pending"/>: order, name, applied_by.</summary>
        private const int PendingParametersPerRow = 3;

        private string PendingInsert { get; }

        private string PendingConflict { get; }

        public string WriteFenced { get; }

        public string BeginInTransaction { get; }

        public string CompleteInTransaction { get; }

        public string StatusAndLease { get; }

        /// <summary>
        /// <c>{table}{suffix}</c>, or, when that exceeds PostgreSQL's 63 bytes (identifiers are ASCII here), the table
        /// name cut short and a hash of the whole of it, so that two long table names never share a function.
        /// </summary>
        private static string FunctionName(string table, string suffix)
        {
            const int MaxIdentifier = 63;
            if (table.Length + suffix.Length <= MaxIdentifier)
            {
                return table + suffix;
            }

            var tag = "_" + ((uint)Fnv1a64(table)).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
            return table[..(MaxIdentifier - suffix.Length - tag.Length)] + tag + suffix;
        }

        public static string TypeName(StatusColumnKind kind) => kind == StatusColumnKind.Boolean ? "boolean" : "text";
    }
}
