using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace SourceGenMigrations.Hosting.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryTestGroup
{
    public const string Name = "Process-wide listeners";
}

/// <summary>
/// The runtime's ActivitySource and Meter, observed with ActivityListener and MeterListener. The listeners are
/// process-wide, so these tests run alone (a collection without parallelization).
/// </summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class TelemetryTests
{
    private static MigrationRegistration Registration(long order, Func<MigrationContext, CancellationToken, Task>? body = null) =>
        new(order, body ?? ((_, _) => Task.CompletedTask), name: $"Tel.M{order}");

    [Fact]
    public async Task A_run_has_a_span_with_lock_waits_and_one_span_per_migration_that_ran()
    {
        using var spans = new SpanRecorder();
        var manager = new InMemoryMigrationManager().WithStatus(1, MigrationStatus.Completed).WithStatus(3, MigrationStatus.Failed);
        string? currentInsideMigration = null;

        await MigrationRunner.RunAsync(manager, [Registration(1), Registration(2, (_, _) =>
        {
            currentInsideMigration = Activity.Current?.OperationName;
            return Task.CompletedTask;
        }), Registration(3)]);

        var run = Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.run");
        Assert.Equal("SourceGenMigrations", run.Source.Name);
        Assert.Equal(3, run.GetTagItem("sourcegenmigrations.run.registration_count"));
        Assert.Equal(2, run.GetTagItem("sourcegenmigrations.run.applied_count"));
        Assert.Equal("completed", run.GetTagItem("sourcegenmigrations.run.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, run.Status);

        var locks = spans.Stopped.Where(static a => a.OperationName == "sourcegenmigrations.lock.wait").ToArray();
        Assert.Equal(["database", "migration"], locks.Select(static a => a.GetTagItem("sourcegenmigrations.lock.name")));
        Assert.All(locks, a => Assert.Equal(run.SpanId, a.ParentSpanId));

        var migrations = spans.Stopped.Where(static a => a.OperationName == "sourcegenmigrations.migration").ToArray();
        Assert.Equal(2, migrations.Length);
        Assert.All(migrations, a => Assert.Equal(run.SpanId, a.ParentSpanId));
        Assert.Equal([2L, 3L], migrations.Select(static a => (long)a.GetTagItem("sourcegenmigrations.migration.order")!));
        Assert.Equal(["Tel.M2", "Tel.M3"], migrations.Select(static a => a.GetTagItem("sourcegenmigrations.migration.name")));
        Assert.Equal(["PENDING", "FAILED"], migrations.Select(static a => a.GetTagItem("sourcegenmigrations.migration.previous_status")));
        Assert.All(migrations, static a => Assert.Equal("completed", a.GetTagItem("sourcegenmigrations.migration.outcome")));

        // The migration's own spans nest under its span.
        Assert.Equal("sourcegenmigrations.migration", currentInsideMigration);
    }

    [Fact]
    public async Task A_failing_migration_marks_its_span_and_the_runs_span_as_errors()
    {
        using var spans = new SpanRecorder();
        var manager = new InMemoryMigrationManager();

        await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, [Registration(1), Registration(2, (_, _) => throw new InvalidOperationException("boom"))]));

        var migrations = spans.Stopped.Where(static a => a.OperationName == "sourcegenmigrations.migration").ToArray();
        Assert.Equal(["completed", "failed"], migrations.Select(static a => a.GetTagItem("sourcegenmigrations.migration.outcome")));
        var failed = migrations[1];
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal("boom", failed.StatusDescription);
        Assert.Equal("System.InvalidOperationException", failed.GetTagItem("error.type"));

        var run = Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.run");
        Assert.Equal("failed", run.GetTagItem("sourcegenmigrations.run.outcome"));
        Assert.Equal(ActivityStatusCode.Error, run.Status);
        Assert.Equal("failed to complete the migration with order 2: boom", run.StatusDescription);
        Assert.Equal("SourceGenMigrations.MigrationException", run.GetTagItem("error.type"));
        Assert.Equal(1, run.GetTagItem("sourcegenmigrations.run.applied_count"));
    }

    [Fact]
    public async Task A_cancelled_run_marks_the_running_migration_cancelled()
    {
        using var spans = new SpanRecorder();
        using var cancellation = new CancellationTokenSource();
        var manager = new InMemoryMigrationManager();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MigrationRunner.RunAsync(manager, [Registration(1, async (_, cancellationToken) =>
        {
            await cancellation.CancelAsync();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        })], cancellationToken: cancellation.Token));

        var migration = Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.migration");
        Assert.Equal("cancelled", migration.GetTagItem("sourcegenmigrations.migration.outcome"));
        var run = Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.run");
        Assert.Equal("cancelled", run.GetTagItem("sourcegenmigrations.run.outcome"));
    }

    [Fact]
    public async Task A_failed_lock_wait_is_an_error_span()
    {
        using var spans = new SpanRecorder();
        var manager = new InMemoryMigrationManager { OnAcquireMigrationLock = _ => throw new TimeoutException("held elsewhere") };

        await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(manager, [Registration(1)]));

        var wait = Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.lock.wait" && "migration".Equals(a.GetTagItem("sourcegenmigrations.lock.name")));
        Assert.Equal(ActivityStatusCode.Error, wait.Status);
        Assert.Equal("System.TimeoutException", wait.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_plan_has_its_own_span()
    {
        using var spans = new SpanRecorder();

        await MigrationRunner.PlanAsync(new InMemoryMigrationManager(), [Registration(1)]);

        Assert.Single(spans.Stopped, static a => a.OperationName == "sourcegenmigrations.plan");
        Assert.DoesNotContain(spans.Stopped, static a => a.OperationName is "sourcegenmigrations.run" or "sourcegenmigrations.migration");
    }

    [Fact]
    public async Task Without_listeners_no_span_is_created()
    {
        string? currentInsideMigration = "not run";
        await MigrationRunner.RunAsync(new InMemoryMigrationManager(), [Registration(1, (_, _) =>
        {
            currentInsideMigration = Activity.Current?.OperationName;
            return Task.CompletedTask;
        })]);

        Assert.Null(currentInsideMigration);
    }

    [Fact]
    public async Task A_run_records_counters_and_durations()
    {
        using var measurements = new MeasurementRecorder();
        var time = new FakeTimeProvider();
        var options = new MigrationOptions { TimeProvider = time, ConfigProvider = static () => new MigrationConfig() };
        var manager = new InMemoryMigrationManager
        {
            OnAcquireMigrationLock = _ =>
            {
                time.Advance(TimeSpan.FromSeconds(3));
                return Task.CompletedTask;
            },
        };

        await MigrationRunner.RunAsync(manager, [
            Registration(1, (_, _) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(1500));
                return Task.CompletedTask;
            }),
            Registration(2, (_, _) =>
            {
                time.Advance(TimeSpan.FromSeconds(2));
                return Task.CompletedTask;
            }),
        ], options);
        await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.RunAsync(new InMemoryMigrationManager(), [Registration(7, (_, _) =>
        {
            time.Advance(TimeSpan.FromSeconds(4));
            throw new InvalidOperationException("boom");
        })], options));

        var instruments = measurements.Snapshot();
        Assert.Equal(2, instruments.Where(static m => m.Instrument == "sourcegenmigrations.migrations.completed").Sum(static m => m.Value));
        var failed = Assert.Single(instruments, static m => m.Instrument == "sourcegenmigrations.migrations.failed");
        Assert.Equal(1, failed.Value);
        Assert.Equal("System.InvalidOperationException", failed.Tags["error.type"]);

        var durations = instruments.Where(static m => m.Instrument == "sourcegenmigrations.migration.duration").ToArray();
        Assert.Equal([(1.5, "completed"), (2.0, "completed"), (4.0, "failed")], durations.Select(static m => (m.Value, (string)m.Tags["sourcegenmigrations.migration.outcome"]!)));
        Assert.All(durations, static m => Assert.Equal("s", m.Unit));

        var waits = instruments.Where(static m => m.Instrument == "sourcegenmigrations.lock.wait.duration").ToArray();
        Assert.Equal([("database", 0.0), ("migration", 3.0), ("database", 0.0), ("migration", 0.0)], waits.Select(static m => ((string)m.Tags["sourcegenmigrations.lock.name"]!, m.Value)));
    }

    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = static source => source.Name == MigrationTelemetry.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped) { _stopped.Add(activity); }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Stopped
        {
            get { lock (_stopped) { return [.. _stopped.OrderBy(static a => a.StartTimeUtc)]; } }
        }

        public void Dispose() => _listener.Dispose();
    }

    private sealed record Measurement(string Instrument, string? Unit, double Value, Dictionary<string, object?> Tags);

    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<Measurement> _measurements = [];

        public MeasurementRecorder()
        {
            _listener.InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == MigrationTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<Measurement> Snapshot()
        {
            lock (_measurements) { return [.. _measurements]; }
        }

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            lock (_measurements) { _measurements.Add(new Measurement(instrument.Name, instrument.Unit, value, copy)); }
        }
    }
}
