namespace SourceGenMigrations.Analyzers.Tests;

internal static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries holding <c>SourceGenMigrations.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SourceGenMigrations.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("SourceGenMigrations.sln not found above " + AppContext.BaseDirectory);
    }
}
