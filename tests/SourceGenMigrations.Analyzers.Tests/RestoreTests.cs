namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>A newcomer's first command (README: <c>dotnet run --project samples/…</c>) restores the code fixes: no warning.</summary>
public sealed class RestoreTests
{
    [Fact]
    public void Restoring_the_code_fixes_prints_no_warning()
    {
        // After the test build this restore is a no-op, and a no-op restore replays the warnings stored in
        // project.assets.json (NU1603 among them): nothing is rewritten under the projects being tested.
        var (exitCode, output) = DotnetCli.Run(
            RepositoryPaths.Root,
            "restore", Path.Combine("analyzers", "SourceGenMigrations.CodeFixes", "SourceGenMigrations.CodeFixes.csproj"), "-nodeReuse:false", "-v:minimal");

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("warning", output, StringComparison.OrdinalIgnoreCase);
    }
}
