namespace SourceGenMigrations;

/// <summary>
/// The state of a migration as persisted by an <see cref="IMigrationManager"/>. Persisted as the text
/// <c>PENDING</c>, <c>STARTED</c>, <c>FAILED</c> or <c>COMPLETED</c> (see <see cref="MigrationStatusText"/>).
/// </summary>
public enum MigrationStatus
{
    /// <summary>Scheduled by the current run, not started yet (persisted as <c>PENDING</c>).</summary>
    Pending = 0,

    /// <summary>Running, or interrupted while running (persisted as <c>STARTED</c>); retried by the next run.</summary>
    Started = 1,

    /// <summary>Threw an exception (persisted as <c>FAILED</c>); retried by the next run.</summary>
    Failed = 2,

    /// <summary>Completed successfully (persisted as <c>COMPLETED</c>); never run again.</summary>
    Completed = 3,
}

/// <summary>
/// Converts <see cref="MigrationStatus"/> to and from its persisted text form. Parsing is strict: exactly one of
/// <c>PENDING</c>, <c>STARTED</c>, <c>FAILED</c>, <c>COMPLETED</c>, upper case, nothing around it.
/// </summary>
public static class MigrationStatusText
{
    /// <summary>The persisted form of <see cref="MigrationStatus.Pending"/>.</summary>
    public const string Pending = "PENDING";

    /// <summary>The persisted form of <see cref="MigrationStatus.Started"/>.</summary>
    public const string Started = "STARTED";

    /// <summary>The persisted form of <see cref="MigrationStatus.Failed"/>.</summary>
    public const string Failed = "FAILED";

    /// <summary>The persisted form of <see cref="MigrationStatus.Completed"/>.</summary>
    public const string Completed = "COMPLETED";

    /// <summary>Returns the persisted text of <paramref name="status"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not a defined value.</exception>
    public static string ToText(MigrationStatus status) => status switch
    {
        MigrationStatus.Pending => Pending,
        MigrationStatus.Started => Started,
        MigrationStatus.Failed => Failed,
        MigrationStatus.Completed => Completed,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, $"'{(int)status}' is not a defined {nameof(MigrationStatus)}."),
    };

    /// <summary>Parses a persisted status text.</summary>
    /// <returns><see langword="true"/> when <paramref name="text"/> is exactly one of the four persisted forms.</returns>
    public static bool TryParse(string? text, out MigrationStatus status)
    {
        switch (text)
        {
            case Pending: status = MigrationStatus.Pending; return true;
            case Started: status = MigrationStatus.Started; return true;
            case Failed: status = MigrationStatus.Failed; return true;
            case Completed: status = MigrationStatus.Completed; return true;
            default: status = default; return false;
        }
    }

    /// <summary>Parses a persisted status text.</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not one of the four persisted forms; the message quotes it.</exception>
    public static MigrationStatus Parse(string? text) => TryParse(text, out var status)
        ? status
        : throw new FormatException(
            $"'{text}' is not a migration status: expected {Pending}, {Started}, {Failed} or {Completed}.");

    /// <summary>Whether <paramref name="status"/> is one of the four defined values.</summary>
    public static bool IsDefined(MigrationStatus status) =>
        status is MigrationStatus.Pending or MigrationStatus.Started or MigrationStatus.Failed or MigrationStatus.Completed;
}
