using System.Runtime.CompilerServices;

namespace SourceGenMigrations.Internal;

/// <summary>
/// The tasks a method that completes synchronously returns (issue 14: an <c>async</c> method is a state machine, and
/// the JIT compiles its <c>MoveNext</c> and two <c>Start</c> instantiations on every cold start even when nothing
/// waits). A failure becomes the task an <c>async</c> method would have returned: faulted, or cancelled (with the same
/// <see cref="OperationCanceledException"/> inside) for a cancellation, never thrown synchronously to the caller.
/// </summary>
internal static class CompletedTasks
{
    /// <summary>A completed <c>true</c>.</summary>
    public static readonly Task<bool> True = Task.FromResult(true);

    /// <summary>A completed <c>false</c>.</summary>
    public static readonly Task<bool> False = Task.FromResult(false);

    /// <summary>The task an <c>async Task</c> method returns when <paramref name="exception"/> escapes it.</summary>
    public static Task Failed(Exception exception)
    {
        var builder = AsyncTaskMethodBuilder.Create();
        builder.SetException(exception);
        return builder.Task;
    }

    /// <summary>The task an <c>async Task&lt;T&gt;</c> method returns when <paramref name="exception"/> escapes it.</summary>
    public static Task<T> Failed<T>(Exception exception)
    {
        var builder = AsyncTaskMethodBuilder<T>.Create();
        builder.SetException(exception);
        return builder.Task;
    }

    /// <summary>
    /// <paramref name="task"/>, with <paramref name="owner"/> disposed once it completes (at once when it has, as a
    /// <c>using</c> around an <c>await</c> would).
    /// </summary>
    public static Task DisposeWhenDone(IDisposable owner, Task task)
    {
        if (!task.IsCompleted)
        {
            return DisposeWhenDoneAsync(owner, task);
        }

        owner.Dispose();
        return task;
    }

    private static async Task DisposeWhenDoneAsync(IDisposable owner, Task task)
    {
        using (owner)
        {
            await task.ConfigureAwait(false);
        }
    }
}
