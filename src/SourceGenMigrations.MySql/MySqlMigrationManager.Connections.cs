using System.Data;
using System.Data.Common;
using MySqlConnector;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.MySql;

public sealed partial class MySqlMigrationManager
{
    // The manager's own statements (lease, statuses) run one at a time on one connection that it keeps from the end of
    // the database lock (whose connection it takes over) until it is disposed. Each open of a pooled MySqlConnector
    // connection after another was returned costs a round trip (the session is reset: COM_RESET_CONNECTION), as much as
    // the manager's statements cost on a start with nothing to do. Nothing of the manager's state lives in
    // that session between two statements (the lease is a row; the database lock is released before it is kept), so a
    // connection that failed is simply dropped and the next statement opens another.
    private readonly SemaphoreSlim _controlGate = new(1, 1);
    private MySqlConnection? _control;

    /// <summary>
    /// Opens a connection of the data source; a failure names the host, port and database (an unreachable server or a
    /// refused login otherwise leave the reader guessing which), never the password.
    /// </summary>
    private async ValueTask<MySqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            var target = new MySqlConnectionStringBuilder(_dataSource.ConnectionString);
            throw new MySqlConnectionFailedException(DatabaseNames.Name(e.Message, DatabaseNames.Server("MySQL", target.Database, target.Server, target.Port)), e);
        }
    }

    /// <summary>A connection could not be opened; the message names the database, the provider's error is inside.</summary>
    private sealed class MySqlConnectionFailedException(string message, MySqlException innerException) : DbException(message, innerException);

    /// <summary>Runs <paramref name="action"/> on the manager's connection, one at a time (the heartbeat runs beside the others).</summary>
    private async Task<T> OnControlAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        await _controlGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_control is not { State: ConnectionState.Open })
            {
                await DropControlAsync().ConfigureAwait(false);
                _control = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await action(_control, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // A failed or cancelled statement may leave the connection broken or mid-transaction: start afresh.
                await DropControlAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _controlGate.Release();
        }
    }

    /// <summary>Keeps <paramref name="connection"/> (the database lock's, the lock released) as the manager's connection, or closes it.</summary>
    private async Task KeepAsControlAsync(MySqlConnection connection)
    {
        await _controlGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_control is null && Volatile.Read(ref _disposed) == 0)
            {
                _control = connection;
                return;
            }
        }
        finally
        {
            _controlGate.Release();
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DropControlAsync()
    {
        if (_control is { } control)
        {
            _control = null;
            try
            {
                await control.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MySqlException or InvalidOperationException)
            {
                // A broken connection: its session is gone already.
            }
        }
    }

    /// <summary>Closes the manager's connection (disposal).</summary>
    private async Task EndControlAsync()
    {
        await _controlGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DropControlAsync().ConfigureAwait(false);
        }
        finally
        {
            _controlGate.Release();
        }
    }
}
