using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Internal;

/// <summary>What a fenced status write found.</summary>
internal enum StatusWriteOutcome
{
    /// <summary>Written.</summary>
    Written,

    /// <summary>Not written: the migration is COMPLETED already (another runner completed it).</summary>
    CompletedAlready,

    /// <summary>Not written: this runner no longer holds the migration lease.</summary>
    LeaseLost,
}

/// <summary>
/// The database side of one migration's unit of work, one implementation per manager (its dialect: SQL, connections,
/// how its provider reports misuse). Every status write is fenced: STARTED only when the migration is not COMPLETED,
/// COMPLETED and FAILED only while this runner holds the lease.
/// </summary>
internal abstract class UnitOfWorkSession : IAsyncDisposable
{
    protected UnitOfWorkSession(MigrationDescriptor migration, LeaseProtocol lease)
    {
        Migration = migration;
        Lease = lease;
    }

    /// <summary>The manager's lease, which fences every status write of the unit.</summary>
    protected LeaseProtocol Lease { get; }

    public MigrationDescriptor Migration { get; }

    /// <summary>
    /// Transactional: begins the transaction on the connection served to the migration and checks, in it, that the
    /// migration is not COMPLETED and the lease is ours (MySQL writes STARTED there and marks a savepoint for
    /// <see cref="FailAsync"/>; SQLite and PostgreSQL only read). Otherwise: writes STARTED in a commit of its own.
    /// </summary>
    public abstract Task<StatusWriteOutcome> BeginAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes COMPLETED (and extends the lease) only while the lease is ours; transactional: in the migration's
    /// transaction, then commits it (a failing commit throws, and nothing of the migration is kept).
    /// </summary>
    public abstract Task<StatusWriteOutcome> CompleteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Transactional: rolls back the migration's statements (to the savepoint, or the whole transaction; a transaction the
    /// migration ended is replaced by a new one) and writes FAILED. Otherwise: writes FAILED in a commit of its own.
    /// </summary>
    public abstract Task<StatusWriteOutcome> FailAsync(CancellationToken cancellationToken);

    /// <summary>Whether the transaction begun by <see cref="BeginAsync"/> is still open (the migration did not end it).</summary>
    public abstract bool IsTransactionOpen { get; }

    /// <summary>
    /// Whether the database ended the transaction begun by <see cref="BeginAsync"/> by itself while the migration ran, as
    /// MySQL and MariaDB do at DDL (an implicit commit): the migration's statements are committed already, so they and its
    /// COMPLETED status cannot commit together, and the unit must not say they did. Asked of a transactional migration
    /// whose transaction <see cref="IsTransactionOpen"/> still reports open (its provider saw nothing end it): before
    /// <see cref="CompleteAsync"/>, which must then write COMPLETED (fenced) in a commit of its own, and when the unit is
    /// disposed unfinished. Never throws: a database that cannot answer counts as not having ended it.
    /// </summary>
    /// <remarks>The default, false, is SQLite's and PostgreSQL's: they end a transaction only when told to.</remarks>
    public virtual ValueTask<bool> EndedImplicitlyAsync(CancellationToken cancellationToken) => new(false);

