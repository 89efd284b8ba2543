using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SourceGenMigrations;

/// <summary>What a run would do with one registration.</summary>
public enum MigrationAction
{
    /// <summary>The migration would run: it has no persisted status, or <c>PENDING</c>, <c>STARTED</c> or <c>FAILED</c>.</summary>
    Run = 0,

    /// <summary>Skipped: persisted <c>COMPLETED</c>.</summary>
    SkipCompleted = 1,

    /// <summary>Skipped: the registration is disabled.</summary>
    SkipDisabled = 2,
}

/// <summary>One registration of a <see cref="MigrationPlan"/>.</summary>
public sealed partial class MigrationPlanEntry
{
    internal MigrationPlanEntry(MigrationRegistration registration, PersistedStatus? persisted, MigrationAction action)
    {
        Registration = registration;
        PersistedStatus = persisted?.Status;
        AppliedBy = persisted?.AppliedBy;
        UpdatedAt = persisted?.UpdatedAt;
        Action = action;
    }

    /// <summary>The migration's order.</summary>
    public long Order => Registration.Order;

    /// <summary>The migration's name (<see cref="MigrationRegistration.DisplayName"/>).</summary>
    public string Name => Registration.DisplayName;

    /// <summary>Whether the registration is enabled.</summary>
    public bool Enabled => Registration.Enabled;

    /// <summary>The persisted status, or null when the migration never started.</summary>
    public MigrationStatus? PersistedStatus { get; }

    /// <summary>Who wrote the persisted status last (<see cref="SourceGenMigrations.PersistedStatus.AppliedBy"/>), when the manager told.</summary>
    public string? AppliedBy { get; }

    /// <summary>When the persisted status was written last, when the manager told.</summary>
    public DateTimeOffset? UpdatedAt { get; }

    /// <summary>What a run would do.</summary>
    public MigrationAction Action { get; }

    internal MigrationRegistration Registration { get; }

    /// <summary>The status the migration sees as <see cref="MigrationContext.PreviousStatus"/> when it runs.</summary>
    internal MigrationStatus PreviousStatus => PersistedStatus ?? MigrationStatus.Pending;
}

/// <summary>
/// What <see cref="MigrationRunner.RunAsync"/> would do now: the result of <see cref="MigrationRunner.PlanAsync"/>, which
/// reads the persisted statuses without taking the migration lock and without running anything (and, on a manager that
/// implements <see cref="IMigrationOperations"/>, without creating or writing anything). Use it for a status command or
/// a readiness check; <see cref="ToString"/> is a table for people.
/// </summary>
public sealed partial class MigrationPlan
{
    private MigrationPlan(IReadOnlyList<MigrationPlanEntry> entries, IReadOnlyList<long> unknownPersistedOrders, IReadOnlyList<long> newerPersistedOrders, long? latestCompletedOrder, IReadOnlyList<MigrationException> errors)
    {
        Entries = entries;
        UnknownPersistedOrders = unknownPersistedOrders;
        NewerPersistedOrders = newerPersistedOrders;
        LatestCompletedOrder = latestCompletedOrder;
        Errors = errors;
        Error = errors.Count == 0 ? null : MigrationException.Combine(errors);
        foreach (var entry in entries)
        {
            if (entry.Action == MigrationAction.Run)
            {
                RunCount++;
            }
        }
    }

    /// <summary>One entry per registration, in ascending order.</summary>
    public IReadOnlyList<MigrationPlanEntry> Entries { get; }

    /// <summary>
    /// Persisted orders that match no registration, ascending: a run stops on them, except, with
    /// <see cref="MigrationConfig.AllowNewerMigrations"/>, on those in <see cref="NewerPersistedOrders"/>.
    /// </summary>
    public IReadOnlyList<long> UnknownPersistedOrders { get; }

    /// <summary>
    /// With <see cref="MigrationConfig.AllowNewerMigrations"/>: the unknown persisted orders above the highest registered
    /// order (a newer build applied them), which a run tolerates (with a warning) unless one of them breaks older
    /// builds; empty otherwise.
    /// </summary>
    public IReadOnlyList<long> NewerPersistedOrders { get; }

