namespace SourceGenMigrations;

/// <summary>Runs a table of migrations against an <see cref="IMigrationManager"/>.</summary>
public static partial class MigrationRunner
{
    /// <summary>Runs the migrations (implementation in progress).</summary>
    public static Task RunAsync(IMigrationManager manager, IReadOnlyList<MigrationRegistration> registrations, MigrationOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}
