using Microsoft.Data.Sqlite;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.Sqlite;

public sealed partial class SqliteMigrationManager
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    // Serialise the manager's own statements on each connection (a runner's heartbeat runs concurrently with its
    // status writes; a status command may run beside a migration runner on the same manager). A unit of work holds the
    // data gate from its begin to its end: the migration owns the data connection meanwhile.
    private readonly SemaphoreSlim _leaseGate = new(1, 1);
    private readonly SemaphoreSlim _dataGate = new(1, 1);
    private readonly object _dataConnectionSync = new();
    private SqliteConnection? _leaseConnection;
    private SqliteConnection? _dataConnection;
    private DataCommands? _dataCommands;
    private SqliteCommand? _heartbeatCommand;
    private bool _holdsDbLock;
    private bool _migrationMayRun;
    private bool _migrationTransactionOpen;
    private int _connectionsOpened;
    private bool _disposed;

    /// <summary>How many connections this manager opened (tests: a run that beats no heartbeat opens one).</summary>
    internal int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    /// <summary>Closes the manager's connections (rolling back a database lock or a unit of work still open). Does not release the lease.</summary>
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return default;
        }

        // The usual end of a run: the data connection alone, no transaction left on it. Closing it is synchronous work.
        SqliteConnection? data;
        lock (_dataConnectionSync)
        {
            data = _dataConnection;
        }

        if (_leaseConnection is not null || _heartbeatCommand is not null || _holdsDbLock || (data is not null && !IsAutocommit(data)))
        {
            return DisposeCoreAsync();
        }

        try
        {
            _disposed = true;
            lock (_dataConnectionSync)
            {
                data = _dataConnection;
                _dataConnection = null;
            }

            if (data is not null)
            {
                DisposeDataCommands();
                data.Dispose();
            }

            _leaseGate.Dispose();
            _dataGate.Dispose();
            return default;
        }
        catch (Exception exception)
        {
            return new ValueTask(CompletedTasks.Failed(exception));
        }
    }

    private async ValueTask DisposeCoreAsync()
    {

        _disposed = true;
        _heartbeatCommand?.Dispose();
        if (_leaseConnection is { } lease)
        {
            _leaseConnection = null;
            await lease.DisposeAsync().ConfigureAwait(false);
        }

        SqliteConnection? data;
        lock (_dataConnectionSync)
        {
            data = _dataConnection;
            _dataConnection = null;
        }

        if (data is not null)
        {
            DisposeDataCommands();

            // A database lock still held, or a transaction a migration left open, must not go back to the pool.
            if (_holdsDbLock || !IsAutocommit(data))
            {
                _holdsDbLock = false;
                await EndTransactionOrDropConnectionAsync(data).ConfigureAwait(false);
            }

            await data.DisposeAsync().ConfigureAwait(false);
        }

        _leaseGate.Dispose();
        _dataGate.Dispose();
    }

    /// <summary>Closes the manager's connections (see <see cref="DisposeAsync"/>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The data connection, opened on first use (opening a SQLite file is synchronous work either way).</summary>
    private SqliteConnection GetDataConnection()
    {
        lock (_dataConnectionSync)
        {
            ThrowIfDisposed();
            return _dataConnection ??= Open();
        }
    }

    /// <summary>The data connection's prepared commands (prepared once: every start and every migration runs them).</summary>
    private DataCommands Commands(SqliteConnection connection) => _dataCommands ??= new DataCommands(connection, _sql, _owner);

    private SqliteConnection GetLeaseConnection(CancellationToken cancellationToken)
    {
        if (_leaseConnection is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _leaseConnection = Open();
        }

        return _leaseConnection;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Interlocked.Increment(ref _connectionsOpened);

            // A file this process cannot write opens read-only without an error; its first read would then create the
            // -wal and -shm files beside it (a writable directory), which a read-only connection cannot remove when it
            // closes. A run writes statuses and the lease, so it fails here, before anything touched the directory.
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
            {
                throw new SqliteException(
                    "SQLite Error 8: 'attempt to write a readonly database'. The file (or its directory) is read-only for this process; a run writes the statuses and the lease.",
                    SqliteReadOnly);
            }

            if (_openPragmas is not null)
            {
                using var command = connection.CreateCommand();
                command.CommandText = _openPragmas;
                command.ExecuteNonQuery();
            }

            return connection;
        }
        catch (SqliteException e)
        {
            // The same error (codes kept for the callers' filters), naming the file.
            connection.Dispose();
            throw new SqliteException(DatabaseNames.Name(e.Message, _databaseName), e.SqliteErrorCode, e.SqliteExtendedErrorCode);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Prepared commands belong to the data connection: they go when it goes.
    private void DisposeDataCommands()
    {
        _dataCommands?.Dispose();
        _dataCommands = null;
    }

    /// <summary>
    /// Runs <c>BEGIN IMMEDIATE</c> on <paramref name="connection"/>, retrying while another connection writes, until it
    /// succeeds or <paramref name="cancellationToken"/> is cancelled. The first attempt is synchronous: a start that finds
    /// the database free (almost every one) runs no state machine.
    /// </summary>
    private Task BeginImmediateAsync(SqliteConnection connection, CancellationToken cancellationToken, Action? onFirstWait = null)
    {
        var command = Commands(connection).BeginImmediate;
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            command.ExecuteNonQuery();
            return Task.CompletedTask;
        }
        catch (SqliteException e) when (IsBusy(e))
        {
            onFirstWait?.Invoke();
            return RetryBeginImmediateAsync(command, cancellationToken);
        }
    }

    private async Task RetryBeginImmediateAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(BusyRetryDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
            try
            {
                command.ExecuteNonQuery();
                return;
            }
            catch (SqliteException e) when (IsBusy(e))
            {
                // Still written by another connection: wait again.
            }
        }
    }

    /// <summary>How long to wait before trying a busy write again (on top of Microsoft.Data.Sqlite's own one-second retry).</summary>
    private TimeSpan BusyRetryDelay => _pollInterval < TimeSpan.FromMilliseconds(50) ? _pollInterval : TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Ends a transaction left on <paramref name="connection"/>: a rollback, or when that fails, closing the connection
    /// and clearing its pool so that no pool hands out a connection still inside the transaction.
    /// </summary>
    private async Task EndTransactionOrDropConnectionAsync(SqliteConnection connection)
    {
        try
        {
            if (!IsAutocommit(connection))
            {
                await ExecuteAsync(connection, "ROLLBACK;", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (SqliteException)
        {
            DisposeDataCommands();
            lock (_dataConnectionSync)
            {
                if (ReferenceEquals(_dataConnection, connection))
                {
                    _dataConnection = null;
                }
            }

            SqliteConnection.ClearPool(connection);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A transaction a (non-transactional) migration left open on the served connection holds SQLite's write lock (the
    /// heartbeat and the lease release would wait behind it) and would swallow the status: it is rolled back, and the
    /// step fails.
    /// </summary>
    private Task ThrowIfTransactionOpenAsync(SqliteConnection connection, string action) =>
        IsAutocommit(connection) ? Task.CompletedTask : RollBackAndThrowAsync(connection, action);

    private async Task RollBackAndThrowAsync(SqliteConnection connection, string action)
    {
        await EndTransactionOrDropConnectionAsync(connection).ConfigureAwait(false);
        throw new InvalidOperationException(
            $"Cannot {action}: a transaction was still open on the SqliteConnection that {nameof(SqliteMigrationManager)} serves to migrations ({_dataSourceName}); it was rolled back. A migration must commit or roll back every transaction it begins.");
    }

    // sqlite3_get_autocommit is 0 inside an explicit transaction (BEGIN ... without COMMIT or ROLLBACK).
    private static bool IsAutocommit(SqliteConnection connection) =>
        connection.Handle is null || SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0;

    // Microsoft.Data.Sqlite runs its async methods synchronously anyway: the synchronous call skips two state machines.
    private static Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    private static bool IsBusy(SqliteException e) => e.SqliteErrorCode is SqliteBusy or SqliteLocked;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// The prepared commands of the data connection, each prepared on first use (a statement cannot be prepared before
    /// its table exists) and kept while the connection lives.
    /// </summary>
    private sealed class DataCommands(SqliteConnection connection, Statements sql, OwnerIdentity owner) : IDisposable
    {
        private readonly List<SqliteCommand> _prepared = [];
        private SqliteCommand? _beginImmediate;
        private SqliteCommand? _commit;
        private SqliteCommand? _beginCheck;
        private SqliteCommand? _list;
        private SqliteCommand? _persist;
        private SqliteCommand? _pending;
        private SqliteCommand? _writeFenced;
        private SqliteCommand? _completeInTransaction;
        private SqliteCommand? _extend;

        /// <summary>With a one-second busy timeout: the caller retries, honouring its token (Microsoft.Data.Sqlite's own retry does not).</summary>
        public SqliteCommand BeginImmediate => _beginImmediate ??= Prepare("BEGIN IMMEDIATE;", 1);

        public SqliteCommand Commit => _commit ??= Prepare("COMMIT;");

        /// <summary><c>$order</c> (owner bound): the migration's status (null without a row), and the milliseconds left on the lease when it is this owner's (null when not).</summary>
        public SqliteCommand BeginCheck => _beginCheck ??= Prepare(sql.BeginCheck, ("$order", SqliteType.Integer, null), ("$owner", SqliteType.Text, owner.Value));

        public SqliteCommand List => _list ??= Prepare(sql.List);

        /// <summary><c>$order</c>, <c>$status</c> (owner bound).</summary>
        public SqliteCommand Persist => _persist ??= Prepare(sql.Persist, ("$order", SqliteType.Integer, null), ("$status", SqliteType.Text, null), ("$owner", SqliteType.Text, owner.Value));

        /// <summary><c>$order</c>, <c>$name</c>, <c>$applied_by</c>.</summary>
        public SqliteCommand Pending => _pending ??= Prepare(sql.Pending, ("$order", SqliteType.Integer, null), ("$name", SqliteType.Text, null), ("$applied_by", SqliteType.Text, null));

        /// <summary><c>$order</c>, <c>$name</c>, <c>$breaks</c>, <c>$applied_by</c>, <c>$checksum</c>.</summary>
        public SqliteCommand CompleteInTransaction => _completeInTransaction ??= Prepare(sql.CompleteInTransaction, ("$order", SqliteType.Integer, null), ("$name", SqliteType.Text, null), ("$breaks", SqliteType.Integer, null), ("$applied_by", SqliteType.Text, null), ("$checksum", SqliteType.Text, null));

        /// <summary><c>$order</c>, <c>$status</c>, <c>$name</c>, <c>$breaks</c>, <c>$applied_by</c>, <c>$checksum</c> (owner bound).</summary>
        public SqliteCommand WriteFenced => _writeFenced ??= Prepare(sql.WriteFenced, ("$order", SqliteType.Integer, null), ("$status", SqliteType.Text, null), ("$name", SqliteType.Text, null), ("$owner", SqliteType.Text, owner.Value), ("$breaks", SqliteType.Integer, null), ("$applied_by", SqliteType.Text, null), ("$checksum", SqliteType.Text, null));

        /// <summary>Extends this owner's lease; returns the new expiry, or null when the row is not ours.</summary>
        public SqliteCommand Extend => _extend ??= Prepare(sql.Extend, ("$owner", SqliteType.Text, owner.Value), ("$lease_ms", SqliteType.Integer, sql.LeaseMilliseconds));

        public void Dispose()
        {
            foreach (var command in _prepared)
            {
                command.Dispose();
            }

            _prepared.Clear();
        }

        private SqliteCommand Prepare(string text, params (string Name, SqliteType Type, object? Value)[] parameters)
        {
            var command = Create(text);
            foreach (var (name, type, value) in parameters)
            {
                command.Parameters.Add(name, type).Value = value;
            }

            return Prepared(command);
        }

        // The commands without parameters take no array and no optional timeout: what a start with nothing to do
        // prepares compiles no generic code over them (issue 14).
        private SqliteCommand Prepare(string text) => Prepared(Create(text));

        private SqliteCommand Prepare(string text, int timeoutSeconds)
        {
            var command = Create(text);
            command.CommandTimeout = timeoutSeconds;
            return Prepared(command);
        }

        private SqliteCommand Create(string text)
        {
            var command = connection.CreateCommand();
            command.CommandText = text;
            return command;
        }

        private SqliteCommand Prepared(SqliteCommand command)
        {
            command.Prepare();
            _prepared.Add(command);
            return command;
        }
    }
}