    /// <summary>The highest order of an enabled migration persisted as <c>COMPLETED</c>, or null.</summary>
    public long? LatestCompletedOrder { get; }

    /// <summary>
    /// The error a run would raise before running anything (unknown persisted orders, a migration out of order), or
    /// null when a run can proceed.
    /// </summary>
    public MigrationException? Error { get; }

    /// <summary>How many migrations a run would run.</summary>
    public int RunCount { get; }

    /// <summary>No error and nothing to run: the database is migrated.</summary>
    public bool IsUpToDate => Error is null && RunCount == 0;

    internal IReadOnlyList<MigrationException> Errors { get; }

    /// <summary>The persisted statuses behind <see cref="UnknownPersistedOrders"/> (for the plan's table).</summary>
    internal IReadOnlyList<PersistedStatus> UnknownStatuses { get; private init; } = [];

    /// <summary>Checks persisted statuses (step 7): each valid, no order twice.</summary>
    /// <returns>The statuses in ascending order: the list itself when it is sorted already (both shipped managers list
    /// them so), otherwise a sorted copy.</returns>
    /// <exception cref="MigrationException">A status is invalid or an order appears twice; the message names the order.</exception>
    internal static IReadOnlyList<PersistedStatus> CheckStatuses(IReadOnlyList<PersistedStatus> statuses)
    {
        var sorted = true;
        for (var i = 0; i < statuses.Count; i++)
        {
            var status = statuses[i];
            if (status.Order < 0 || !MigrationStatusText.IsDefined(status.Status))
            {
                ThrowInvalid(status);
            }

            sorted &= i == 0 || statuses[i - 1].Order < status.Order;
        }

        // The rare paths live in methods of their own: a start compiles only what it runs (issue 14).
        var ascending = sorted ? statuses : SortedCopy(statuses);
        for (var i = 1; i < ascending.Count; i++)
        {
            if (ascending[i].Order == ascending[i - 1].Order)
            {
                ThrowTwice(ascending[i].Order);
            }
        }

        return ascending;
    }

    private static PersistedStatus[] SortedCopy(IReadOnlyList<PersistedStatus> statuses)
    {
        var copy = statuses.ToArray();
        Array.Sort(copy, static (left, right) => left.Order.CompareTo(right.Order));
        return copy;
    }

    [DoesNotReturn]
    private static void ThrowInvalid(PersistedStatus status) =>
        throw new MigrationException(
            $"the persisted status with order {Format(status.Order)} is invalid",
            status.Order,
            new InvalidDataException($"A persisted status needs an order of zero or more and a status of {MigrationStatusText.Pending}, {MigrationStatusText.Started}, {MigrationStatusText.Failed} or {MigrationStatusText.Completed}; found order {Format(status.Order)} with status {((int)status.Status).ToString(CultureInfo.InvariantCulture)}."));

    [DoesNotReturn]
    private static void ThrowTwice(long order) =>
        throw new MigrationException($"found two persisted statuses with order {Format(order)}", order, innerException: null);