    /// <summary>Whether <paramref name="failure"/> is the provider's error for beginning a transaction inside one.</summary>
    public bool IsNestedTransactionError(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (IsNestedTransactionException(e))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="exception"/> itself (not its causes) is the provider's refusal of a nested transaction.</summary>
    protected abstract bool IsNestedTransactionException(Exception exception);

    /// <summary>Says who holds the lease now, for a message.</summary>
    public virtual Task<string> DescribeLeaseAsync(CancellationToken cancellationToken) => Lease.DescribeAsync(cancellationToken);

    /// <summary>The message of a lost lease.</summary>
    public string LeaseLostMessage(string lost) => Lease.LostMessage(lost);

    /// <summary>Rolls back a transaction still open and frees the connection. Never throws.</summary>
    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// The <see cref="MigrationUnitOfWork"/> of every shipped manager, written once over a <see cref="UnitOfWorkSession"/>:
/// what each outcome means, the errors and their words, the state of the unit.
/// </summary>
internal sealed partial class ManagedUnitOfWork : MigrationUnitOfWork
{
    private readonly UnitOfWorkSession _session;
    private readonly ILogger _logger;
    private bool _ended;

    private ManagedUnitOfWork(UnitOfWorkSession session, ILogger logger)
        : base(session.Migration)
    {
        _session = session;
        _logger = logger;
    }

    /// <summary>Begins <paramref name="session"/>'s migration; null when it is COMPLETED already. Disposes the session on any other end.</summary>
    /// <exception cref="InvalidOperationException">The lease was lost: nothing was written.</exception>
    public static async Task<MigrationUnitOfWork?> BeginAsync(UnitOfWorkSession session, ILogger logger, CancellationToken cancellationToken)
    {
        StatusWriteOutcome outcome;
        try
        {
            outcome = await session.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (outcome == StatusWriteOutcome.LeaseLost)
            {
                var lost = await session.DescribeLeaseAsync(cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException(session.LeaseLostMessage(lost));
            }
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (outcome == StatusWriteOutcome.CompletedAlready)
        {
            Log.CompletedAlready(logger, session.Migration.Order, session.Migration.Name);
            await session.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        return new ManagedUnitOfWork(session, logger);
    }

    public override async Task CompleteAsync(CancellationToken cancellationToken)
    {
        ThrowIfEnded();
        var endedImplicitly = false;
        if (Migration.Transactional)
        {
            if (!_session.IsTransactionOpen)
            {
                throw new TransactionMisuseException(EndedMessage(Migration), innerException: null);
            }

            endedImplicitly = await _session.EndedImplicitlyAsync(cancellationToken).ConfigureAwait(false);
        }

        var outcome = await _session.CompleteAsync(cancellationToken).ConfigureAwait(false);
        if (outcome == StatusWriteOutcome.CompletedAlready)
        {
            // A manager that checks only at the end (PostgreSQL reads the status when the transaction begins, but nothing
            // locks it until COMPLETED is written): another runner completed it meanwhile, so this one's lease had lapsed.
            throw new InvalidOperationException(
                $"The {Migration} is COMPLETED already: another runner completed it while this one ran it, so this runner's lease was lost. The migration's statements were rolled back.");
        }

        if (outcome == StatusWriteOutcome.LeaseLost)
        {
            var lost = await _session.DescribeLeaseAsync(cancellationToken).ConfigureAwait(false);
            var statements = !Migration.Transactional ? ""
                : endedImplicitly ? " The database had committed the migration's statements implicitly (DDL): they stay, and it runs again next time."
                : " The migration's statements were rolled back.";
            throw new InvalidOperationException(_session.LeaseLostMessage(lost) + statements);
        }

        _ended = true;
    }

    public override async Task FailAsync(Exception failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ThrowIfEnded();
        _ended = true;
        var outcome = await _session.FailAsync(cancellationToken).ConfigureAwait(false);
        if (outcome == StatusWriteOutcome.LeaseLost)
        {
            var lost = await _session.DescribeLeaseAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException(_session.LeaseLostMessage(lost) + " FAILED was not written.");
        }
    }

    public override Exception DescribeFailure(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (!Migration.Transactional || failure is TransactionMisuseException)
        {
            return failure;
        }

        if (_session.IsNestedTransactionError(failure))
        {
            return new TransactionMisuseException(BeganOwnMessage(Migration), failure);
        }

        return _session.IsTransactionOpen ? failure : new TransactionMisuseException(EndedMessage(Migration), failure);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_ended)
        {
            var outcome = !Migration.Transactional ? StaysStartedText
                : await _session.EndedImplicitlyAsync(CancellationToken.None).ConfigureAwait(false) ? CommittedImplicitlyText
                : RolledBackText;
            Log.EndedWithoutCompleting(_logger, Migration.Order, Migration.Name, outcome);
        }

        _ended = true;
        await _session.DisposeAsync().ConfigureAwait(false);
    }

    private const string RolledBackText = "its transaction was rolled back, nothing of it was kept, and it runs again next time";
    private const string StaysStartedText = "it stays STARTED and runs again next time";
    private const string CommittedImplicitlyText = "the database had committed its statements implicitly (DDL), so they stay; it stays STARTED and runs again next time";

    private void ThrowIfEnded()
    {
        if (_ended)
        {
            throw new InvalidOperationException($"The unit of work of {Migration} has ended already.");
        }
    }

    private static string Attribute(MigrationDescriptor migration) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[Migration(Order = {migration.Order}, Transactional = false)]");

    internal static string BeganOwnMessage(MigrationDescriptor migration) =>
        $"The {migration} began a transaction of its own on the connection the manager serves, but it runs inside the manager's transaction already (its statements and its COMPLETED status commit together). Remove its BeginTransaction, Commit and Rollback calls, or mark it {Attribute(migration)} if it must manage its own transactions. Nothing of it was kept.";

    internal static string EndedMessage(MigrationDescriptor migration) =>
        $"The {migration} committed or rolled back the transaction the manager runs it in, so its statements and its COMPLETED status can no longer commit together (what it committed stays). Do not end the served connection's transaction in a transactional migration, or mark it {Attribute(migration)}.";

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEventIds.UnitOfWork + 1, Level = LogLevel.Warning, Message = "Migration {Order} ({Name}) is COMPLETED already: another runner completed it while this one held the lease; it is not run again")]
        public static partial void CompletedAlready(ILogger logger, long order, string name);

        [LoggerMessage(EventId = LogEventIds.UnitOfWork + 2, Level = LogLevel.Information, Message = "Migration {Order} ({Name}) ended without completing (the run was cancelled): {Outcome}")]
        public static partial void EndedWithoutCompleting(ILogger logger, long order, string name, string outcome);
    }
}

/// <summary>A transactional migration began, committed or rolled back a transaction on the connection it was served.</summary>
internal sealed class TransactionMisuseException(string message, Exception? innerException) : InvalidOperationException(message, innerException);
