using Microsoft.Data.Sqlite;

namespace Peers.Floor;

/// <summary>
/// The floor: exactly the SQL a SourceGenMigrations run on SQLite issues (database lock with BEGIN IMMEDIATE, the two
/// tables, the lease upsert, the status list (one value, as the manager reads it), PENDING for all then STARTED / migration / COMPLETED for each, the lease
/// delete), each status write its own autocommit statement as the run semantics require, issued directly on one
/// connection with prepared commands. Same table definitions and statement texts as SqliteMigrationManager.
/// <see cref="RunCommitPerMigration"/> is the other floor, the one of the durable-commit cases: one commit per migration.
/// </summary>
public static class FloorContender
{
    private const string NowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";

    private const string CreateSql =
        """
        CREATE TABLE IF NOT EXISTS "migration_lock" (
            lock_id INTEGER NOT NULL PRIMARY KEY CHECK (lock_id = 1),
            owner_id TEXT NOT NULL,
            acquired_at_ms INTEGER NOT NULL,
            expires_at_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS "migration_status" (
            migration_order INTEGER NOT NULL PRIMARY KEY,
            status TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;

    private const string AcquireSql =
        $"""
        INSERT INTO "migration_lock" (lock_id, owner_id, acquired_at_ms, expires_at_ms)
        VALUES (1, $owner, {NowMs}, {NowMs} + $lease_ms)
        ON CONFLICT (lock_id) DO UPDATE SET
            owner_id = excluded.owner_id, acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
        WHERE "migration_lock".expires_at_ms <= excluded.acquired_at_ms OR "migration_lock".owner_id = excluded.owner_id
        RETURNING expires_at_ms;
        """;

    // SqliteMigrationManager lists the statuses as one value (see CompactStatusList): so does the floor.
    private const string ListSql =
        """
        SELECT group_concat(
            ifnull(migration_order, '?') ||
            CASE status
                WHEN 'COMPLETED' THEN 'c'
                WHEN 'STARTED' THEN 's'
                WHEN 'FAILED' THEN 'f'
                WHEN 'PENDING' THEN 'p'
                ELSE '?'
            END, ',')
        FROM "migration_status";
        """;

    private const string PersistSql =
        """
        INSERT INTO "migration_status" (migration_order, status, updated_at)
        VALUES ($order, $status, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT (migration_order) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at;
        """;

    private const string ReleaseSql = "DELETE FROM \"migration_lock\" WHERE lock_id = 1 AND owner_id = $owner;";

    // The floor of the durable-commit cases: a journal of applied migrations, one row each (as FluentMigrator's
    // VersionInfo and DbUp's SchemaVersions), written in the migration's own transaction.
    private const string JournalCreateSql =
        """
        CREATE TABLE IF NOT EXISTS "migration_journal" (
            migration_order INTEGER NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );
        """;

    private const string JournalInsertSql =
        """
        INSERT INTO "migration_journal" (migration_order, name, applied_at)
        VALUES ($order, $name, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        """;

    /// <summary>Applies migrations 1..<paramref name="count"/> not yet COMPLETED in <paramref name="file"/>.</summary>
    public static void Run(string file, int count, bool writeAheadLog = true)
    {
        const string owner = "floor";
        using var connection = new SqliteConnection(Workload.ConnectionString(file));
        connection.Open();
        if (writeAheadLog)
        {
            Execute(connection, "PRAGMA journal_mode=WAL;");
            Execute(connection, "PRAGMA synchronous=NORMAL;");
        }

        // Database lock, data stores.
        Execute(connection, "BEGIN IMMEDIATE;");
        Execute(connection, CreateSql);
        Execute(connection, "COMMIT;");

        // Migration lock (lease).
        using (var acquire = connection.CreateCommand())
        {
            acquire.CommandText = AcquireSql;
            acquire.Parameters.AddWithValue("$owner", owner);
            acquire.Parameters.AddWithValue("$lease_ms", 60_000L);
            if (acquire.ExecuteScalar() is not long)
            {
                throw new InvalidOperationException("The lease is held.");
            }
        }

        // Statuses.
        var completed = new bool[count + 1];
        using (var list = connection.CreateCommand())
        {
            list.CommandText = ListSql;
            var text = list.ExecuteScalar() as string;
            foreach (var range in text.AsSpan().Split(','))
            {
                var entry = text.AsSpan(range);
                if (entry.Length > 1 && entry[^1] == 'c' && int.TryParse(entry[..^1], out var order) && order >= 1 && order <= count)
                {
                    completed[order] = true;
                }
            }
        }

        if (Array.IndexOf(completed, false, 1) >= 0)
        {
            using var persist = connection.CreateCommand();
            persist.CommandText = PersistSql;
            var orderParameter = persist.Parameters.Add("$order", SqliteType.Integer);
            var statusParameter = persist.Parameters.Add("$status", SqliteType.Text);
            persist.Prepare();
            using var migrate = connection.CreateCommand();
            Workload.ApplyPending(
                completed,
                (order, status) =>
                {
                    orderParameter.Value = order;
                    statusParameter.Value = status;
                    persist.ExecuteNonQuery();
                },
                i =>
                {
                    migrate.CommandText = Workload.Statement(i);
                    migrate.ExecuteNonQuery();
                });
        }

        using (var release = connection.CreateCommand())
        {
            release.CommandText = ReleaseSql;
            release.Parameters.AddWithValue("$owner", owner);
            release.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The floor of the durable-commit cases (issue 13): one commit per migration and nothing else per migration —
    /// <c>BEGIN; the migration's statement; INSERT its journal row; COMMIT</c> — on one connection with
    /// <c>synchronous=FULL</c>, in the journal mode given (rollback journal <c>DELETE</c>, or WAL). Before the
    /// migrations: the journal table (one commit) and the list of applied migrations. No lock, no lease, no statuses.
    /// </summary>
    public static void RunCommitPerMigration(string file, int count, bool writeAheadLog)
    {
        using var connection = new SqliteConnection(Workload.ConnectionString(file));
        connection.Open();
        Execute(connection, (writeAheadLog ? "PRAGMA journal_mode=WAL;" : "PRAGMA journal_mode=DELETE;") + " PRAGMA synchronous=FULL;");
        Execute(connection, JournalCreateSql);

        bool[] applied;
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT migration_order FROM \"migration_journal\";";
            using var reader = list.ExecuteReader();
            applied = Workload.AppliedMigrations(reader, count);
        }

        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN;";
        using var commit = connection.CreateCommand();
        commit.CommandText = "COMMIT;";
        using var migrate = connection.CreateCommand();
        using var record = connection.CreateCommand();
        record.CommandText = JournalInsertSql;
        var orderParameter = record.Parameters.Add("$order", SqliteType.Integer);
        var nameParameter = record.Parameters.Add("$name", SqliteType.Text);
        record.Prepare();
        for (var i = 1; i <= count; i++)
        {
            if (applied[i])
            {
                continue;
            }

            begin.ExecuteNonQuery();
            migrate.CommandText = Workload.Statement(i);
            migrate.ExecuteNonQuery();
            orderParameter.Value = i;
            nameParameter.Value = Workload.Name(i);
            record.ExecuteNonQuery();
            commit.ExecuteNonQuery();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
