namespace SourceGenMigrations;

/// <summary>
/// Stores migration state and coordinates runners: what <see cref="MigrationRunner"/> needs from a database.
/// SourceGenMigrations ships SQLite and PostgreSQL managers; implement this to use another store.
/// </summary>
/// <remarks>
/// The runner calls, in order: <see cref="AcquireDbLockAsync"/>, <see cref="EnsureDataStoresAsync"/>,
/// <see cref="ReleaseDbLockAsync"/>, <see cref="AcquireMigrationLockAsync"/>, then <see cref="MigrationLockHeartbeatAsync"/>
/// periodically while it runs <see cref="ListStatusesAsync"/> and <see cref="PersistStatusAsync"/>, and finally
/// <see cref="ReleaseMigrationLockAsync"/>. Every method should honour its cancellation token.
/// </remarks>
public interface IMigrationManager
{
    /// <summary>Acquires a database-wide lock, held while <see cref="EnsureDataStoresAsync"/> runs.</summary>
    Task AcquireDbLockAsync(CancellationToken cancellationToken);

    /// <summary>Creates the two data stores (the migration lock and the statuses) when they are missing. Idempotent.</summary>
    Task EnsureDataStoresAsync(CancellationToken cancellationToken);

    /// <summary>Releases the lock taken by <see cref="AcquireDbLockAsync"/>.</summary>
    Task ReleaseDbLockAsync(CancellationToken cancellationToken);

    /// <summary>Acquires the migration lock, so that only one runner migrates at a time. Waits while another runner holds it.</summary>
    Task AcquireMigrationLockAsync(CancellationToken cancellationToken);

    /// <summary>Keeps the migration lock alive; throws when the lock was lost.</summary>
    Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken);

    /// <summary>Returns every status stored with <see cref="PersistStatusAsync"/>.</summary>
    Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken);

    /// <summary>Stores (inserts or overwrites) the status of the migration with <paramref name="order"/>. Orders are unique in the store.</summary>
    Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken);

    /// <summary>Releases the lock taken by <see cref="AcquireMigrationLockAsync"/>.</summary>
    Task ReleaseMigrationLockAsync(CancellationToken cancellationToken);
}
