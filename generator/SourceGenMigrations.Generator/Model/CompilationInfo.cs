namespace SourceGenMigrations.Generator.Model;

/// <summary>What the generator needs from the compilation itself.</summary>
/// <param name="AssemblyName">The assembly name: the namespace when no MSBuild property gives one.</param>
/// <param name="HasRuntime">Whether the runtime library (<c>MigrationRegistration</c>) is referenced; without it nothing is emitted.</param>
internal sealed record CompilationInfo(string? AssemblyName, bool HasRuntime);
