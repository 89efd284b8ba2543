using System.Globalization;
using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Internal;

/// <summary>The lease row as read: who holds it and until when.</summary>
/// <remarks>A class, as <see cref="LeaseAttempt"/>: a task of a struct of this assembly is code the JIT compiles on every start.</remarks>
internal sealed record LeaseHolder(string OwnerId, DateTimeOffset ExpiresAt);

/// <summary>One attempt to take the lease.</summary>
/// <param name="Taken">This runner holds the lease now (until <paramref name="Holder"/>'s expiry).</param>
/// <param name="Holder">The row after the attempt; null when there is none (possible only when <paramref name="Busy"/>).</param>
/// <param name="Busy">The database could not be written because another connection holds its write lock (SQLite):
/// that runner's migration is running, so the lease counts as held.</param>
internal sealed record LeaseAttempt(bool Taken, LeaseHolder? Holder, bool Busy = false);

/// <summary>The outcome of extending the lease.</summary>
internal enum LeaseExtension
{
    /// <summary>Extended: the row is ours with a new expiry.</summary>
    Extended,

    /// <summary>Not written because this runner's own migration transaction holds the database's write lock: nobody
    /// else can write the row either, and the migration's commit extends it.</summary>
    KeptByOwnTransaction,

    /// <summary>The row is gone or held by another owner.</summary>
    Lost,
}

/// <summary>
/// The database side of the migration lease, one implementation per manager (its dialect): each operation is one
/// atomic step that returns what it found, and assumes nothing of the SQL it runs (no <c>RETURNING</c> or
/// <c>ON CONFLICT … WHERE</c> needed: a dialect without them reads the row back in the same transaction).
/// </summary>
internal interface ILeaseStore
{
    /// <summary>Takes the lease when there is no row, when it expired, or when this owner holds it.</summary>
    Task<LeaseAttempt> TryTakeAsync(CancellationToken cancellationToken);

    /// <summary>Moves the expiry of this owner's row to the database's now plus the lease duration.</summary>
    /// <returns>The outcome, and the new expiry when <see cref="LeaseExtension.Extended"/>.</returns>
    Task<(LeaseExtension Outcome, DateTimeOffset ExpiresAt)> TryExtendAsync(CancellationToken cancellationToken);

    /// <summary>Deletes this owner's row; false when it was not ours (nothing deleted).</summary>
    Task<bool> TryReleaseAsync(CancellationToken cancellationToken);

    /// <summary>Reads the row; null when there is none.</summary>
    Task<LeaseHolder?> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The migration lease protocol every manager follows, written once: take or wait (polling, logging each new holder),
/// extend (an error once lost), release (an error when it was not ours), with the same log lines and messages on every
/// database. The SQL is the <see cref="ILeaseStore"/>'s.
/// </summary>
internal sealed class LeaseProtocol(ILeaseStore store, string table, OwnerIdentity owner, TimeSpan pollInterval, TimeProvider time, ILogger logger)
{
    /// <summary>The lease table as shown in logs and messages (schema-qualified where the database has schemas).</summary>
    public string Table => table;

    /// <summary>This runner's owner id.</summary>
    public string OwnerId => owner.Value;

    /// <summary>Takes the lease, waiting (polling) while another runner holds it, until taken or cancelled.</summary>
    /// <remarks>Completes synchronously when the store's first attempt does and takes the lease (a start with no other runner, on SQLite).</remarks>
    public Task AcquireAsync(CancellationToken cancellationToken)
    {
        Task<LeaseAttempt> first;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            first = store.TryTakeAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed(exception);
        }

        if (first.IsCompletedSuccessfully && first.Result.Taken)
        {
            LeaseLog.LeaseTaken(logger, table, OwnerId, first.Result.Holder?.ExpiresAt ?? default);
            return Task.CompletedTask;
        }

        return AcquireAsync(first, cancellationToken);
    }

