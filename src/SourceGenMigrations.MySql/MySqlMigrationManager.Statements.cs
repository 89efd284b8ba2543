using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    /// <summary>The savepoint set after <c>STARTED</c> in a transactional migration's transaction.</summary>
    private const string Savepoint = "sgm_migration";

    /// <summary>
    /// The manager's SQL, built once from the checked names (MySqlConnector's named parameters, <c>@owner</c>, …; the
    /// manager uses no user variable, so no <c>AllowUserVariables</c> is needed). Every time is the server's
    /// <c>UTC_TIMESTAMP(6)</c>, stored in <c>DATETIME(6)</c> columns as UTC, whatever the session's time zone.
    /// </summary>
    /// <remarks>
    /// MySQL evaluates the assignments of <c>ON DUPLICATE KEY UPDATE</c> (like those of <c>UPDATE</c>) from left to right,
    /// each seeing the columns assigned before it: the statements below rely on that order (the deciding column is
    /// assigned last, or first when the others test its new value), as MySQL and MariaDB document.
    /// </remarks>
    private sealed class Statements
    {
        public Statements(string lockTableName, string statusTableName)
        {
            var lockTable = ManagerValidation.Quote(lockTableName, '`');
            var statusTable = ManagerValidation.Quote(statusTableName, '`');
            const string Completed = MigrationStatusText.Completed;
            const string Now = "UTC_TIMESTAMP(6)";
            const string Expiry = "UTC_TIMESTAMP(6) + INTERVAL @lease_us MICROSECOND";

            // The database lock's name, computed by the server from its DATABASE() (lock names are server-wide, so two
            // databases on one server must not share one) and at most 64 characters (MySQL's limit): see ComputeDbLockName.
            // The first try answers the name too (one round trip on the path of every start); later tries pass it back.
            FirstTryDbLock =
                $"""
                SELECT DATABASE(), lock_name, GET_LOCK(lock_name, 0) FROM (
                    SELECT IF(CHAR_LENGTH(n) <= {MaxLockNameLength}, n, CONCAT('{LockNamePrefix}', LEFT(SHA2(n, 256), {MaxLockNameLength - LockNamePrefix.Length}))) AS lock_name
                    FROM (SELECT CONCAT('{LockNamePrefix}', DATABASE(), '.', @lock_table) AS n) AS full_name
                ) AS name
                """;
            TryDbLock = "SELECT GET_LOCK(@name, 0)";
            ReleaseDbLock = "SELECT RELEASE_LOCK(@name)";

            // What exists of the two tables, read before any DDL: CREATE TABLE IF NOT EXISTS and ALTER TABLE take
            // metadata locks even when there is nothing to do.
            Columns = "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (@lock_table, @status_table)";
            CreateLockTable =
                $"""
                CREATE TABLE IF NOT EXISTS {lockTable} (
                    lock_id INT NOT NULL PRIMARY KEY,
                    owner_id VARCHAR({ManagerValidation.MaxOwnerIdLength}) NOT NULL,
                    acquired_at DATETIME(6) NOT NULL,
                    expires_at DATETIME(6) NOT NULL,
                    CONSTRAINT {ManagerValidation.Quote(lockTableName + "_single_row", '`')} CHECK (lock_id = 1)
                ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
                """;
            CreateStatusTable =
                $"""
                CREATE TABLE IF NOT EXISTS {statusTable} (
                    {StatusTableSchema.Order} BIGINT NOT NULL PRIMARY KEY,
                    {StatusTableSchema.Status} VARCHAR(32) NOT NULL,
                    {StatusTableSchema.UpdatedAt} DATETIME(6) NOT NULL{StatusTableSchema.AddedColumnDefinitions(TypeName)}
                ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
                """;
            AlterStatusTable = $"ALTER TABLE {statusTable} ";

            // The lease, taken in one short transaction: the upsert decides with the row locked (owner_id is assigned
            // first; the other columns follow it when it became ours), and the row is read back in the same
            // transaction. MySqlConnector's affected-rows count cannot tell "taken" from "held by another and left as
            // it was" (both are 1 with its default, found rows), so the decision is the row read back.
            TakeLease =
                $"""
                START TRANSACTION;
                INSERT INTO {lockTable} (lock_id, owner_id, acquired_at, expires_at) VALUES (1, @owner, {Now}, {Expiry})
                ON DUPLICATE KEY UPDATE
                    owner_id = IF(expires_at <= {Now} OR owner_id = @owner, @owner, owner_id),
                    acquired_at = IF(owner_id = @owner, {Now}, acquired_at),
                    expires_at = IF(owner_id = @owner, {Expiry}, expires_at);
                SELECT owner_id, expires_at FROM {lockTable} WHERE lock_id = 1;
                COMMIT
                """;

            // An UPDATE reads the latest committed row, whatever the session's snapshot: the read that follows shows the
            // new expiry only when the row is this owner's (nobody else writes this owner id).
            ExtendLease =
                $"""
                UPDATE {lockTable} SET expires_at = {Expiry} WHERE lock_id = 1 AND owner_id = @owner;
                SELECT expires_at FROM {lockTable} WHERE lock_id = 1 AND owner_id = @owner
                """;
            ReleaseLease = $"DELETE FROM {lockTable} WHERE lock_id = 1 AND owner_id = @owner";
            ReadLease = $"SELECT owner_id, expires_at FROM {lockTable} WHERE lock_id = 1";
            ReadLeaseWithClock = $"SELECT owner_id, acquired_at, expires_at, {Now} FROM {lockTable} WHERE lock_id = 1";
            DeleteLeaseOf = $"DELETE FROM {lockTable} WHERE lock_id = 1 AND owner_id = @owner";

            // The name only where a build that does not know the migration must say which one stops it.
            List = $"SELECT {StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.BreaksOlderBuilds} IS TRUE, CASE WHEN {StatusTableSchema.BreaksOlderBuilds} THEN {StatusTableSchema.Name} END, {StatusTableSchema.Checksum} FROM {statusTable} ORDER BY {StatusTableSchema.Order}";
            Persist =
                $"""
                INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.AppliedBy})
                VALUES (@order, @status, {Now}, @owner)
                ON DUPLICATE KEY UPDATE {StatusTableSchema.Status} = @status, {StatusTableSchema.UpdatedAt} = {Now}, {StatusTableSchema.AppliedBy} = @owner
                """;

            // PENDING for a list, one multi-row statement (one commit). VALUES(column) is the row's own value (deprecated
            // by MySQL 8.0.20 in favour of a row alias that MariaDB lacks, still accepted by both). status is assigned last:
            // the others test the value it had.
            PendingPrefix = $"INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}) VALUES ";
            PendingSuffix =
                $"""

                ON DUPLICATE KEY UPDATE
                    {StatusTableSchema.UpdatedAt} = IF({StatusTableSchema.Status} <> '{Completed}', VALUES({StatusTableSchema.UpdatedAt}), {StatusTableSchema.UpdatedAt}),
                    {StatusTableSchema.Name} = IF({StatusTableSchema.Status} <> '{Completed}', VALUES({StatusTableSchema.Name}), {StatusTableSchema.Name}),
                    {StatusTableSchema.AppliedBy} = IF({StatusTableSchema.Status} <> '{Completed}', VALUES({StatusTableSchema.AppliedBy}), {StatusTableSchema.AppliedBy}),
                    {StatusTableSchema.Status} = IF({StatusTableSchema.Status} <> '{Completed}', VALUES({StatusTableSchema.Status}), {StatusTableSchema.Status})
                """;
            PendingRow = $"(@order{{0}}, '{MigrationStatusText.Pending}', {Now}, @name{{0}}, @applied_by{{0}})";

            // The fenced write of STARTED, COMPLETED and FAILED, run inside a transaction: the lease row is read first,
            // then the status is written unless the row is COMPLETED (with @breaks, the BreaksOlderBuilds flag to store or
            // NULL to keep the stored one, and @applied_by, the owner and the build), then it is read back locked. The caller commits
            // only when the lease read shows this owner and the status is the one written (see WriteFencedAsync).
            // STARTED in a migration's transaction reads the lease without a lock (a lock would stay until the migration
            // commits and keep the heartbeat from extending the lease; being the transaction's first read, it sees the
            // latest committed row); every other write reads it LOCK IN SHARE MODE, held only until its commit.
            const string StatusIsOpen = $"{StatusTableSchema.Status} <> '{Completed}'";
            string WriteFenced(string leaseLock) =>
                $"""
                SELECT owner_id FROM {lockTable} WHERE lock_id = 1{leaseLock};
                INSERT INTO {statusTable} ({StatusTableSchema.Order}, {StatusTableSchema.Status}, {StatusTableSchema.UpdatedAt}, {StatusTableSchema.Name}, {StatusTableSchema.AppliedBy}, {StatusTableSchema.BreaksOlderBuilds}, {StatusTableSchema.Checksum})
                VALUES (@order, @status, {Now}, @name, @applied_by, @breaks, @checksum)
                ON DUPLICATE KEY UPDATE
                    {StatusTableSchema.BreaksOlderBuilds} = IF({StatusIsOpen}, COALESCE(@breaks, {StatusTableSchema.BreaksOlderBuilds}), {StatusTableSchema.BreaksOlderBuilds}),
                    {StatusTableSchema.Checksum} = IF({StatusIsOpen}, @checksum, {StatusTableSchema.Checksum}),
                    {StatusTableSchema.UpdatedAt} = IF({StatusIsOpen}, {Now}, {StatusTableSchema.UpdatedAt}),
                    {StatusTableSchema.Name} = IF({StatusIsOpen}, @name, {StatusTableSchema.Name}),
                    {StatusTableSchema.AppliedBy} = IF({StatusIsOpen}, @applied_by, {StatusTableSchema.AppliedBy}),
                    {StatusTableSchema.Status} = IF({StatusIsOpen}, @status, {StatusTableSchema.Status});
                SELECT {StatusTableSchema.Status} FROM {statusTable} WHERE {StatusTableSchema.Order} = @order FOR UPDATE
                """;
            WriteStarted = WriteFenced("");
            WriteFencedLocked = WriteFenced(" LOCK IN SHARE MODE");

            // COMPLETED in the migration's transaction, after the lease's extension: the UPDATE of the lease row reads the
            // latest committed row (a lease taken by another runner meanwhile shows) and keeps it locked until the commit,
            // so nobody takes the lease between this check and the commit.
            CompleteInTransaction =
                $"""
                UPDATE {lockTable} SET expires_at = {Expiry} WHERE lock_id = 1 AND owner_id = @owner;
                SELECT expires_at FROM {lockTable} WHERE lock_id = 1 AND owner_id = @owner FOR UPDATE;
                UPDATE {statusTable} SET {StatusTableSchema.Status} = '{Completed}', {StatusTableSchema.UpdatedAt} = {Now},
                    {StatusTableSchema.Name} = @name, {StatusTableSchema.AppliedBy} = @applied_by, {StatusTableSchema.BreaksOlderBuilds} = @breaks,
                    {StatusTableSchema.Checksum} = @checksum
                WHERE {StatusTableSchema.Order} = @order
                """;
            ReleaseSavepoint = "RELEASE SAVEPOINT " + Savepoint;
            RollbackToSavepoint = "ROLLBACK TO SAVEPOINT " + Savepoint;
        }

        public string FirstTryDbLock { get; }

        public string TryDbLock { get; }

        public string ReleaseDbLock { get; }

        public string Columns { get; }

        public string CreateLockTable { get; }

        public string CreateStatusTable { get; }

        public string AlterStatusTable { get; }

        public string TakeLease { get; }

        public string ExtendLease { get; }

        public string ReleaseLease { get; }

        public string ReadLease { get; }

        /// <summary>The lease row with the server's clock (operations).</summary>
        public string ReadLeaseWithClock { get; }

        public string DeleteLeaseOf { get; }

        public string List { get; }

        public string Persist { get; }

        public string PendingPrefix { get; }

        public string PendingSuffix { get; }

        /// <summary>One row of the PENDING statement; <c>{0}</c> is the row's index in its parameter names.</summary>
        public string PendingRow { get; }

        /// <summary>The fenced write of STARTED as the first statements of a migration's transaction (no lock on the lease row).</summary>
        public string WriteStarted { get; }

        /// <summary>The fenced write with the lease row read locked until the commit.</summary>
        public string WriteFencedLocked { get; }

        public string CompleteInTransaction { get; }

        public string ReleaseSavepoint { get; }

        public string RollbackToSavepoint { get; }

        public static string TypeName(StatusColumnKind kind) => kind == StatusColumnKind.Boolean ? "BOOLEAN NULL" : "TEXT NULL";
    }
}
