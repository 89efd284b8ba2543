using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    /// <summary>The state of one run: its tokens and the errors collected on the way.</summary>
    private sealed partial class Run : IDisposable
    {
        private readonly IMigrationManager _manager;
        private readonly MigrationRegistration[] _registrations;
        private readonly MigrationConfig _config;
        private readonly ILogger _logger;
        private readonly TimeProvider _time;
        private readonly IServiceProvider? _services;
        private readonly string? _buildVersionOption;
        private readonly CancellationToken _callerToken;
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _runSource;

        // Errors are kept by kind and reported in a fixed order: steps, heartbeat, deadline, releases.
        private readonly List<MigrationException> _stepErrors = [];
        private readonly List<MigrationException> _releaseErrors = [];
        private MigrationException? _heartbeatError;
        private int _appliedCount;

        public Run(IMigrationManager manager, MigrationRegistration[] registrations, MigrationConfig config, MigrationOptions options, CancellationToken callerToken)
        {
            _manager = manager;
            _logger = options.Logger ?? NullLogger.Instance;
            _registrations = ForDialect(registrations, manager, _logger);
            _config = config;
            _time = options.TimeProvider ?? TimeProvider.System;
            _services = options.Services ?? manager as IServiceProvider;
            _buildVersionOption = options.BuildVersion;
            _callerToken = callerToken;
            _deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(config.DeadlineMilliseconds), _time);
            _runSource = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _deadline.Token);
        }

        private CancellationToken RunToken => _runSource.Token;

        // Step 3: the run's deadline (in the constructor), then steps 4 to 10. Not an async method: a run whose steps all
        // complete synchronously (a start with nothing to do, on SQLite) compiles no state machine (issue 14).
        public Task ExecuteAsync()
        {
            var activity = Telemetry.StartRun(Telemetry.RunSpan, _registrations.Length);
            var started = 0L;
            Task<IReadOnlyList<PersistedStatus>?>? reading;
            try
            {
                started = _time.GetTimestamp();
                Log.RunStarting(_logger, _registrations.Length);
                reading = ReadWithoutLocks();
            }
            catch (Exception exception)
            {
                return Executed(activity, CompletedTasks.Failed(exception), started);
            }

            if (reading is not null)
            {
                if (!reading.IsCompleted)
                {
                    return ExecuteWhenReadAsync(activity, reading, started);
                }

                if (NothingToDo(reading))
                {
                    return Executed(activity, Task.CompletedTask, started);
                }
            }

            return ExecuteWithLocks(activity, started);
        }

        private async Task ExecuteWhenReadAsync(Telemetry.Span activity, Task<IReadOnlyList<PersistedStatus>?> reading, long started)
        {
            await ((Task)reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await (NothingToDo(reading) ? Executed(activity, Task.CompletedTask, started) : ExecuteWithLocks(activity, started)).ConfigureAwait(false);
        }

        /// <summary>Steps 4 to 10: the database lock, then the migration lock and the migrations.</summary>
        private Task ExecuteWithLocks(Telemetry.Span activity, long started)
        {
            Task<bool> dbLock;
            try
            {
                dbLock = RunDbLockPhaseAsync();
            }
            catch (Exception exception)
            {
                return Executed(activity, CompletedTasks.Failed(exception), started);
            }

            if (!dbLock.IsCompletedSuccessfully)
            {
                return ExecuteAsync(activity, dbLock, started);
            }

            var running = dbLock.Result ? Started(RunMigrationLockPhaseAsync) : Task.CompletedTask;
            return running.IsCompleted ? Executed(activity, running, started) : ExecutedAsync(activity, running, started);
        }

        private async Task ExecuteAsync(Telemetry.Span activity, Task<bool> dbLock, long started)
        {
            Task running;
            try
            {
                running = await dbLock.ConfigureAwait(false) ? Started(RunMigrationLockPhaseAsync) : Task.CompletedTask;
                await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception exception)
            {
                running = CompletedTasks.Failed(exception);
            }

            await Executed(activity, running, started).ConfigureAwait(false);
        }

        private async Task ExecutedAsync(Telemetry.Span activity, Task running, long started)
        {
            await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Executed(activity, running, started).ConfigureAwait(false);
        }

        /// <summary>The run's end once <paramref name="running"/> completed: its errors thrown (in the task), telemetry closed.</summary>
        private Task Executed(Telemetry.Span activity, Task running, long started)
        {
            using (activity)
            {
                try
                {
                    running.GetAwaiter().GetResult();
                    ThrowIfFailed(started, planning: false);
                }
                catch (Exception exception)
                {
                    Telemetry.RunFailed(activity, _appliedCount, exception);
                    return CompletedTasks.Failed(exception);
                }

                Telemetry.RunCompleted(activity, _appliedCount);
                return Task.CompletedTask;
            }
        }

        public async Task<MigrationPlan> PlanAsync()
        {
            using var activity = Telemetry.StartRun(Telemetry.PlanSpan, _registrations.Length);
            MigrationPlan? plan = null;
            try
            {
                var started = _time.GetTimestamp();
                if (_manager is IMigrationOperations operations)
                {
                    // Read-only: no database lock, nothing created or written (a missing table means nothing applied).
                    plan = await ListAndPlanAsync(operations).ConfigureAwait(false);
                }
                else if (await RunDbLockPhaseAsync().ConfigureAwait(false))
                {
                    plan = await ListAndPlanAsync().ConfigureAwait(false);
                }

                ThrowIfFailed(started, planning: true);
            }
            catch (Exception exception)
            {
                Telemetry.RunFailed(activity, 0, exception);
                throw;
            }

            Telemetry.RunCompleted(activity, 0);
            return plan!;
        }

        public void Dispose()
        {
            _runSource.Dispose();
            _deadline.Dispose();
        }

        private long ElapsedMilliseconds(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

        private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
