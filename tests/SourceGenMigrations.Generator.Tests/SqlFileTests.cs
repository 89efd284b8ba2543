using Microsoft.CodeAnalysis;
using SourceGenMigrations.Generator;
using static SourceGenMigrations.Generator.Tests.IncrementalityTests;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>SQL-file migrations: the table entries, each file's own source, and what an edit re-generates.</summary>
public sealed class SqlFileTests
{
    private const string Methods = SnapshotTests.Usings + """
        namespace TestProject;

        public static class Migrations
        {
            [Migration(Order = 1)] public static Task First() => Task.CompletedTask;
            [Migration(Order = 3)] public static void Third(MigrationContext context) { }
        }
        """;

    private static InMemoryAdditionalText Sql(string path, string text) => new(path, text);

    private static readonly AdditionalText[] Files =
    [
        Sql("/project/Migrations/0002_create_users.sql", "\uFEFFCREATE TABLE users (id int, name text DEFAULT 'a \"quoted\" \\ name');\r\nINSERT INTO users VALUES (1, 'x');\r\n"),
        Sql("/project/Migrations/0004_add_index.postgresql.sql", "-- migration: no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n"),
        Sql("/project/Migrations/pg/0005_retired.sql", "-- migration: disabled\nDROP TABLE users;\n"),
        Sql("/project/Migrations/notes.sql", "SELECT 1;"),
        Sql("/project/Migrations/0006_empty.sql", "-- nothing here\n"),
    ];

    private static (GeneratorDriver Driver, Compilation Output) Generate(IEnumerable<AdditionalText> files, string methods = Methods)
    {
        var compilation = GeneratorHarness.CreateCompilation([methods]);
        var driver = GeneratorHarness.CreateDriver().AddAdditionalTexts([.. files]).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertNoDiagnostics(output.GetDiagnostics(), "the compilation with the generated sources");
        PipelineAssert.ModelHoldsNoCompilerObjects(driver.GetRunResult().Results.Single());
        return (driver, output);
    }

