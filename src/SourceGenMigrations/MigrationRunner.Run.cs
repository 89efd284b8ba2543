using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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

        // Step 3: the run's deadline (in the constructor), then steps 4 to 10.
        public async Task ExecuteAsync()
        {
            using var activity = Telemetry.StartRun(Telemetry.RunSpan, _registrations.Length);
            try
            {
                var started = _time.GetTimestamp();
                Log.RunStarting(_logger, _registrations.Length);
                if (await RunDbLockPhaseAsync().ConfigureAwait(false))
                {
                    await RunMigrationLockPhaseAsync().ConfigureAwait(false);
                }

                ThrowIfFailed(started, planning: false);
            }
            catch (Exception exception)
            {
                Telemetry.RunFailed(activity, _appliedCount, exception);
                throw;
            }

            Telemetry.RunCompleted(activity, _appliedCount);
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
