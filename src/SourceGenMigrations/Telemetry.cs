using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SourceGenMigrations;

/// <summary>
/// The names to subscribe to for the runner's traces and metrics, for example
/// <c>tracing.AddSource(MigrationTelemetry.ActivitySourceName)</c> and <c>metrics.AddMeter(MigrationTelemetry.MeterName)</c>
/// with OpenTelemetry. Nothing is recorded (no tags, no timestamps) while nobody listens.
/// </summary>
public static class MigrationTelemetry
{
    /// <summary>The <see cref="ActivitySource"/> of the run's spans: <c>SourceGenMigrations</c>.</summary>
    public const string ActivitySourceName = "SourceGenMigrations";

    /// <summary>The <see cref="Meter"/> of the run's counters and histograms: <c>SourceGenMigrations</c>.</summary>
    public const string MeterName = "SourceGenMigrations";
}

/// <summary>
/// The runner's spans and instruments, in the OpenTelemetry semantic-convention style: dotted lower-case names in the
/// <c>sourcegenmigrations</c> namespace, durations in seconds, <c>error.type</c> on failures. Every helper returns at
/// once when nobody listens (<see cref="ActivitySource.HasListeners"/>, <see cref="Instrument.Enabled"/>).
/// </summary>
/// <remarks>
/// Nothing listens in a process that has not loaded System.Diagnostics.DiagnosticSource: an <see cref="ActivityListener"/>,
/// a <see cref="MeterListener"/> (OpenTelemetry's included) and the event sources that carry spans and metrics to
/// dotnet-trace and dotnet-counters are all defined there. Until some code of the process loads it, the helpers neither
/// load it nor build the source, the meter and the instruments (on a cold JIT start, a few milliseconds of assembly
/// loading, event-source set-up and compiled generic code); <see cref="Span"/> and <see cref="LockWait"/> are this
/// assembly's types for the same reason, so that compiling the runner does not load it either. A process that wants the
/// spans or metrics of its first run with no listener of its own (dotnet-counters on a bare console app) creates any
/// <see cref="ActivitySource"/> or <see cref="Meter"/> before the run.
/// </remarks>
internal static class Telemetry
{
    // Spans (ActivityKind.Internal).
    public const string RunSpan = "sourcegenmigrations.run";
    public const string PlanSpan = "sourcegenmigrations.plan";
    public const string MigrationSpan = "sourcegenmigrations.migration";
    public const string LockWaitSpan = "sourcegenmigrations.lock.wait";

    // Tags.
    public const string RegistrationCountTag = "sourcegenmigrations.run.registration_count";
    public const string AppliedCountTag = "sourcegenmigrations.run.applied_count";
    public const string RunOutcomeTag = "sourcegenmigrations.run.outcome";
    public const string OrderTag = "sourcegenmigrations.migration.order";
    public const string NameTag = "sourcegenmigrations.migration.name";
    public const string PreviousStatusTag = "sourcegenmigrations.migration.previous_status";
    public const string OutcomeTag = "sourcegenmigrations.migration.outcome";
    public const string LockNameTag = "sourcegenmigrations.lock.name";
    public const string ErrorTypeTag = "error.type";

    // Tag values.
    public const string DatabaseLock = "database";
    public const string MigrationLock = "migration";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    // Instruments.
    public const string MigrationsCompletedName = "sourcegenmigrations.migrations.completed";
    public const string MigrationsFailedName = "sourcegenmigrations.migrations.failed";
    public const string MigrationDurationName = "sourcegenmigrations.migration.duration";
    public const string LockWaitDurationName = "sourcegenmigrations.lock.wait.duration";

    private const string DiagnosticSourceAssembly = "System.Diagnostics.DiagnosticSource,";

    private static readonly object WatchGate = new();
    private static volatile bool s_diagnosticsLoaded;
    private static volatile bool s_watching;

