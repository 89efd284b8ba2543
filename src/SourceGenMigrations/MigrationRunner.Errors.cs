using System.Diagnostics.CodeAnalysis;

namespace SourceGenMigrations;

public static partial class MigrationRunner
{
    // Step 10: the errors collected on the way, reported together in a fixed order when the run ends.
    private sealed partial class Run
    {
        private void AddStepError(string message, Exception? cause, long? order = null) => AddStepErrors([new MigrationException(message, order, cause)]);

        /// <summary>The error a failed step just recorded (for telemetry).</summary>
        private MigrationException LastStepError()
        {
            lock (_stepErrors)
            {
                return _stepErrors.Count == 0 ? new MigrationException() : _stepErrors[^1];
            }
        }

        private void AddStepErrors(IEnumerable<MigrationException> errors)
        {
            lock (_stepErrors)
            {
                _stepErrors.AddRange(errors);
            }
        }

        private void ThrowIfFailed(long started, bool planning)
        {
            // The usual end, no error: the collecting and combining below is not even compiled (issue 14).
            if (HasErrors())
            {
                ThrowFailure(started, planning);
            }

            var elapsed = ElapsedMilliseconds(started);
            if (planning)
            {
                Log.PlanMade(_logger, elapsed);
            }
            else
            {
                Log.RunCompleted(_logger, _appliedCount, elapsed);
            }
        }

        private bool HasErrors()
        {
            if (Volatile.Read(ref _heartbeatError) is not null)
            {
                return true;
            }

            lock (_stepErrors)
            {
                if (_stepErrors.Count > 0)
                {
                    return true;
                }
            }

            lock (_releaseErrors)
            {
                return _releaseErrors.Count > 0;
            }
        }

        [DoesNotReturn]
        private void ThrowFailure(long started, bool planning)
        {
            var errors = new List<MigrationException>();
            lock (_stepErrors)
            {
                errors.AddRange(_stepErrors);
            }

            if (Volatile.Read(ref _heartbeatError) is { } heartbeatError)
            {
                errors.Add(heartbeatError);
            }

            if (errors.Count > 0 && _deadline.IsCancellationRequested && !_callerToken.IsCancellationRequested)
            {
                var deadline = Format(_config.DeadlineMilliseconds);
                errors.Add(new MigrationException(
                    $"the migration deadline of {deadline} ms expired",
                    new TimeoutException($"The migration run did not finish within {deadline} ms; raise {MigrationConfig.DeadlineVariable} if it needs longer.")));
            }

            lock (_releaseErrors)
            {
                errors.AddRange(_releaseErrors);
            }

            var elapsed = ElapsedMilliseconds(started);
            var failure = MigrationException.Combine(errors);
            Log.RunFailed(_logger, planning ? "plan" : "run", elapsed, failure.Message);
            if (_callerToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The migration run was cancelled.", failure, _callerToken);
            }

            throw failure;
        }
    }
}