    private async Task AcquireAsync(Task<LeaseAttempt> first, CancellationToken cancellationToken)
    {
        string? lastHolder = null;
        var loggedBusy = false;
        var attemptTask = first;
        while (true)
        {
            var attempt = await attemptTask.ConfigureAwait(false);
            if (attempt.Taken)
            {
                LeaseLog.LeaseTaken(logger, table, OwnerId, attempt.Holder?.ExpiresAt ?? default);
                return;
            }

            if (attempt.Holder is { } holder)
            {
                if (!string.Equals(holder.OwnerId, lastHolder, StringComparison.Ordinal))
                {
                    LeaseLog.WaitingForLease(logger, table, holder.OwnerId, holder.ExpiresAt, OwnerId, pollInterval);
                    lastHolder = holder.OwnerId;
                }
            }
            else if (attempt.Busy && !loggedBusy)
            {
                LeaseLog.WaitingForBusyDatabase(logger, table, OwnerId, pollInterval);
                loggedBusy = true;
            }

            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            attemptTask = store.TryTakeAsync(cancellationToken);
        }
    }

    /// <summary>Extends the lease.</summary>
    /// <exception cref="InvalidOperationException">The lease was lost; the message says who holds it now.</exception>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var (outcome, expiresAt) = await store.TryExtendAsync(cancellationToken).ConfigureAwait(false);
        switch (outcome)
        {
            case LeaseExtension.Extended:
                LeaseLog.LeaseExtended(logger, table, OwnerId, expiresAt);
                return;
            case LeaseExtension.KeptByOwnTransaction:
                LeaseLog.LeaseKeptByTransaction(logger, table, OwnerId);
                return;
        }

        var lost = await DescribeAsync(cancellationToken).ConfigureAwait(false);
        LeaseLog.LeaseLost(logger, table, OwnerId, lost);
        throw new InvalidOperationException(LostMessage(lost));
    }

    /// <summary>Releases the lease.</summary>
    /// <remarks>Completes synchronously when the store's release does and finds the lease ours (every run's end, on SQLite).</remarks>
    /// <exception cref="InvalidOperationException">The lease was no longer this runner's (nothing was deleted).</exception>
    public Task ReleaseAsync(CancellationToken cancellationToken)
    {
        Task<bool> released;
        try
        {
            released = store.TryReleaseAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed(exception);
        }

        if (released.IsCompletedSuccessfully && released.Result)
        {
            LeaseLog.LeaseReleased(logger, table, OwnerId);
            return Task.CompletedTask;
        }

        return ReleaseAsync(released, cancellationToken);
    }

    private async Task ReleaseAsync(Task<bool> released, CancellationToken cancellationToken)
    {
        if (await released.ConfigureAwait(false))
        {
            LeaseLog.LeaseReleased(logger, table, OwnerId);
            return;
        }

        var lost = await DescribeAsync(cancellationToken).ConfigureAwait(false);
        LeaseLog.LeaseLost(logger, table, OwnerId, lost);
        throw new InvalidOperationException(
            $"The migration lease in table {table} could not be released: this runner ({OwnerId}) no longer holds it ({lost}).");
    }

    /// <summary>The message of a lost lease, for the heartbeat and for a unit of work that finds it lost at its commit.</summary>
    public string LostMessage(string lost) =>
        $"The migration lease in table {table} was lost: this runner ({OwnerId}) no longer holds it ({lost}). Another runner may be migrating; this run must stop.";

    /// <summary>Says who holds the lease now, for an error message.</summary>
    public async Task<string> DescribeAsync(CancellationToken cancellationToken) =>
        Describe(await store.ReadAsync(cancellationToken).ConfigureAwait(false));

    public static string Describe(LeaseHolder? holder) => holder is { } h
        ? string.Create(CultureInfo.InvariantCulture, $"it is held by {h.OwnerId} until {h.ExpiresAt:O}")
        : "there is no lease row";
}