    /// <summary>Whether anything could listen: System.Diagnostics.DiagnosticSource is loaded (once true, true for good).</summary>
    public static bool MayListen
    {
        get
        {
            // NativeAOT compiles every assembly the app uses into it, so DiagnosticSource counts as loaded from the start:
            // no need to look.
            if (s_diagnosticsLoaded || !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            {
                return true;
            }

            if (!s_watching)
            {
                Watch();
            }

            return s_diagnosticsLoaded;
        }
    }

    // Looks once through the loaded assemblies and then learns of each new one as it loads, so that asking costs nothing
    // on every later run (and never loads DiagnosticSource itself).
    private static void Watch()
    {
        lock (WatchGate)
        {
            if (s_watching)
            {
                return;
            }

            AppDomain.CurrentDomain.AssemblyLoad += static (_, loaded) =>
            {
                if (IsDiagnosticSource(loaded.LoadedAssembly))
                {
                    s_diagnosticsLoaded = true;
                }
            };
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (IsDiagnosticSource(assembly))
                {
                    s_diagnosticsLoaded = true;
                }
            }

            s_watching = true;
        }
    }

    private static bool IsDiagnosticSource(System.Reflection.Assembly assembly) =>
        assembly.FullName is { } name && name.StartsWith(DiagnosticSourceAssembly, StringComparison.Ordinal);

    /// <summary>Starts the span of a run or a plan; an empty span when nobody listens.</summary>
    public static Span StartRun(string spanName, int registrationCount) =>
        MayListen ? new Span(Sources.StartRun(spanName, registrationCount)) : default;

    public static void RunCompleted(Span span, int appliedCount)
    {
        if (span.Activity is not null)
        {
            Sources.RunCompleted(span.Activity, appliedCount);
        }
    }

    /// <summary>Marks the run's span as failed.</summary>
    public static void RunFailed(Span span, int appliedCount, Exception exception)
    {
        if (span.Activity is not null)
        {
            Sources.RunFailed(span.Activity, appliedCount, exception);
        }
    }

    /// <summary>Starts the span of one migration (persisting STARTED, its code, persisting COMPLETED); an empty span when nobody listens.</summary>
    public static Span StartMigration(long order, string name, MigrationStatus previousStatus) =>
        MayListen ? new Span(Sources.StartMigration(order, name, previousStatus)) : default;

    /// <summary>Records how one migration ended: the span's outcome, the counters and, when its code ran, its duration.</summary>
    /// <param name="span">From <see cref="StartMigration"/>.</param>
    /// <param name="duration">How long the migration's code ran; null when it did not run.</param>
    /// <param name="error">Why it did not complete; null when it completed.</param>
    /// <param name="cancelled">Whether the run was cancelled when it failed.</param>
    public static void MigrationStopped(Span span, TimeSpan? duration, Exception? error, bool cancelled)
    {
        if (MayListen)
        {
            Sources.MigrationStopped(span.Activity, duration, error, cancelled);
        }
    }

    /// <summary>Starts timing a lock acquisition (a span and the wait histogram), each only when listened to.</summary>
    public static LockWait StartLockWait(string lockName, TimeProvider time) =>
        MayListen ? Sources.StartLockWait(lockName, time) : default;

