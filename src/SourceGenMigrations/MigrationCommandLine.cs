using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SourceGenMigrations;

/// <summary>
/// The exit codes of <see cref="MigrationCommandLine.RunAsync"/>, for a Kubernetes Job, an init container or a script.
/// </summary>
public static class MigrationExitCodes
{
    /// <summary>The command did what it was asked: migrated, printed the status of a database a run would not fail on, released the lease (or found none).</summary>
    public const int Success = 0;

    /// <summary>The command failed: a migration failed, a run would fail, the database could not be read, a live lease was not released without <c>--force</c>. One line on stderr says why.</summary>
    public const int Failed = 1;

    /// <summary>The arguments were not understood (an unknown command or option); the usage is printed on stderr.</summary>
    public const int UsageError = 2;

    /// <summary>The run's deadline (<see cref="MigrationConfig.DeadlineMilliseconds"/>) expired: for example it waited that long for the lease another runner held.</summary>
    public const int DeadlineExceeded = 3;

    /// <summary>The command was cancelled: Ctrl-C (SIGINT), SIGTERM (how Kubernetes stops a pod) or the caller's token. Locks were released.</summary>
    public const int Cancelled = 130;
}

/// <summary>
/// A migration command inside the service's own binary (what EF Core bundles and goose give, NativeAOT-clean): the
/// verbs <c>migrate</c>, <c>status</c> and <c>unlock</c> from the application's arguments, with exit codes a Job can
/// use (<see cref="MigrationExitCodes"/>), one-line errors on stderr, and Ctrl-C and SIGTERM honoured.
/// </summary>
/// <example>
/// <code>
/// if (MigrationCommandLine.IsCommand(args))
/// {
///     return await MigrationCommandLine.RunAsync(args, () => new SqliteMigrationManager("Data Source=app.db"), GeneratedMigrations.Registrations);
/// }
/// </code>
/// In a Generic Host application, <c>host.RunMigrationCommandAsync(args)</c> (SourceGenMigrations.Hosting) does the
/// same with the host's manager factory, configuration and logging.
/// </example>
public static class MigrationCommandLine
{
    /// <summary>Applies every migration that has not completed (<see cref="MigrationRunner.RunAsync"/>).</summary>
    public const string MigrateCommand = "migrate";

    /// <summary>Prints each migration's status and what a run would do (<see cref="MigrationRunner.PlanAsync"/>; reads only), and the lease.</summary>
    public const string StatusCommand = "status";

    /// <summary>Shows the migration lease and releases it: an expired one at once, a live one only with <c>--force</c>.</summary>
    public const string UnlockCommand = "unlock";

    /// <summary>Whether <paramref name="args"/> starts with one of the commands (<c>migrate</c>, <c>status</c>, <c>unlock</c>).</summary>
    public static bool IsCommand(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Count > 0 && args[0] is MigrateCommand or StatusCommand or UnlockCommand;
    }

    /// <summary>The usage text (what <c>--help</c> prints).</summary>
    /// <param name="programName">The program's name as the user types it.</param>
    public static string Usage(string programName) =>
        $"""
        usage: {programName} <command> [options]
        commands:
          migrate                               apply every migration that has not completed; waits while another runner holds the lease
          status                                show each migration's status and what a run would do (reads only), and the lease
          unlock [--force] [--holder <owner>]   release the migration lease: an expired one at once, a live one only with --force;
                                                --holder releases it only while that owner holds it
        exit codes: 0 done, 1 failed, 2 usage error, 3 the deadline expired, 130 cancelled (Ctrl-C, SIGTERM)
        """;

