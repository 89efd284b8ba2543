using System.Globalization;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations;

/// <summary>
/// Runs a table of migrations against an <see cref="IMigrationManager"/>, safely from many replicas at once: a
/// database lock while the data stores are created, a migration lock kept alive by a heartbeat, persisted statuses,
/// retries of unfinished migrations, errors on unknown or out-of-order ones, and a deadline.
/// </summary>
/// <remarks>Services usually call the generated <c>GeneratedMigrations.RunAsync(manager)</c>, which calls this with the generated table.</remarks>
public static partial class MigrationRunner
{
    /// <summary>Runs every enabled migration that has not completed yet, in ascending order.</summary>
    /// <param name="manager">Stores statuses and coordinates runners (SQLite, PostgreSQL or your own).</param>
    /// <param name="registrations">The migrations; orders must be unique, disabled ones included.</param>
    /// <param name="options">Configuration source, logger, services and clock; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the run. Locks are still released, each within its unlock deadline.</param>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/>, <paramref name="registrations"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentException">Two registrations share an order.</exception>
    /// <exception cref="MigrationException">The run failed; the message is "&lt;step&gt;: &lt;innermost cause&gt;" (several joined with "; "), the cause is inside.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the run's errors, if any, are inside.</exception>
    public static Task RunAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Not an async method: a run that completes synchronously (a start with nothing to do, on SQLite) compiles no
        // state machine here. Every failure still comes back in the task, as from an async method.
        Run run;
        try
        {
            ArgumentNullException.ThrowIfNull(manager);
            var sorted = SortAndCheck(registrations);
            options ??= new MigrationOptions();
            var config = GetConfig(options.ConfigProvider);
            cancellationToken.ThrowIfCancellationRequested();
            run = new Run(manager, sorted, config, options, cancellationToken);
        }
        catch (Exception exception)
        {
            return CompletedTasks.Failed(exception);
        }

        return CompletedTasks.DisposeWhenDone(run, run.ExecuteAsync());
    }

    /// <summary>
    /// Tells what <see cref="RunAsync"/> would do now, without running anything: steps 1 to 3, 7 and 8 of a run
    /// (arguments, configuration, deadline, the persisted statuses, the walk). The migration lock is not taken, so it
    /// answers while another runner migrates.
    /// </summary>
    /// <remarks>
    /// <para><b>Read-only</b> when the manager implements <see cref="IMigrationOperations"/> (the shipped managers do):
    /// the statuses are read with <see cref="IMigrationOperations.ReadStatusesAsync"/>, no database lock is taken and
    /// nothing is created or written; a database, schema or table that does not exist means nothing was applied (every
    /// enabled migration would run). With any other manager it takes step 4 as a run does (the database lock while the
    /// data stores are ensured), then lists the statuses.</para>
    /// <para><b>Errors.</b> What a run would stop on once it has read the statuses (unknown persisted orders, a migration
    /// out of order, a newer migration that breaks older builds) comes back in <see cref="MigrationPlan.Error"/>, not
    /// thrown: that is the plan's answer. What stops the plan itself is thrown, as <see cref="RunAsync"/> throws it: a
    /// bad configuration (<c>failed to get the migration configuration</c>, before the manager is touched, because the
    /// configuration decides what a run would do, for example <see cref="MigrationConfig.AllowNewerMigrations"/>), a
    /// database that cannot be read, an invalid persisted status.</para>
    /// </remarks>
    /// <inheritdoc cref="RunAsync" path="/param"/>
    /// <returns>One entry per registration with its persisted status and action.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/>, <paramref name="registrations"/> or one of its entries is null.</exception>
    /// <exception cref="ArgumentException">Two registrations share an order.</exception>
    /// <exception cref="MigrationException">A step failed (configuration, reading the statuses, an invalid persisted status; without
    /// <see cref="IMigrationOperations"/> also the database lock and the data stores).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MigrationPlan> PlanAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var sorted = SortAndCheck(registrations);
        options ??= new MigrationOptions();
        var config = GetConfig(options.ConfigProvider);
        cancellationToken.ThrowIfCancellationRequested();

        using var run = new Run(manager, sorted, config, options, cancellationToken);
        return await run.PlanAsync().ConfigureAwait(false);
    }

    // Step 1: the arguments, checked before the manager is touched.
    private static MigrationRegistration[] SortAndCheck(IReadOnlyList<MigrationRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        var sorted = new MigrationRegistration[registrations.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = registrations[i] ?? throw NullRegistration(i, nameof(registrations));
        }

        // The generated table is sorted already: one pass tells, and saves the sort on every service start.
        if (!IsSortedByOrder(sorted))
        {
            Array.Sort(sorted, static (left, right) => left.Order.CompareTo(right.Order));
        }

        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Order == sorted[i - 1].Order)
            {
                throw SharedOrder(sorted[i - 1], sorted[i], nameof(registrations));
            }
        }

        return sorted;
    }

    // The messages are built apart from the checks: a start compiles only what it runs (issue 14).
    private static ArgumentNullException NullRegistration(int index, string paramName) =>
        new(paramName, $"The registration at index {index.ToString(CultureInfo.InvariantCulture)} is null.");

    private static ArgumentException SharedOrder(MigrationRegistration first, MigrationRegistration second, string paramName) =>
        new($"Two registrations share the order {second.Order.ToString(CultureInfo.InvariantCulture)}: '{first.DisplayName}' and '{second.DisplayName}'. Orders must be unique, disabled registrations included.", paramName);

    /// <summary>
    /// The registrations the manager's database runs: those for every database, and those written for its
    /// <see cref="IMigrationSqlDialect.SqlDialect"/> (none of those when the manager names no dialect). The array itself when
    /// no registration names a database (the usual table: no copy).
    /// </summary>
    private static MigrationRegistration[] ForDialect(MigrationRegistration[] sorted, IMigrationManager manager, Microsoft.Extensions.Logging.ILogger logger)
    {
        var any = false;
        for (var i = 0; i < sorted.Length && !any; i++)
        {
            any = sorted[i].SqlDialect is not null;
        }

        if (!any)
        {
            return sorted;
        }

        var dialect = (manager as IMigrationSqlDialect)?.SqlDialect;
        var kept = new List<MigrationRegistration>(sorted.Length);
        foreach (var registration in sorted)
        {
            if (registration.SqlDialect is null || string.Equals(registration.SqlDialect, dialect, StringComparison.OrdinalIgnoreCase))
            {
                kept.Add(registration);
            }
            else
            {
                Log.SkippedOtherDatabase(logger, registration.Order, registration.DisplayName, registration.SqlDialect, dialect ?? "unknown");
            }
        }

        return kept.ToArray();
    }

    private static bool IsSortedByOrder(MigrationRegistration[] registrations)
    {
        for (var i = 1; i < registrations.Length; i++)
        {
            if (registrations[i].Order < registrations[i - 1].Order)
            {
                return false;
            }
        }

        return true;
    }

    // Step 2: the configuration, read and validated before the manager is touched.
    private static MigrationConfig GetConfig(Func<MigrationConfig>? provider)
    {
        try
        {
            if (provider is null)
            {
                // Read and checked already (most starts: nothing set, the defaults).
                return MigrationConfig.FromEnvironment();
            }

            var config = provider()
                ?? throw new InvalidOperationException($"The {nameof(MigrationOptions.ConfigProvider)} returned null.");
            config.Validate();
            return config;
        }
        catch (Exception exception)
        {
            throw new MigrationException("failed to get the migration configuration", exception);
        }
    }
}
