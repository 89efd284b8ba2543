namespace SourceGenMigrations.Hosting;

/// <summary>
/// What a host does with the migrations at start-up (<see cref="MigrationHostingOptions.Mode"/>, or the configuration
/// key <c>Migration:Mode</c>, which wins when set: <c>Apply</c>, <c>WaitForCompletion</c> or <c>Verify</c>, ignoring case).
/// </summary>
public enum MigrationHostingMode
{
    /// <summary>
    /// Migrate while the host starts (<see cref="Microsoft.Extensions.Hosting.IHostedLifecycleService.StartingAsync"/>),
    /// before any other service starts; replicas starting together queue for the lease. The default.
    /// </summary>
    Apply = 0,

    /// <summary>
    /// Never migrate: once the host has started, wait until every enabled migration of this build is <c>COMPLETED</c>
    /// by another runner (a Kubernetes Job, an init container, a replica in <see cref="Apply"/> mode), reading the
    /// statuses without the lease and without creating anything, bounded by the deadline. Readiness stays "not ready"
    /// meanwhile, while the process (and a liveness probe) is up. A <c>FAILED</c> migration is given a lease duration to be
    /// retried; when it stays <c>FAILED</c> with nobody holding the lease, or at the deadline, the wait fails and stops the
    /// host, whose <c>RunAsync</c> then throws the <see cref="MigrationException"/>. Needs a manager that implements
    /// <see cref="IMigrationOperations"/>.
    /// </summary>
    WaitForCompletion = 1,

    /// <summary>
    /// Never migrate: start only if the database is up to date with this build (a read-only plan); otherwise fail at
    /// once, before any other service starts, logging the plan (what a run would do).
    /// </summary>
    Verify = 2,
}
