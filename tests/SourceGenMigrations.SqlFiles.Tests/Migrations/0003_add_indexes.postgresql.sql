-- migration: no-transaction
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block, nor in a multi-statement command (one implicit
-- transaction): the file is split into its statements, each run on its own.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_id_email ON users (id, email);
