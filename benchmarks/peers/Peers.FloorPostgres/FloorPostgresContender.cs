using Npgsql;

namespace Peers.FloorPostgres;

/// <summary>
/// The floor on PostgreSQL: the statements PostgreSqlMigrationManager issues (advisory lock, schema check, the two
/// tables, lease upsert, status list, PENDING then STARTED / migration / COMPLETED for each, lease delete), with the
/// same table definitions and texts, issued directly on one pooled connection with a prepared status statement.
/// <see cref="RunCommitPerMigration"/> is the other floor, the one of the durable-commit case: one commit per migration.
/// </summary>
public static class FloorPostgresContender
{
    private const long AdvisoryLockKey = 7_000_000_000_001;

    private const string CreateSql =
        """
        CREATE TABLE IF NOT EXISTS "public"."migration_lock" (
            lock_id integer NOT NULL PRIMARY KEY CHECK (lock_id = 1),
            owner_id text NOT NULL,
            acquired_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS "public"."migration_status" (
            migration_order bigint NOT NULL PRIMARY KEY,
            status text NOT NULL,
            updated_at timestamptz NOT NULL
        );
        """;

    private const string AcquireSql =
        """
        INSERT INTO "public"."migration_lock" AS l (lock_id, owner_id, acquired_at, expires_at)
        VALUES (1, $1, clock_timestamp(), clock_timestamp() + $2)
        ON CONFLICT (lock_id) DO UPDATE SET
            owner_id = EXCLUDED.owner_id, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
        WHERE l.expires_at <= EXCLUDED.acquired_at OR l.owner_id = EXCLUDED.owner_id
        RETURNING l.expires_at
        """;

    private const string PersistSql =
        """
        INSERT INTO "public"."migration_status" (migration_order, status, updated_at) VALUES ($1, $2, clock_timestamp())
        ON CONFLICT (migration_order) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
        """;

    private const string JournalCreateSql =
        """
        CREATE TABLE IF NOT EXISTS "public"."migration_journal" (
            migration_order bigint NOT NULL PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL
        )
        """;

    private const string JournalInsertSql =
        """INSERT INTO "public"."migration_journal" (migration_order, name, applied_at) VALUES ($1, $2, clock_timestamp())""";

    /// <summary>
    /// The floor of the durable-commit case (issue 13): one commit per migration and nothing else per migration —
    /// <c>BEGIN; the migration's statement; INSERT its journal row; COMMIT</c> — on one connection, at the server's
    /// durability. Two round trips per migration: <c>BEGIN</c> with the statement (as Npgsql sends a transaction's
    /// <c>BEGIN</c> with its first command), then the journal row with <c>COMMIT</c>; the fewest a runner can make when
    /// the migration's own code issues its statement. No server-side prepared statement (transaction pooling cannot carry
    /// one). Before the migrations: the journal table (one commit) and the list of applied migrations.
    /// </summary>
    public static void RunCommitPerMigration(string connectionString, int count)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var create = new NpgsqlCommand(JournalCreateSql, connection))
        {
            create.ExecuteNonQuery();
        }

        bool[] applied;
        using (var list = new NpgsqlCommand("SELECT migration_order FROM \"public\".\"migration_journal\"", connection))
        using (var reader = list.ExecuteReader())
        {
            applied = Workload.AppliedMigrations(reader, count);
        }

        for (var i = 1; i <= count; i++)
        {
            if (applied[i])
            {
                continue;
            }

            using (var migrate = new NpgsqlBatch(connection))
            {
                migrate.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
                migrate.BatchCommands.Add(new NpgsqlBatchCommand(Workload.Statement(i)));
                migrate.ExecuteNonQuery();
            }

            using var record = new NpgsqlBatch(connection);
            var insert = new NpgsqlBatchCommand(JournalInsertSql);
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Workload.Name(i) });
            record.BatchCommands.Add(insert);
            record.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            record.ExecuteNonQuery();
        }
    }

    /// <summary>Applies migrations 1..<paramref name="count"/> not yet COMPLETED in the database of <paramref name="connectionString"/>.</summary>
    public static void Run(string connectionString, int count)
    {
        const string owner = "floor";
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();

        // Database lock, data stores.
        if (Scalar(connection, "SELECT pg_try_advisory_lock($1)", AdvisoryLockKey) is not true)
        {
            throw new InvalidOperationException("The advisory lock is held.");
        }

        Scalar(connection, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)", "public");
        using (var create = new NpgsqlCommand(CreateSql, connection))
        {
            create.ExecuteNonQuery();
        }

        Scalar(connection, "SELECT pg_advisory_unlock($1)", AdvisoryLockKey);

        // Migration lock (lease).
        using (var acquire = new NpgsqlCommand(AcquireSql, connection))
        {
            acquire.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
            acquire.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = TimeSpan.FromMinutes(1) });
            if (acquire.ExecuteScalar() is not DateTime)
            {
                throw new InvalidOperationException("The lease is held.");
            }
        }

        // Statuses.
        var completed = new bool[count + 1];
        using (var list = new NpgsqlCommand("SELECT migration_order, status FROM \"public\".\"migration_status\" ORDER BY migration_order", connection))
        using (var reader = list.ExecuteReader())
        {
            while (reader.Read())
            {
                var order = reader.GetInt64(0);
                if (order >= 1 && order <= count && reader.GetString(1) == "COMPLETED")
                {
                    completed[order] = true;
                }
            }
        }

        if (Array.IndexOf(completed, false, 1) >= 0)
        {
            using var persist = new NpgsqlCommand(PersistSql, connection);
            var orderParameter = new NpgsqlParameter<long>();
            var statusParameter = new NpgsqlParameter<string>();
            persist.Parameters.Add(orderParameter);
            persist.Parameters.Add(statusParameter);
            persist.Prepare();
            Workload.ApplyPending(
                completed,
                (order, status) =>
                {
                    orderParameter.TypedValue = order;
                    statusParameter.TypedValue = status;
                    persist.ExecuteNonQuery();
                },
                i =>
                {
                    using var migrate = new NpgsqlCommand(Workload.Statement(i), connection);
                    migrate.ExecuteNonQuery();
                });
        }

        Scalar(connection, "DELETE FROM \"public\".\"migration_lock\" WHERE lock_id = 1 AND owner_id = $1 RETURNING 1", owner);
    }

    private static object? Scalar<T>(NpgsqlConnection connection, string sql, T value)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return command.ExecuteScalar();
    }
}