    private static string Source(GeneratorDriver driver, string hintNameStart) =>
        driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName.StartsWith(hintNameStart, StringComparison.Ordinal)).SourceText.ToString();

    [Fact]
    public void SqlFilesAndMethodsShareOneTable()
    {
        var (driver, _) = Generate(Files);
        var sources = driver.GetRunResult().Results.Single().GeneratedSources;

        // The table, then each file's own source, in hint-name order: one approved file shows them all.
        Snapshot.Match(string.Join("\n// ----\n", sources.OrderBy(s => s.HintName, StringComparer.Ordinal).Select(s => "// " + s.HintName + "\n" + GeneratorHarness.Scrub(s.SourceText.ToString()))));

        var table = GeneratedTable.Read(Source(driver, GeneratorHarness.HintName));
        Assert.Equal(
            [
                (1L, "TestProject.Migrations.First", true, true),
                (2L, "Migrations/0002_create_users.sql", true, true),
                (3L, "TestProject.Migrations.Third", true, true),
                (4L, "Migrations/0004_add_index.postgresql.sql", true, false),
                (5L, "Migrations/pg/0005_retired.sql", false, true),
            ],
            table.Select(e => (e.Order, e.Name, e.Enabled, e.Transactional)));

        // Not migrations (the analyzers report them): a name without the pattern, a file with no statement.
        Assert.Equal(4, sources.Length);
    }

    [Fact]
    public void TheSqlIsUtf8DataWithLineEndingsNormalisedAndTheChecksumIgnoresThem()
    {
        var (crlf, _) = Generate([Files[0]]);
        var (lf, _) = Generate([Sql(Files[0].Path, "CREATE TABLE users (id int, name text DEFAULT 'a \"quoted\" \\ name');   \nINSERT INTO users VALUES (1, 'x');\n\n")]);

        var crlfSource = Source(crlf, "GeneratedMigrations.Sql.");
        Assert.Contains("\"CREATE TABLE users (id int, name text DEFAULT 'a \\\"quoted\\\" \\\\ name');\\nINSERT INTO users VALUES (1, 'x');\\n\"u8", crlfSource, StringComparison.Ordinal);
        Assert.DoesNotContain("\\r", crlfSource, StringComparison.Ordinal);
        Assert.Equal(Checksum(crlfSource), Checksum(Source(lf, "GeneratedMigrations.Sql.")));
    }

    [Fact]
    public void AFileGivenTwiceCountsOnce()
    {
        var (driver, _) = Generate([Files[0], Sql(Files[0].Path, Files[0].GetText()!.ToString())]);

        Assert.Equal([1L, 2L, 3L], GeneratedTable.Read(Source(driver, GeneratorHarness.HintName)).Select(e => e.Order));
        Assert.Equal(2, driver.GetRunResult().Results.Single().GeneratedSources.Length);
    }

    [Fact]
    public void WithoutTheProjectDirectoryARelativePathIsTheNameAndAnAbsoluteOneItsFileName()
    {
        var properties = GeneratorHarness.DefaultProperties();
        properties.Remove("build_property.MSBuildProjectDirectory");
        var compilation = GeneratorHarness.CreateCompilation([Methods]);
        var driver = GeneratorHarness.CreateDriver(properties)
            .AddAdditionalTexts([Sql("Migrations/0002_a.sql", "SELECT 1;"), Sql("/elsewhere/0004_b.sql", "SELECT 1;")])
            .RunGenerators(compilation);

        Assert.Equal(
            ["TestProject.Migrations.First", "Migrations/0002_a.sql", "TestProject.Migrations.Third", "0004_b.sql"],
            GeneratedTable.Read(Source(driver, GeneratorHarness.HintName)).Select(e => e.Name));
    }

    [Fact]
    public void ALinkedFileIsNamedByItsLink()
    {
        var compilation = GeneratorHarness.CreateCompilation([Methods]);
        var metadata = new Dictionary<string, Dictionary<string, string>>
        {
            ["/shared/sql/0002_a.sql"] = new() { ["build_metadata.AdditionalFiles.Link"] = @"Migrations\0002_a.sql" },
        };
        var driver = GeneratorHarness.CreateDriver(fileMetadata: metadata)
            .AddAdditionalTexts([Sql("/shared/sql/0002_a.sql", "SELECT 1;")])
            .RunGenerators(compilation);

        Assert.Equal("Migrations/0002_a.sql", GeneratedTable.Read(Source(driver, GeneratorHarness.HintName)).Single(e => e.Order == 2).Name);
    }

    [Fact]
    public void EditingOneFileReEmitsOnlyThatFile()
    {
        var (driver, _) = Generate(Files);
        var compilation = GeneratorHarness.CreateCompilation([Methods]);
        driver = driver.ReplaceAdditionalText(Files[0], Sql(Files[0].Path, "CREATE TABLE users (id bigint);\n")).RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        // The edited file's model is Modified, the others Cached; its entry of the table is the same, so the table is cached.
        Assert.Equal(1, PipelineAssert.Reasons(result, TrackingNames.SqlFiles).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Contains(IncrementalStepRunReason.Unchanged, PipelineAssert.Reasons(result, TrackingNames.SqlFileEntries));
        Assert.All(PipelineAssert.Reasons(result, TrackingNames.SqlFileTable), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(PipelineAssert.Reasons(result, TrackingNames.GenerationModel), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Equal(1, PipelineAssert.OutputReasons(result).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Contains("CREATE TABLE users (id bigint);", Source(driver, "GeneratedMigrations.Sql.Migrations_0002"), StringComparison.Ordinal);
    }

    [Fact]
    public void AddingOrRemovingAFileReEmitsThatFileAndTheTableOnly()
    {
        var (driver, _) = Generate(Files);
        var compilation = GeneratorHarness.CreateCompilation([Methods]);
        var added = Sql("/project/Migrations/0007_more.sql", "SELECT 7;");
        driver = driver.AddAdditionalTexts([added]).RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        Assert.Equal(1, PipelineAssert.Reasons(result, TrackingNames.SqlFiles).Count(r => r == IncrementalStepRunReason.New));
        Assert.DoesNotContain(IncrementalStepRunReason.Modified, PipelineAssert.Reasons(result, TrackingNames.SqlFiles));
        Assert.Contains(IncrementalStepRunReason.Modified, PipelineAssert.Reasons(result, TrackingNames.SqlFileTable));
        Assert.Equal(
            [IncrementalStepRunReason.New, IncrementalStepRunReason.Modified],
            PipelineAssert.OutputReasons(result).Where(r => r != IncrementalStepRunReason.Cached).Order());
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 7L], GeneratedTable.Read(Source(driver, GeneratorHarness.HintName)).Select(e => e.Order));

        driver = driver.RemoveAdditionalTexts([Files[1]]).RunGenerators(compilation);
        result = driver.GetRunResult().Results.Single();
        Assert.Equal(1, PipelineAssert.Reasons(result, TrackingNames.SqlFiles).Count(r => r == IncrementalStepRunReason.Removed));
        Assert.DoesNotContain(PipelineAssert.Reasons(result, TrackingNames.SqlFiles), r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
        Assert.Equal([1L, 2L, 3L, 5L, 7L], GeneratedTable.Read(Source(driver, GeneratorHarness.HintName)).Select(e => e.Order));
        Assert.Equal(4, result.GeneratedSources.Length);
    }

    [Fact]
    public void EditingACSharpFileLeavesTheSqlPartCached()
    {
        var (driver, _) = Generate(Files);
        var edited = GeneratorHarness.CreateCompilation([Methods.Replace("Order = 3", "Order = 30", StringComparison.Ordinal)]);
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in new[] { TrackingNames.SqlFiles, TrackingNames.AcceptedSqlFiles, TrackingNames.SqlFileEntries, TrackingNames.SqlFileTable })
        {
            Assert.All(PipelineAssert.Reasons(result, step), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        }

        // Only the table's source changes; the three SQL files' sources (and the empty output of duplicated files) are cached.
        Assert.Equal(1, PipelineAssert.OutputReasons(result).Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(4, PipelineAssert.OutputReasons(result).Count(r => r == IncrementalStepRunReason.Cached));
    }

    private static string Checksum(string source)
    {
        const string marker = "Checksum = \"";
        var start = source.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return source[start..source.IndexOf('"', start)];
    }
}