    /// <summary>
    /// Runs the command in <paramref name="args"/>: <c>migrate</c>, <c>status</c> or <c>unlock [--force] [--holder &lt;owner id&gt;]</c>
    /// (or <c>--help</c>). Never throws for what happens in the command: the outcome is the exit code, with one line on
    /// stderr when it is not <see cref="MigrationExitCodes.Success"/>.
    /// </summary>
    /// <param name="args">The command and its options, for example the application's <c>args</c>.</param>
    /// <param name="managerFactory">Creates the manager, once the arguments are understood (a usage error opens no database).</param>
    /// <param name="registrations">The migrations, usually <c>GeneratedMigrations.Registrations</c>.</param>
    /// <param name="options">Where the run's configuration, log and output go; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the command (as Ctrl-C does).</param>
    /// <returns>One of <see cref="MigrationExitCodes"/>.</returns>
    /// <remarks>
    /// <para><c>migrate</c> runs <see cref="MigrationRunner.RunAsync"/>. <c>status</c> prints <see cref="MigrationPlan.ToString"/>
    /// and a line about the lease, and fails when a run would fail. <c>unlock</c> needs a manager implementing
    /// <see cref="IMigrationOperations"/>: it prints the lease (holder, since, until, live or expired by the database's
    /// clock) and releases it only while the holder it read still holds it; releasing a live lease needs <c>--force</c>
    /// and is logged as a warning. That is safe: the runner that held it can no longer commit a migration (its status
    /// writes are fenced by the lease), and it stops at its next heartbeat.</para>
    /// <para>Signals: the first SIGINT (Ctrl-C) or SIGTERM cancels the command, which then releases its locks and
    /// returns <see cref="MigrationExitCodes.Cancelled"/>; a second one ends the process at once. NativeAOT-safe: no reflection.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="args"/>, <paramref name="managerFactory"/> or <paramref name="registrations"/> is null.</exception>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        Func<IMigrationManager> managerFactory,
        IReadOnlyList<MigrationRegistration> registrations,
        MigrationCommandLineOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(managerFactory);
        ArgumentNullException.ThrowIfNull(registrations);
        options ??= new MigrationCommandLineOptions();
        var output = options.Output ?? Console.Out;
        var error = options.Error ?? Console.Error;
        var program = options.ProgramName ?? Assembly.GetEntryAssembly()?.GetName().Name ?? "app";

        if (!Command.TryParse(args, out var command, out var usageError))
        {
            await error.WriteLineAsync("error: " + usageError).ConfigureAwait(false);
            await error.WriteAsync(Usage(program)).ConfigureAwait(false);
            await error.WriteLineAsync().ConfigureAwait(false);
            return MigrationExitCodes.UsageError;
        }

