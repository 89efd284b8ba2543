using MySqlConnector;

namespace Peers.FloorMySql;

/// <summary>
/// The floor on MySQL/MariaDB: the statements MySqlMigrationManager issues (GET_LOCK, the information_schema read and
/// the two tables when missing, RELEASE_LOCK, the lease taken in one short transaction and read back, the status list,
/// PENDING in one statement, then STARTED / migration / COMPLETED for each, the lease deleted), with the same table
/// definitions and texts, issued directly on one connection, every status write an autocommit statement of its own (the
/// workload's DDL commits implicitly anyway, so no transaction could hold a migration and its status together).
/// </summary>
public static class FloorMySqlContender
{
    private const string LockName = "sgm:floor";

    private const string ColumnsSql =
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('migration_lock', 'migration_status')";

    private const string CreateSql =
        """
        CREATE TABLE IF NOT EXISTS `migration_lock` (
            lock_id INT NOT NULL PRIMARY KEY,
            owner_id VARCHAR(200) NOT NULL,
            acquired_at DATETIME(6) NOT NULL,
            expires_at DATETIME(6) NOT NULL,
            CONSTRAINT `migration_lock_single_row` CHECK (lock_id = 1)
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
        CREATE TABLE IF NOT EXISTS `migration_status` (
            migration_order BIGINT NOT NULL PRIMARY KEY,
            status VARCHAR(32) NOT NULL,
            updated_at DATETIME(6) NOT NULL,
            name TEXT NULL,
            applied_by TEXT NULL,
            breaks_older_builds BOOLEAN NULL,
            checksum TEXT NULL
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
        """;

    private const string AcquireSql =
        """
        START TRANSACTION;
        INSERT INTO `migration_lock` (lock_id, owner_id, acquired_at, expires_at) VALUES (1, @owner, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 60 SECOND)
        ON DUPLICATE KEY UPDATE
            owner_id = IF(expires_at <= UTC_TIMESTAMP(6) OR owner_id = @owner, @owner, owner_id),
            acquired_at = IF(owner_id = @owner, UTC_TIMESTAMP(6), acquired_at),
            expires_at = IF(owner_id = @owner, UTC_TIMESTAMP(6) + INTERVAL 60 SECOND, expires_at);
        SELECT owner_id FROM `migration_lock` WHERE lock_id = 1;
        COMMIT
        """;

    private const string PersistSql =
        """
        INSERT INTO `migration_status` (migration_order, status, updated_at) VALUES (@order, @status, UTC_TIMESTAMP(6))
        ON DUPLICATE KEY UPDATE status = @status, updated_at = UTC_TIMESTAMP(6)
        """;

    /// <summary>Applies migrations 1..<paramref name="count"/> not yet COMPLETED in the database of <paramref name="connectionString"/>.</summary>
    public static void Run(string connectionString, int count)
    {
        const string owner = "floor";
        using var connection = new MySqlConnection(connectionString);
        connection.Open();

        // Database lock, data stores.
        if (Convert.ToInt64(Scalar(connection, $"SELECT GET_LOCK('{LockName}', 0)"), System.Globalization.CultureInfo.InvariantCulture) != 1)
        {
            throw new InvalidOperationException("The database lock is held.");
        }

        var columns = 0;
        using (var read = new MySqlCommand(ColumnsSql, connection))
        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                columns++;
            }
        }

        if (columns == 0)
        {
            using var create = new MySqlCommand(CreateSql, connection);
            create.ExecuteNonQuery();
        }

        Scalar(connection, $"SELECT RELEASE_LOCK('{LockName}')");

        // Migration lock (lease).
        using (var acquire = new MySqlCommand(AcquireSql, connection))
        {
            acquire.Parameters.AddWithValue("@owner", owner);
            if (acquire.ExecuteScalar() as string != owner)
            {
                throw new InvalidOperationException("The lease is held.");
            }
        }

        // Statuses.
        var completed = new bool[count + 1];
        using (var list = new MySqlCommand("SELECT migration_order, status FROM `migration_status` ORDER BY migration_order", connection))
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
            // PENDING for every migration to run in one multi-row statement (one commit), as the manager writes it; then
            // for each STARTED, the migration, COMPLETED, every write its own autocommit statement.
            var pending = new System.Text.StringBuilder("INSERT INTO `migration_status` (migration_order, status, updated_at) VALUES ");
            for (var i = 1; i <= count; i++)
            {
                if (!completed[i])
                {
                    pending.Append(System.Globalization.CultureInfo.InvariantCulture, $"({i}, 'PENDING', UTC_TIMESTAMP(6)),");
                }
            }

            pending.Length--;
            pending.Append(" ON DUPLICATE KEY UPDATE status = VALUES(status), updated_at = VALUES(updated_at)");
            using (var writePending = new MySqlCommand(pending.ToString(), connection))
            {
                writePending.ExecuteNonQuery();
            }

            using var persist = new MySqlCommand(PersistSql, connection);
            var orderParameter = persist.Parameters.Add("@order", MySqlDbType.Int64);
            var statusParameter = persist.Parameters.Add("@status", MySqlDbType.VarChar);
            for (var i = 1; i <= count; i++)
            {
                if (completed[i])
                {
                    continue;
                }

                orderParameter.Value = i;
                statusParameter.Value = "STARTED";
                persist.ExecuteNonQuery();
                using (var migrate = new MySqlCommand(Workload.Statement(i), connection))
                {
                    migrate.ExecuteNonQuery();
                }

                statusParameter.Value = "COMPLETED";
                persist.ExecuteNonQuery();
            }
        }

        using var release = new MySqlCommand("DELETE FROM `migration_lock` WHERE lock_id = 1 AND owner_id = @owner", connection);
        release.Parameters.AddWithValue("@owner", owner);
        release.ExecuteNonQuery();
    }

    private static object? Scalar(MySqlConnection connection, string sql)
    {
        using var command = new MySqlCommand(sql, connection);
        return command.ExecuteScalar();
    }
}
