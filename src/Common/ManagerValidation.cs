using System.Globalization;

namespace SourceGenMigrations.Internal;

/// <summary>Validation and defaults shared by every manager (identifiers, table names, durations, owner ids).</summary>
internal static class ManagerValidation
{
    /// <summary>The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); used for SQLite too so names stay portable.</summary>
    public const int MaxIdentifierLength = 63;

    /// <summary>The longest owner id accepted.</summary>
    public const int MaxOwnerIdLength = 200;

    /// <summary>The longest poll interval accepted.</summary>
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromHours(1);

    /// <summary>The longest lease accepted.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromDays(1);

    /// <summary>Checks <paramref name="value"/> against the strict identifier pattern <c>[A-Za-z_][A-Za-z0-9_]*</c> (at most 63 characters).</summary>
    /// <returns>The value, which may then be quoted with <see cref="Quote"/>: the pattern admits no quote character, so quoting cannot be escaped.</returns>
    /// <exception cref="ArgumentException">The identifier breaks the pattern; the message names the option and the value.</exception>
    public static string CheckIdentifier(string? value, string optionName)
    {
        if (!IsIdentifier(value))
        {
            throw new ArgumentException(
                $"{optionName} must be an identifier of 1 to {MaxIdentifierLength} characters matching [A-Za-z_][A-Za-z0-9_]*, but was {Describe(value)}.",
                optionName);
        }

        return value!;
    }

    /// <summary>Quotes an identifier checked by <see cref="CheckIdentifier"/>: <c>"name"</c> (SQLite, PostgreSQL) or with the dialect's quote character (MySQL's backtick).</summary>
    public static string Quote(string checkedIdentifier, char quote = '"') => quote + checkedIdentifier + quote;

    /// <summary>
    /// The lease and status table names from the options: each explicit name, else <c>{prefix}_lock</c> and
    /// <c>{prefix}_status</c>; every one an identifier (the error names the option that produced it), and the two different.
    /// </summary>
    /// <param name="prefix">The table prefix option.</param>
    /// <param name="lockTableName">The explicit lease table name, or null.</param>
    /// <param name="statusTableName">The explicit status table name, or null.</param>
    /// <param name="caseSensitive">Whether the database tells names apart by case (PostgreSQL's quoted names do; SQLite's do not).</param>
    /// <exception cref="ArgumentException">A name is not an identifier, or the two are the same.</exception>
    public static (string Lock, string Status) TableNames(string? prefix, string? lockTableName, string? statusTableName, bool caseSensitive)
    {
        const string PrefixOption = "TablePrefix";
        CheckIdentifier(prefix, PrefixOption);
        var lockName = CheckIdentifier(lockTableName ?? prefix + "_lock", lockTableName is null ? PrefixOption : "LockTableName");
        var statusName = CheckIdentifier(statusTableName ?? prefix + "_status", statusTableName is null ? PrefixOption : "StatusTableName");
        if (string.Equals(lockName, statusName, caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"LockTableName and StatusTableName must differ, but both are '{lockName}'.");
        }

        return (lockName, statusName);
    }

    /// <summary>Whether <paramref name="value"/> matches <c>[A-Za-z_][A-Za-z0-9_]{0,62}</c>.</summary>
    public static bool IsIdentifier(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxIdentifierLength)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var ok = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or '_' || (i > 0 && c is >= '0' and <= '9');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Checks that a duration is greater than zero and at most <paramref name="maximum"/>.</summary>
    /// <exception cref="ArgumentException">It is not; the message names the option and the value.</exception>
    public static void CheckDuration(TimeSpan value, TimeSpan maximum, string optionName)
    {
        if (value <= TimeSpan.Zero || value > maximum)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{optionName} must be greater than zero and at most {maximum}, but was {value}."),
                optionName);
        }
    }

    /// <summary>
    /// This runner's owner id: <paramref name="ownerId"/> checked now (not blank, at most 200 characters, no control
    /// characters), or, when it is null, one generated on first use (<see cref="NewOwnerId"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The given owner id is not acceptable; the message names the option and the value.</exception>
    public static OwnerIdentity OwnerIdOrGenerated(string? ownerId, string optionName) =>
        new(ownerId is null ? null : CheckOwnerId(ownerId, optionName));

    private static string CheckOwnerId(string ownerId, string optionName)
    {
        if (string.IsNullOrWhiteSpace(ownerId) || ownerId.Length > MaxOwnerIdLength || ownerId.Any(char.IsControl))
        {
            throw new ArgumentException(
                $"{optionName} must be null (generated) or 1 to {MaxOwnerIdLength} visible characters, but was {Describe(ownerId)}.",
                optionName);
        }

        return ownerId;
    }

    /// <summary>
    /// A new owner id: host name, process id and a random part, e.g. <c>web-3/4711/5f0c2a9e1b7d</c>. The random part keeps
    /// two managers of one process (or a recycled process id) apart.
    /// </summary>
    /// <remarks>
    /// The random part comes from <see cref="Guid.NewGuid"/> (the operating system's random source), not from
    /// RandomNumberGenerator: the id needs uniqueness, not secrecy, and on Linux RandomNumberGenerator loads and
    /// initialises OpenSSL, a large part of the start of a NativeAOT service that has nothing to migrate.
    /// </remarks>
    public static string NewOwnerId()
    {
        var host = Environment.MachineName;
        if (host.Length > 100)
        {
            host = host[..100];
        }

        // The first six bytes of a version-4 GUID are all random (the version digit comes later), written as 12 hex
        // digits by hand: the GUID's own formatting is vectorised code the JIT compiles on every start (~1 ms, issue 14).
        const string HexDigits = "0123456789abcdef";
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        Span<char> random = stackalloc char[12];
        for (var i = 0; i < 6; i++)
        {
            random[2 * i] = HexDigits[bytes[i] >> 4];
            random[(2 * i) + 1] = HexDigits[bytes[i] & 0xF];
        }

        return string.Create(CultureInfo.InvariantCulture, $"{host}/{Environment.ProcessId}/{random}");
    }

    /// <summary>Quotes a value for an error message.</summary>
    public static string Describe(string? value) => value is null ? "null" : "'" + value + "'";
}