        if (command.Help)
        {
            await output.WriteAsync(Usage(program)).ConfigureAwait(false);
            await output.WriteLineAsync().ConfigureAwait(false);
            return MigrationExitCodes.Success;
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = options.HandleSignals ? new SignalCancellation(cancellation) : null;
        IMigrationManager? manager = null;
        try
        {
            try
            {
                manager = managerFactory() ?? throw new InvalidOperationException("The migration manager factory returned null.");
            }
            catch (Exception exception)
            {
                throw new MigrationException("failed to create the migration manager", exception);
            }

            // Read after the factory ran, so that a factory may set it (services that include the manager it made).
            var runOptions = options.RunOptions ?? new MigrationOptions();
            var logger = runOptions.Logger ?? NullLogger.Instance;
            return command.Verb switch
            {
                MigrateCommand => await MigrateAsync(manager, registrations, runOptions, cancellation.Token).ConfigureAwait(false),
                StatusCommand => await StatusAsync(manager, registrations, runOptions, output, error, cancellation.Token).ConfigureAwait(false),
                _ => await UnlockAsync(manager, command, logger, output, error, cancellation.Token).ConfigureAwait(false),
            };
        }
        catch (OperationCanceledException exception) when (cancellation.IsCancellationRequested)
        {
            var reason = signals?.Signal is { } signal ? signal.ToString() : "cancelled by the caller";
            var errors = exception.InnerException is { } inner ? ": " + Describe(inner) : "";
            await error.WriteLineAsync($"error: cancelled ({reason}){errors}").ConfigureAwait(false);
            return MigrationExitCodes.Cancelled;
        }
        catch (Exception exception)
        {
            await error.WriteLineAsync("error: " + Describe(exception)).ConfigureAwait(false);
            return IsDeadline(exception) ? MigrationExitCodes.DeadlineExceeded : MigrationExitCodes.Failed;
        }
        finally
        {
            if (manager is not null && options.DisposeManager)
            {
                await DisposeManagerAsync(manager).ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> MigrateAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions runOptions, CancellationToken cancellationToken)
    {
        await MigrationRunner.RunAsync(manager, registrations, runOptions, cancellationToken).ConfigureAwait(false);
        return MigrationExitCodes.Success;
    }

    private static async Task<int> StatusAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions runOptions, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var plan = await MigrationRunner.PlanAsync(manager, registrations, runOptions, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(plan.ToString()).ConfigureAwait(false);
        if (manager is IMigrationOperations operations)
        {
            var lease = await operations.ReadLeaseAsync(cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync("migration lease: " + (lease?.ToString() ?? "none")).ConfigureAwait(false);
        }

        if (plan.Error is { } planError)
        {
            await error.WriteLineAsync("error: a run would fail: " + Describe(planError)).ConfigureAwait(false);
            return MigrationExitCodes.Failed;
        }

        return MigrationExitCodes.Success;
    }

    private static async Task<int> UnlockAsync(IMigrationManager manager, Command command, ILogger logger, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (manager is not IMigrationOperations operations)
        {
            await error.WriteLineAsync($"error: {manager.GetType().Name} cannot read or release the lease: it does not implement {nameof(IMigrationOperations)}").ConfigureAwait(false);
            return MigrationExitCodes.Failed;
        }

        var lease = await operations.ReadLeaseAsync(cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            await output.WriteLineAsync("migration lease: none (nothing to release)").ConfigureAwait(false);
            return MigrationExitCodes.Success;
        }

        await output.WriteLineAsync("migration lease: " + lease).ConfigureAwait(false);
        if (command.Holder is { } holder && !string.Equals(holder, lease.OwnerId, StringComparison.Ordinal))
        {
            await error.WriteLineAsync($"error: the migration lease is held by {lease.OwnerId}, not by {holder}: nothing released").ConfigureAwait(false);
            return MigrationExitCodes.Failed;
        }

        var live = !lease.IsExpired;
        if (live && !command.Force)
        {
            await error.WriteLineAsync(
                $"error: the migration lease is live (held by {lease.OwnerId} until {MigrationLease.Time(lease.ExpiresAt)}): a runner may be migrating. Pass --force to release it anyway; that runner then can no longer commit a migration and stops at its next heartbeat").ConfigureAwait(false);
            return MigrationExitCodes.Failed;
        }

        // Only while the holder just shown still holds it: a lease that changed hands meanwhile is not someone's to take.
        var released = await operations.ForceReleaseLeaseAsync(lease.OwnerId, cancellationToken).ConfigureAwait(false);
        if (released is null)
        {
            await error.WriteLineAsync($"error: the migration lease changed hands while it was being released (it is no longer held by {lease.OwnerId}): nothing released; run unlock again").ConfigureAwait(false);
            return MigrationExitCodes.Failed;
        }

        var leaseText = released.ToString();
        if (!released.IsExpired)
        {
            Log.LiveLeaseReleasedByForce(logger, leaseText);
            await output.WriteLineAsync($"released the live migration lease of {released.OwnerId} (--force): it can no longer commit a migration").ConfigureAwait(false);
        }
        else
        {
            Log.ExpiredLeaseReleased(logger, leaseText);
            await output.WriteLineAsync($"released the expired migration lease of {released.OwnerId}").ConfigureAwait(false);
        }

        return MigrationExitCodes.Success;
    }

    /// <summary>
    /// The exception as one line: a <see cref="MigrationException"/>'s own message ("step: cause"); any other, each
    /// message of the chain once ("message: cause: cause"); several errors of one run joined with <c> | </c>.
    /// </summary>
    internal static string Describe(Exception exception)
    {
        if (exception is MigrationException migration && migration.InnerException is not AggregateException { InnerExceptions.Count: > 1 })
        {
            return MigrationPlan.OneLine(migration.Message);
        }

        var parts = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current.InnerException is AggregateException { InnerExceptions.Count: > 1 } several && current is MigrationException or AggregateException)
            {
                // MigrationException.Combine: its own message lists the inner ones, which say more.
                parts.Add(string.Join(" | ", several.InnerExceptions.Select(Describe)));
                break;
            }

            if (current is AggregateException)
            {
                continue;
            }

            var message = MigrationPlan.OneLine(current.Message);
            if (parts.Count == 0 || !parts[^1].Contains(message, StringComparison.Ordinal))
            {
                parts.Add(message);
            }
        }

        return string.Join(": ", parts);
    }

    private static bool IsDeadline(Exception exception) => exception switch
    {
        TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsDeadline),
        _ => exception.InnerException is { } inner && IsDeadline(inner),
    };

