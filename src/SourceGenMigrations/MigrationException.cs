namespace SourceGenMigrations;

/// <summary>
/// A migration run failed. <see cref="Exception.Message"/> names the step that failed (for example
/// <c>failed to complete the migration with order 3</c>); the cause is the <see cref="Exception.InnerException"/>.
/// When several things failed in one run (a step and the release of a lock), the message lists each and the inner
/// exception is an <see cref="AggregateException"/> holding one <see cref="MigrationException"/> per failure.
/// </summary>
public sealed class MigrationException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public MigrationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public MigrationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with no message (prefer the other constructors).</summary>
    public MigrationException()
        : base("the migration run failed")
    {
    }

    /// <summary>One failure as itself; several as one exception listing each message, all of them inside.</summary>
    internal static MigrationException Combine(IReadOnlyList<MigrationException> errors) => errors.Count == 1
        ? errors[0]
        : new MigrationException(string.Join("; ", errors.Select(static error => error.Message)), new AggregateException(errors));
}