    private static string ErrorType(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;

    /// <summary>A span, or nothing when nobody listens (the <see cref="Activity"/>, typed <see cref="object"/>: see the remarks of <see cref="Telemetry"/>).</summary>
    internal readonly struct Span(object? activity) : IDisposable
    {
        public object? Activity { get; } = activity;

        public void Dispose()
        {
            if (Activity is not null)
            {
                Sources.Dispose(Activity);
            }
        }
    }

    /// <summary>A lock acquisition being timed; <see cref="Stop"/> it exactly once.</summary>
    internal readonly struct LockWait(object? activity, string lockName, TimeProvider time, bool timed, long started)
    {
        public void Stop(Exception? error)
        {
            if (timed || activity is not null)
            {
                Sources.StopLockWait(activity, lockName, time, timed, started, error);
            }
        }
    }

    /// <summary>The source, the meter and the instruments, built when first used (only once something may listen).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859:Use concrete types when possible for improved performance", Justification = "object, not Activity, in every signature: compiling a caller must not load System.Diagnostics.DiagnosticSource.")]
    private static class Sources
    {
        private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

        public static readonly ActivitySource Source = new(MigrationTelemetry.ActivitySourceName, Version);

        public static readonly Meter Meter = new(MigrationTelemetry.MeterName, Version);

        public static readonly Counter<long> MigrationsCompleted = Meter.CreateCounter<long>(
            MigrationsCompletedName, "{migration}", "Migrations that ran and were persisted as COMPLETED.");

        public static readonly Counter<long> MigrationsFailed = Meter.CreateCounter<long>(
            MigrationsFailedName, "{migration}", "Migrations that started but did not complete (failed or cancelled), by error.type.");

        public static readonly Histogram<double> MigrationDuration = Meter.CreateHistogram<double>(
            MigrationDurationName, "s", "How long one migration's code ran, by outcome.");

        public static readonly Histogram<double> LockWaitDuration = Meter.CreateHistogram<double>(
            LockWaitDurationName, "s", "How long acquiring the database or migration lock took (time spent queued behind another runner included).");

        public static object? StartRun(string spanName, int registrationCount)
        {
            if (!Source.HasListeners())
            {
                return null;
            }

            var activity = Source.StartActivity(spanName, ActivityKind.Internal);
            activity?.SetTag(RegistrationCountTag, registrationCount);
            return activity;
        }

        public static void RunCompleted(object span, int appliedCount)
        {
            var activity = (Activity)span;
            activity.SetTag(AppliedCountTag, appliedCount);
            activity.SetTag(RunOutcomeTag, Completed);
        }

        public static void RunFailed(object span, int appliedCount, Exception exception)
        {
            var activity = (Activity)span;
            activity.SetTag(AppliedCountTag, appliedCount);
            activity.SetTag(RunOutcomeTag, exception is OperationCanceledException ? Cancelled : Failed);
            activity.SetTag(ErrorTypeTag, ErrorType(exception));
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        public static object? StartMigration(long order, string name, MigrationStatus previousStatus)
        {
            if (!Source.HasListeners())
            {
                return null;
            }

            var activity = Source.StartActivity(MigrationSpan, ActivityKind.Internal);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag(OrderTag, order);
                activity.SetTag(NameTag, name);
                activity.SetTag(PreviousStatusTag, MigrationStatusText.ToText(previousStatus));
            }

            return activity;
        }

        public static void MigrationStopped(object? span, TimeSpan? duration, Exception? error, bool cancelled)
        {
            var outcome = error is null ? Completed : cancelled ? Cancelled : Failed;
            if (span is Activity activity)
            {
                activity.SetTag(OutcomeTag, outcome);
                if (error is not null)
                {
                    activity.SetTag(ErrorTypeTag, ErrorType(error));
                    activity.SetStatus(ActivityStatusCode.Error, error.Message);
                }
            }

            if (error is null)
            {
                if (MigrationsCompleted.Enabled)
                {
                    MigrationsCompleted.Add(1);
                }
            }
            else if (MigrationsFailed.Enabled)
            {
                MigrationsFailed.Add(1, new KeyValuePair<string, object?>(ErrorTypeTag, ErrorType(error)));
            }

            if (duration is { } took && MigrationDuration.Enabled)
            {
                MigrationDuration.Record(took.TotalSeconds, new KeyValuePair<string, object?>(OutcomeTag, outcome));
            }
        }

        public static LockWait StartLockWait(string lockName, TimeProvider time)
        {
            Activity? activity = null;
            if (Source.HasListeners())
            {
                activity = Source.StartActivity(LockWaitSpan, ActivityKind.Internal);
                activity?.SetTag(LockNameTag, lockName);
            }

            var timed = LockWaitDuration.Enabled;
            return new LockWait(activity, lockName, time, timed, timed ? time.GetTimestamp() : 0);
        }

        public static void StopLockWait(object? span, string lockName, TimeProvider time, bool timed, long started, Exception? error)
        {
            if (timed)
            {
                var waited = time.GetElapsedTime(started).TotalSeconds;
                var lockTag = new KeyValuePair<string, object?>(LockNameTag, lockName);
                if (error is null)
                {
                    LockWaitDuration.Record(waited, lockTag);
                }
                else
                {
                    LockWaitDuration.Record(waited, lockTag, new KeyValuePair<string, object?>(ErrorTypeTag, ErrorType(error)));
                }
            }

            if (span is Activity activity)
            {
                if (error is not null)
                {
                    activity.SetTag(ErrorTypeTag, ErrorType(error));
                    activity.SetStatus(ActivityStatusCode.Error, error.Message);
                }

                activity.Dispose();
            }
        }

        public static void Dispose(object span) => ((Activity)span).Dispose();
    }
}
