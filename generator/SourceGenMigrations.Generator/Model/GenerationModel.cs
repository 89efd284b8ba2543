namespace SourceGenMigrations.Generator.Model;

/// <summary>Everything the emitter reads: the sorted table and where to put it.</summary>
/// <param name="Namespace">The namespace of <c>GeneratedMigrations</c>, already valid C#; empty for the global namespace.</param>
/// <param name="Migrations">The accepted methods sorted by order, then full name (ordinal).</param>
/// <param name="HasRuntime">Whether the runtime library is referenced.</param>
/// <param name="SqlFiles">The SQL-file migrations sorted by order, then name (ordinal); their text is not here.</param>
internal sealed record GenerationModel(string Namespace, EquatableArray<MigrationMethodModel> Migrations, bool HasRuntime, EquatableArray<SqlTableEntry> SqlFiles);
