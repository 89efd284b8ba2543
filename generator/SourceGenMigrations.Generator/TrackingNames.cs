namespace SourceGenMigrations.Generator;

/// <summary>Names of the generator's pipeline steps, so tests can check that each one is cached.</summary>
internal static class TrackingNames
{
    /// <summary>One model (or null when the method is not accepted) per <c>[Migration]</c> method.</summary>
    public const string Migrations = nameof(Migrations);

    /// <summary>The accepted methods only.</summary>
    public const string AcceptedMigrations = nameof(AcceptedMigrations);

    /// <summary>All accepted methods, collected (compared by reference: never cached on its own).</summary>
    public const string CollectedMigrations = nameof(CollectedMigrations);

    /// <summary>The collected methods as a sorted equatable array: the table.</summary>
    public const string MigrationTable = nameof(MigrationTable);

    /// <summary>The MSBuild properties that choose the namespace.</summary>
    public const string NamespaceOptions = nameof(NamespaceOptions);

    /// <summary>For each metadata reference, whether it is the runtime library.</summary>
    public const string RuntimeReference = nameof(RuntimeReference);

    /// <summary>Whether the runtime library is referenced.</summary>
    public const string HasRuntime = nameof(HasRuntime);

    /// <summary>The compilation's assembly name (the namespace when no MSBuild property gives one).</summary>
    public const string AssemblyName = nameof(AssemblyName);

    /// <summary>The namespace of the generated class.</summary>
    public const string GeneratedNamespace = nameof(GeneratedNamespace);

    /// <summary>One model (or null when it is no migration) per <c>.sql</c> AdditionalFile.</summary>
    public const string SqlFiles = nameof(SqlFiles);

    /// <summary>The SQL files that are migrations.</summary>
    public const string AcceptedSqlFiles = nameof(AcceptedSqlFiles);

    /// <summary>Each SQL file's entry of the table (without its text).</summary>
    public const string SqlFileEntries = nameof(SqlFileEntries);

    /// <summary>The entries as a sorted equatable array.</summary>
    public const string SqlFileTable = nameof(SqlFileTable);

    /// <summary>The SQL files whose name is given more than once (emitted once, together).</summary>
    public const string DuplicatedSqlFiles = nameof(DuplicatedSqlFiles);

    /// <summary>The table together with its namespace: what the source output reads.</summary>
    public const string GenerationModel = nameof(GenerationModel);
}
