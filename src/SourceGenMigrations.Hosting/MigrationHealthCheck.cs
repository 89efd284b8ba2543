using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SourceGenMigrations.Hosting;

/// <summary>
/// A readiness check over the <see cref="MigrationStatusTracker"/>: healthy once the start-up run completed (or, in
/// <see cref="MigrationHostingMode.WaitForCompletion"/>, once another runner completed the migrations), the registration's
/// failure status (default <see cref="HealthStatus.Unhealthy"/>) while it is pending, running or waiting, and
/// <see cref="HealthStatus.Unhealthy"/> with the error after a failure.
/// </summary>
/// <param name="tracker">The host's migration status.</param>
public sealed class MigrationHealthCheck(MigrationStatusTracker tracker) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var snapshot = tracker.Current;
        var notReady = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        var result = snapshot.State switch
        {
            MigrationRunState.Completed => HealthCheckResult.Healthy("Migrations completed."),
            MigrationRunState.Running => new HealthCheckResult(notReady, "Migrations are running."),
            MigrationRunState.Waiting => new HealthCheckResult(notReady, $"Waiting for another runner to complete the migrations: {snapshot.Detail}."),
            MigrationRunState.Failed => HealthCheckResult.Unhealthy($"Migrations failed: {snapshot.Error?.Message}", snapshot.Error),
            _ => new HealthCheckResult(notReady, "Migrations have not started yet."),
        };
        return Task.FromResult(result);
    }
}

/// <summary>Registers the <see cref="MigrationHealthCheck"/>.</summary>
public static class MigrationHealthChecksBuilderExtensions
{
    /// <summary>The check's default name: <c>migrations</c>.</summary>
    public const string DefaultName = "migrations";

    /// <summary>The check's default tag, for a readiness endpoint's predicate: <c>ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds the readiness check of the start-up migration run (see <see cref="MigrationHealthCheck"/>). Use it with
    /// <see cref="MigrationServiceCollectionExtensions.AddMigrations"/>; without it the check stays not ready.
    /// </summary>
    /// <param name="builder">From <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">Reported while the run is pending or running (default <see cref="HealthStatus.Unhealthy"/>); a failed run is always unhealthy.</param>
    /// <param name="tags">The check's tags; null means <c>["ready"]</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddMigrationsHealthCheck(this IHealthChecksBuilder builder, string name = DefaultName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<MigrationStatusTracker>();
        return builder.Add(new HealthCheckRegistration(
            name,
            static serviceProvider => new MigrationHealthCheck(serviceProvider.GetRequiredService<MigrationStatusTracker>()),
            failureStatus,
            tags ?? [ReadyTag]));
    }
}