    /// <summary>Disposes a manager made for one command or run (<see cref="IAsyncDisposable"/> first, else <see cref="IDisposable"/>).</summary>
    internal static async ValueTask DisposeManagerAsync(IMigrationManager manager)
    {
        switch (manager)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>The parsed arguments.</summary>
    private readonly record struct Command(string Verb, bool Force, string? Holder, bool Help)
    {
        public static bool TryParse(IReadOnlyList<string> args, out Command command, out string usageError)
        {
            command = default;
            usageError = "";
            if (args.Count == 0)
            {
                usageError = "no command given";
                return false;
            }

            var verb = args[0];
            if (verb is "-h" or "--help" or "help")
            {
                command = new Command(verb, false, null, Help: true);
                return true;
            }

            if (verb is not (MigrateCommand or StatusCommand or UnlockCommand))
            {
                usageError = $"unknown command '{verb}'";
                return false;
            }

            var force = false;
            string? holder = null;
            for (var i = 1; i < args.Count; i++)
            {
                switch (args[i])
                {
                    case "-h" or "--help":
                        command = new Command(verb, false, null, Help: true);
                        return true;
                    case "--force" when verb == UnlockCommand:
                        force = true;
                        break;
                    case "--holder" when verb == UnlockCommand:
                        if (i + 1 == args.Count || string.IsNullOrWhiteSpace(args[i + 1]))
                        {
                            usageError = "--holder needs the lease holder's owner id";
                            return false;
                        }

                        holder = args[++i];
                        break;
                    default:
                        usageError = string.Create(CultureInfo.InvariantCulture, $"unknown option '{args[i]}' for '{verb}'");
                        return false;
                }
            }

            command = new Command(verb, force, holder, Help: false);
            return true;
        }
    }

    /// <summary>
    /// Turns the first SIGINT or SIGTERM into a cancellation (so the command releases its locks and exits with
    /// <see cref="MigrationExitCodes.Cancelled"/>); a second one keeps its default effect and ends the process.
    /// </summary>
    private sealed class SignalCancellation : IDisposable
    {
        private readonly CancellationTokenSource _cancellation;
        private readonly List<PosixSignalRegistration> _registrations = [];
        private int _signal;

        public SignalCancellation(CancellationTokenSource cancellation)
        {
            _cancellation = cancellation;
            foreach (var signal in (ReadOnlySpan<PosixSignal>)[PosixSignal.SIGINT, PosixSignal.SIGTERM])
            {
                try
                {
                    _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
                }
                catch (PlatformNotSupportedException)
                {
                    // Where a signal does not exist there is nothing to honour.
                }
            }
        }

        public PosixSignal? Signal => Volatile.Read(ref _signal) is 0 and var none ? null : (PosixSignal)Volatile.Read(ref _signal);

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }
        }

        private void Handle(PosixSignalContext context)
        {
            if (Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0) != 0)
            {
                return;
            }

            context.Cancel = true;
            try
            {
                _cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The command ended as the signal arrived.
            }
        }
    }
}

/// <summary>Settings of <see cref="MigrationCommandLine.RunAsync"/>.</summary>
public sealed class MigrationCommandLineOptions
{
    /// <summary>
    /// The run's configuration source, logger, clock, services and build version (<see cref="MigrationRunner.RunAsync"/>
    /// and <see cref="MigrationRunner.PlanAsync"/>); null means the defaults (the <c>MIGRATION_*</c> variables, no log).
    /// Read once the manager factory has run, so the factory may set it.
    /// </summary>
    public MigrationOptions? RunOptions { get; set; }

    /// <summary>Where the status table and the lease go; null means <see cref="Console.Out"/>.</summary>
    public TextWriter? Output { get; set; }

    /// <summary>Where the one-line errors and the usage go; null means <see cref="Console.Error"/>.</summary>
    public TextWriter? Error { get; set; }

    /// <summary>Whether SIGINT (Ctrl-C) and SIGTERM cancel the command (default true). Turn it off where the application handles them itself.</summary>
    public bool HandleSignals { get; set; } = true;

    /// <summary>Whether the manager is disposed after the command when it is disposable (default true: the factory made it for the command).</summary>
    public bool DisposeManager { get; set; } = true;

    /// <summary>The program's name in the usage text; null means the entry assembly's name.</summary>
    public string? ProgramName { get; set; }
}
