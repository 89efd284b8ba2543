using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace SourceGenMigrations.Tests;

/// <summary>An <see cref="ILogger"/> that keeps every entry.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly object _gate = new();
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get { lock (_gate) { return [.. _entries]; } }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_gate) { _entries.Add((logLevel, formatter(state, exception))); }
    }
}

/// <summary>Helpers shared by the runner tests.</summary>
internal static class TestSupport
{
    /// <summary>A bound on real time, only ever reached when something hangs (never an assertion of speed).</summary>
    public static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(10);

    public static readonly string[] Prologue =
        ["AcquireDBLock()", "EnsureDataStores()", "ReleaseDBLock()", "AcquireMigrationLock()", "ListStatuses()"];

    public static string P(long order, string status) => $"PersistStatus(order={order}, status={status})";

    public static string[] Sequence(params string[] afterListStatuses) => [.. Prologue, .. afterListStatuses];

    public static MigrationOptions Options(TimeProvider? time = null, MigrationConfig? config = null, ILogger? logger = null, IServiceProvider? services = null) => new()
    {
        ConfigProvider = () => config ?? new MigrationConfig(),
        TimeProvider = time ?? new FakeTimeProvider(),
        Logger = logger,
        Services = services,
    };

    /// <summary>A registration that appends its order to <paramref name="ran"/> then runs <paramref name="body"/>.</summary>
    public static MigrationRegistration Reg(long order, List<long> ran, bool enabled = true, Func<MigrationContext, CancellationToken, Task>? body = null, string? name = null) =>
        new(order, async (context, ct) =>
        {
            lock (ran) { ran.Add(order); }
            if (body is not null)
            {
                await body(context, ct);
            }
        }, enabled, name);

    public static Task Run(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options, CancellationToken cancellationToken = default) =>
        MigrationRunner.RunAsync(manager, registrations, options, cancellationToken).WaitAsync(SafetyTimeout, CancellationToken.None);

    /// <summary>Advances the fake clock by <paramref name="step"/> until <paramref name="done"/>; real time is only a safety bound.</summary>
    public static async Task AdvanceUntil(FakeTimeProvider time, TimeSpan step, Func<bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (!done())
        {
            if (watch.Elapsed > SafetyTimeout)
            {
                throw new TimeoutException("safety bound: the awaited condition never became true");
            }

            time.Advance(step);
            await Task.Delay(1, CancellationToken.None);
        }
    }

    /// <summary>Waits (in real time, bounded) until <paramref name="done"/>, without moving the clock.</summary>
    public static async Task WaitUntil(Func<bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (!done())
        {
            if (watch.Elapsed > SafetyTimeout)
            {
                throw new TimeoutException("safety bound: the awaited condition never became true");
            }

            await Task.Delay(1, CancellationToken.None);
        }
    }

    /// <summary>
    /// Asserts a multi-failure exception: one inner <see cref="MigrationException"/> per failure with these steps, the
    /// joined steps, and the joined messages (each "step: cause").
    /// </summary>
    public static IReadOnlyList<MigrationException> AssertSeveral(MigrationException exception, params string[] steps)
    {
        Assert.Equal(string.Join("; ", steps), exception.Step);
        var aggregate = Assert.IsType<AggregateException>(exception.InnerException);
        Assert.Equal(steps.Length, aggregate.InnerExceptions.Count);
        var inner = aggregate.InnerExceptions.Select(e => Assert.IsType<MigrationException>(e)).ToList();
        Assert.Equal(steps, inner.Select(e => e.Step));
        Assert.Equal(string.Join("; ", inner.Select(e => e.Message)), exception.Message);
        return inner;
    }
}

internal sealed class BoomException(string message) : Exception(message);
