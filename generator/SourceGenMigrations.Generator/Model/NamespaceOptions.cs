namespace SourceGenMigrations.Generator.Model;

/// <summary>The MSBuild properties (through <c>CompilerVisibleProperty</c>) that choose the generated namespace.</summary>
/// <param name="SourceGenMigrationsNamespace">The override; null when the property is not visible to the compiler.</param>
/// <param name="RootNamespace">The project's root namespace; null when the property is not visible to the compiler.</param>
internal sealed record NamespaceOptions(string? SourceGenMigrationsNamespace, string? RootNamespace);
