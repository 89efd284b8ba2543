namespace SourceGenMigrations;

/// <summary>
/// A migration run failed. <see cref="Exception.Message"/> is one line, the step that failed and the innermost cause
/// (<c>&lt;step&gt;: &lt;cause&gt;</c>, for example <c>failed to complete the migration with order 3: 23505: duplicate key
/// value violates unique constraint "users_pkey"</c>), so a log line or a health check that shows only the message
/// still says why. <see cref="Step"/> and <see cref="Order"/> carry the step and the migration's order for code; the
/// cause itself is the <see cref="Exception.InnerException"/>.
/// When several things failed in one run (a step and the release of a lock), the message lists each, joined with
/// <c>; </c>, and the inner exception is an <see cref="AggregateException"/> holding one <see cref="MigrationException"/>
/// per failure.
/// </summary>
/// <remarks>
/// The cause in the message is the first line of the innermost exception's message: providers put details that may hold
/// row data on the following lines (Npgsql's <c>DETAIL</c>), and those stay in the inner exception only.
/// </remarks>
public sealed class MigrationException : Exception
{
    private const string DefaultStep = "the migration run failed";

    /// <summary>Creates an exception for a step that failed with no other cause.</summary>
    /// <param name="message">The step (for example <c>failed to get the migration configuration</c>).</param>
    public MigrationException(string message)
        : this(message, order: null, innerException: null)
    {
    }

    /// <summary>Creates an exception for a step and its cause; the message becomes <c>&lt;step&gt;: &lt;innermost cause&gt;</c>.</summary>
    /// <param name="message">The step (for example <c>failed to get the migration configuration</c>).</param>
    /// <param name="innerException">The cause.</param>
    public MigrationException(string message, Exception? innerException)
        : this(message, order: null, innerException)
    {
    }

    /// <summary>Creates an exception for a step of one migration and its cause; the message becomes <c>&lt;step&gt;: &lt;innermost cause&gt;</c>.</summary>
    /// <param name="step">The step (for example <c>failed to complete the migration with order 3</c>).</param>
    /// <param name="order">The order of the migration the step was about, or null.</param>
    /// <param name="innerException">The cause.</param>
    public MigrationException(string step, long? order, Exception? innerException)
        : base(Compose(step ?? DefaultStep, innerException), innerException)
    {
        Step = step ?? DefaultStep;
        Order = order;
    }

    /// <summary>Creates an exception with no message (prefer the other constructors).</summary>
    public MigrationException()
        : this(DefaultStep)
    {
    }

    private MigrationException(string step, string message, long? order, Exception innerException)
        : base(message, innerException)
    {
        Step = step;
        Order = order;
    }

    /// <summary>
    /// The step that failed, without its cause (for example <c>failed to complete the migration with order 3</c>); for
    /// several failures at once, each step joined with <c>; </c>.
    /// </summary>
    public string Step { get; }

    /// <summary>
    /// The order of the migration the failure was about (running it, persisting its status, a persisted status that is
    /// invalid); null for steps about the whole run. For several failures at once, the order they share, if one.
    /// </summary>
    public long? Order { get; }

    /// <summary>
    /// The cause as the message shows it: the first line of the innermost exception's message that still says something
    /// of its own (a wrapper whose message already holds its inner exception's, such as a manager naming the database,
    /// counts as the innermost).
    /// </summary>
    internal static string? Cause(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        var current = exception;
        while (current.InnerException is { } inner)
        {
            if (current is not AggregateException && FirstLine(current.Message).Contains(FirstLine(inner.Message), StringComparison.Ordinal))
            {
                break;
            }

            current = inner;
        }

        return current is MigrationException migration ? migration.Message : FirstLine(current.Message);
    }

    /// <summary>One failure as itself; several as one exception listing each message, all of them inside.</summary>
    internal static MigrationException Combine(IReadOnlyList<MigrationException> errors)
    {
        if (errors.Count == 1)
        {
            return errors[0];
        }

        var orders = errors.Where(static e => e.Order is not null).Select(static e => e.Order).Distinct().ToList();
        return new MigrationException(
            string.Join("; ", errors.Select(static error => error.Step)),
            string.Join("; ", errors.Select(static error => error.Message)),
            orders.Count == 1 ? orders[0] : null,
            new AggregateException(errors));
    }

    private static string Compose(string step, Exception? cause) =>
        Cause(cause) is { Length: > 0 } text && !step.Contains(text, StringComparison.Ordinal) ? $"{step}: {text}" : step;

    private static string FirstLine(string text)
    {
        text = text.Trim();
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? text : text[..end].TrimEnd();
    }
}
