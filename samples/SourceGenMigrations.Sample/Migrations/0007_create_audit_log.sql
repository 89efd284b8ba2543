-- A SQL-file migration: found by the generator at build time (Migrations/*.sql), run on the connection the manager
-- serves, inside the migration's transaction. Portable SQL: it runs on SQLite, PostgreSQL and MySQL/MariaDB alike
-- (a file for one database only would be named 0007_create_audit_log.postgresql.sql, .sqlite.sql or .mysql.sql).
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT PRIMARY KEY,
    happened_at TEXT NOT NULL,
    message TEXT NOT NULL
);
