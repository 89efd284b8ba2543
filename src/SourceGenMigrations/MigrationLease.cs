using System.Globalization;

namespace SourceGenMigrations;

/// <summary>The migration lease as read by <see cref="IMigrationOperations.ReadLeaseAsync"/>: who holds it and until when.</summary>
public sealed class MigrationLease
{
    /// <summary>Creates a lease as read (managers do this).</summary>
    /// <param name="ownerId">The holder's owner id (host/process/random by default).</param>
    /// <param name="acquiredAt">When the holder took the lease.</param>
    /// <param name="expiresAt">When it expires unless the holder's heartbeat extends it.</param>
    /// <param name="databaseTime">The database's clock when the lease was read: the clock every runner judges expiry by.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ownerId"/> is null.</exception>
    public MigrationLease(string ownerId, DateTimeOffset acquiredAt, DateTimeOffset expiresAt, DateTimeOffset databaseTime)
    {
        ArgumentNullException.ThrowIfNull(ownerId);
        OwnerId = ownerId;
        AcquiredAt = acquiredAt;
        ExpiresAt = expiresAt;
        DatabaseTime = databaseTime;
    }

    /// <summary>The holder's owner id.</summary>
    public string OwnerId { get; }

    /// <summary>When the holder took the lease.</summary>
    public DateTimeOffset AcquiredAt { get; }

    /// <summary>When the lease expires unless its holder's heartbeat extends it.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The database's clock when the lease was read.</summary>
    public DateTimeOffset DatabaseTime { get; }

    /// <summary>
    /// Whether the lease had expired when it was read (by the database's clock): its holder died or lost contact, and the
    /// next runner takes it over.
    /// </summary>
    public bool IsExpired => ExpiresAt <= DatabaseTime;

    /// <inheritdoc/>
    /// <returns>For example <c>held by web-3/4711/5f0c2a9e1b7d since 2026-12-03T10:00:00.000Z until 2026-12-03T10:01:00.000Z (live, expires in 42 s)</c>.</returns>
    public override string ToString()
    {
        var left = ExpiresAt - DatabaseTime;
        var state = IsExpired
            ? string.Create(CultureInfo.InvariantCulture, $"expired {Seconds(-left)} ago")
            : string.Create(CultureInfo.InvariantCulture, $"live, expires in {Seconds(left)}");
        return string.Create(CultureInfo.InvariantCulture, $"held by {OwnerId} since {Time(AcquiredAt)} until {Time(ExpiresAt)} ({state})");
    }

    internal static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => Math.Ceiling(value.TotalSeconds).ToString("0", CultureInfo.InvariantCulture) + " s";
}