    /// <summary>
    /// Whether <paramref name="statuses"/> are exactly the enabled registrations, in ascending order, each
    /// <c>COMPLETED</c>, with the registration's checksum where it has one: a start with nothing to do, decided without
    /// building a plan (issue 14). Narrower than <see cref="Create"/>: whatever else (an unknown order, a disabled
    /// migration with a status, a stored checksum missing or different, an unsorted list) answers false and is left to
    /// <see cref="CheckStatuses"/> and <see cref="Create"/>; when it answers true, they find the same (a test holds them to it).
    /// </summary>
    /// <param name="sortedRegistrations">The registrations, ascending, unique orders.</param>
    /// <param name="statuses">The persisted statuses as listed.</param>
    /// <param name="enabledCount">The number of enabled registrations, when the answer is true.</param>
    internal static bool IsEveryEnabledCompleted(MigrationRegistration[] sortedRegistrations, IReadOnlyList<PersistedStatus> statuses, out int enabledCount)
    {
        enabledCount = 0;
        var next = 0;
        foreach (var registration in sortedRegistrations)
        {
            if (!registration.Enabled)
            {
                if (next < statuses.Count && statuses[next].Order == registration.Order)
                {
                    return false;
                }

                continue;
            }

            if (next >= statuses.Count)
            {
                return false;
            }

            var status = statuses[next++];
            if (status.Order != registration.Order || status.Status != MigrationStatus.Completed
                || (registration.Checksum is { } checksum && !string.Equals(checksum, status.Checksum, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }

            enabledCount++;
        }

        return next == statuses.Count;
    }

    /// <summary>Walks the registrations against the persisted statuses (step 8), both ascending with unique orders.</summary>
    /// <param name="sortedRegistrations">The registrations, ascending, unique orders.</param>
    /// <param name="sortedStatuses">The statuses from <see cref="CheckStatuses"/>.</param>
    /// <param name="allowNewerMigrations"><see cref="MigrationConfig.AllowNewerMigrations"/>.</param>
    internal static MigrationPlan Create(MigrationRegistration[] sortedRegistrations, IReadOnlyList<PersistedStatus> sortedStatuses, bool allowNewerMigrations = false)
    {
        // One merge walk of the two sorted lists: no index to build on every start.
        var entries = new MigrationPlanEntry[sortedRegistrations.Length];
        List<PersistedStatus>? unknown = null;
        long? latestCompleted = null;
        List<MigrationRegistration>? changed = null;
        var next = 0;
        for (var i = 0; i < sortedRegistrations.Length; i++)
        {
            var registration = sortedRegistrations[i];
            for (; next < sortedStatuses.Count && sortedStatuses[next].Order < registration.Order; next++)
            {
                (unknown ??= []).Add(sortedStatuses[next]);
            }

            // A disabled registration claims its persisted order too: it is no longer unknown.
            PersistedStatus? persisted = null;
            if (next < sortedStatuses.Count && sortedStatuses[next].Order == registration.Order)
            {
                persisted = sortedStatuses[next];
                next++;
            }

            var status = persisted?.Status;

            MigrationAction action;
            if (!registration.Enabled)
            {
                action = MigrationAction.SkipDisabled;
            }
            else if (status == MigrationStatus.Completed)
            {
                action = MigrationAction.SkipCompleted;
                latestCompleted = registration.Order;
                if (registration.Checksum is { } checksum && persisted!.Value.Checksum is { } stored
                    && !string.Equals(checksum, stored, StringComparison.OrdinalIgnoreCase))
                {
                    (changed ??= []).Add(registration);
                }
            }
            else
            {
                action = MigrationAction.Run;
            }

            entries[i] = new MigrationPlanEntry(registration, persisted, action);
        }

        for (; next < sortedStatuses.Count; next++)
        {
            (unknown ??= []).Add(sortedStatuses[next]);
        }

        var errors = new List<MigrationException>();
        if (changed is not null)
        {
            errors.Add(ChangedFilesError(changed));
        }

        // Newer migrations a newer build completed count as completed for the order: this build applies nothing below them.
        long[] newer = [];
        var latestApplied = latestCompleted;
        if (unknown is not null)
        {
            newer = CheckUnknown(unknown, sortedRegistrations, allowNewerMigrations, errors);
            latestApplied = LatestApplied(latestCompleted, newer, unknown);
        }

        foreach (var entry in entries)
        {
            if (entry.Action == MigrationAction.Run && entry.Order < latestApplied)
            {
                errors.Add(OutOfOrderError(entry.Order, latestApplied.Value));
                break;
            }
        }

        return unknown is null
            ? new MigrationPlan(entries, [], newer, latestCompleted, errors)
            : new MigrationPlan(entries, unknown.Select(static s => s.Order).ToArray(), newer, latestCompleted, errors) { UnknownStatuses = unknown };
    }

    private static MigrationException OutOfOrderError(long order, long latestApplied) =>
        new($"cannot run migrations out of order (found {Format(order)} but latest completed is {Format(latestApplied)})", order, innerException: null);

    private static MigrationException ChangedFilesError(List<MigrationRegistration> changed)
    {
        var names = string.Join(", ", changed.Select(static r => $"{Format(r.Order)} ({r.DisplayName})"));
        return new MigrationException(
            $"found completed SQL migration(s) whose file changed since they ran: {names}",
            new InvalidDataException(
                $"The content of {names} differs from what ran on this database (the checksum stored with its COMPLETED status). A completed migration never runs again, so the edit would never reach this database: put the file back as it was, and add a new migration instead. Nothing was run."));
    }

    /// <summary>Persisted orders that match no registration: errors, except those above the highest known when allowed.</summary>
    /// <returns>The newer orders tolerated (none unless <paramref name="allowNewerMigrations"/>).</returns>
    private static long[] CheckUnknown(List<PersistedStatus> unknown, MigrationRegistration[] sortedRegistrations, bool allowNewerMigrations, List<MigrationException> errors)
    {
        // Orders above the highest this build knows were applied by a newer build: tolerated when allowed.
        var highestKnown = sortedRegistrations.Length == 0 ? -1 : sortedRegistrations[^1].Order;
        var above = unknown.Where(s => s.Order > highestKnown).ToList();
        var reported = allowNewerMigrations ? unknown.Where(s => s.Order <= highestKnown).ToList() : unknown;
        if (reported.Count > 0)
        {
            errors.Add(new MigrationException(
                $"found persisted migration(s) that are not in the registry: {string.Join(", ", reported.Select(static s => Format(s.Order)))}",
                UnknownCause(reported, above, highestKnown, allowNewerMigrations)));
        }

        if (!allowNewerMigrations || above.Count == 0)
        {
            return [];
        }

        var breaking = above.Where(static s => s.BreaksOlderBuilds && s.Status != MigrationStatus.Pending).ToList();
        if (breaking.Count == 0)
        {
            return above.Select(static s => s.Order).ToArray();
        }

        errors.Add(new MigrationException(
            $"found persisted migration(s) that break older builds: {string.Join(", ", breaking.Select(Describe))}",
            new InvalidOperationException(
                $"A newer build applied {string.Join(", ", breaking.Select(Describe))}, marked BreaksOlderBuilds: this build (whose highest migration is {Format(highestKnown)}) cannot run against the database any more, even with {MigrationConfig.AllowNewerMigrationsVariable}=true. Deploy the newer build.")));
        return [];
    }

    private static long? LatestApplied(long? latestCompleted, long[] newer, List<PersistedStatus> unknown)
    {
        var latestApplied = latestCompleted;
        for (var i = 0; i < newer.Length; i++)
        {
            var order = newer[i];
            if (unknown.Exists(s => s.Order == order && s.Status == MigrationStatus.Completed) && !(order < latestApplied))
            {
                latestApplied = order;
            }
        }

        return latestApplied;
    }

    /// <summary>Why persisted orders are unknown, and what to do about the ones a newer build applied.</summary>
    private static InvalidDataException UnknownCause(List<PersistedStatus> reported, List<PersistedStatus> above, long highestKnown, bool allowNewerMigrations)
    {
        var text = $"The status table has migration(s) {string.Join(", ", reported.Select(Describe))} that this build does not have (its highest order is {Format(highestKnown)}): a migration was removed or renumbered, or a newer build migrated this database.";
        if (!allowNewerMigrations && above.Count > 0)
        {
            text += $" To let this build start beside a newer one (a rolling deployment, a rollback), set {MigrationConfig.AllowNewerMigrationsVariable}=true: orders above {Format(highestKnown)} are then tolerated.";
        }

        return new InvalidDataException(text);
    }

    private static string Describe(PersistedStatus status) => status.Name is { } name ? $"{Format(status.Order)} ({name})" : Format(status.Order);

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
