using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>
/// A consumer project in a temporary folder, outside the repository (so none of its Directory.*.props apply), that
/// references the runtime library and the analyzers exactly as a user's project in this repository would. Restored
/// once; each build reuses the projects the test run already built (<c>BuildProjectReferences=false</c>) and leaves no
/// build server behind.
/// </summary>
public class ConsumerProject : IDisposable
{
    /// <summary>
    /// Roslyn components the consumer loads, relative to the repository root (this test project references them, so
    /// they are built before the test runs).
    /// </summary>
    private static readonly string[] AnalyzerProjects =
    [
        "analyzers/SourceGenMigrations.Analyzers/SourceGenMigrations.Analyzers.csproj",
        "generator/SourceGenMigrations.Generator/SourceGenMigrations.Generator.csproj",
    ];

    /// <summary>Runs the generated table against a small in-memory manager and prints what ran.</summary>
    private const string ProgramSource = """
        using SourceGenMigrations;

        System.Console.WriteLine("registered: " + string.Join(", ", App.GeneratedMigrations.Registrations.Select(r => $"{r.Order}={r.Name}{(r.Enabled ? "" : " (disabled)")}")));
        await App.GeneratedMigrations.RunAsync(new MemoryManager());
        System.Console.WriteLine("consumer ran");

        sealed class MemoryManager : IMigrationManager
        {
            private readonly Dictionary<long, MigrationStatus> _statuses = new();
            public Task AcquireDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken) =>
                Task.FromResult<IReadOnlyList<PersistedStatus>>(_statuses.Select(s => new PersistedStatus(s.Key, s.Value)).ToList());
            public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken)
            {
                _statuses[order] = status;
                return Task.CompletedTask;
            }
            public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    private const string RuntimeProject = "src/SourceGenMigrations/SourceGenMigrations.csproj";

    /// <summary>The code fixes, loaded too when the consumer is formatted (the package carries them beside the analyzers).</summary>
    private const string CodeFixesProject = "analyzers/SourceGenMigrations.CodeFixes/SourceGenMigrations.CodeFixes.csproj";

    public ConsumerProject()
        : this(withCodeFixes: false)
    {
    }

    /// <param name="withCodeFixes">Whether the code fixes are analyzer references too (for <c>dotnet format</c>).</param>
    protected ConsumerProject(bool withCodeFixes)
    {
        Directory = Path.Combine(Path.GetTempPath(), "sgm-e2e-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);

        // The references are built in this test assembly's configuration, whatever the command (dotnet format has no -c).
        var analyzers = string.Concat(AnalyzerProjects.Concat(withCodeFixes ? [CodeFixesProject] : []).Select(p =>
            $"""    <ProjectReference Include="{Path.Combine(RepositoryPaths.Root, p)}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" AdditionalProperties="Configuration={Configuration}" />{"\n"}"""));
        File.WriteAllText(ProjectPath, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{Path.Combine(RepositoryPaths.Root, "src/SourceGenMigrations/buildTransitive/SourceGenMigrations.props")}" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <RootNamespace>App</RootNamespace>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <SourceGenMigrationsSqlFiles>true</SourceGenMigrationsSqlFiles>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Path.Combine(RepositoryPaths.Root, RuntimeProject)}" AdditionalProperties="Configuration={Configuration}" />
            {analyzers}  </ItemGroup>
              <ItemGroup>
                <AdditionalFiles Include="Migrations.Shipped.txt" Condition="Exists('Migrations.Shipped.txt')" />
              </ItemGroup>
              <Import Project="{Path.Combine(RepositoryPaths.Root, "src/SourceGenMigrations/buildTransitive/SourceGenMigrations.targets")}" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(Directory, "Program.cs"), ProgramSource);

        var restore = Dotnet("restore", Path.GetFileName(ProjectPath), "-nodeReuse:false", "-v:minimal");
        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException("Restoring the consumer failed:\n" + restore.Output);
        }
    }

    public string Directory { get; }

    public string ProjectPath => Path.Combine(Directory, "Consumer.csproj");

    /// <summary>The configuration this test assembly was built in: the referenced projects' outputs are there.</summary>
    protected static string Configuration =>
        typeof(ConsumerProject).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>Writes <c>Migrations.cs</c> (always afresh, so the compiler runs again) and the optional <c>.editorconfig</c>.</summary>
    public string WriteSources(string migrations, string? editorConfig = null)
    {
        var path = Path.Combine(Directory, "Migrations.cs");
        File.WriteAllText(path, migrations);
        var editorConfigPath = Path.Combine(Directory, ".editorconfig");
        if (editorConfig is null)
        {
            File.Delete(editorConfigPath);
        }
        else
        {
            File.WriteAllText(editorConfigPath, editorConfig);
        }

        return path;
    }

    /// <summary>Writes <paramref name="name"/> (a path relative to the project folder), or deletes it when <paramref name="content"/> is null.</summary>
    public string WriteFile(string name, string? content)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (content is null)
        {
            File.Delete(path);
        }
        else
        {
            File.WriteAllText(path, content);
        }

        return path;
    }

    public (int ExitCode, string Output) Build() => Dotnet(
        "build", Path.GetFileName(ProjectPath), "--no-restore", "-c", Configuration,
        "-nodeReuse:false", "-p:UseSharedCompilation=false", "-p:BuildProjectReferences=false", "-v:minimal");

    /// <summary>Runs the consumer built by <see cref="Build"/>.</summary>
    public (int ExitCode, string Output) Run() =>
        Dotnet(Path.Combine(Directory, "bin", Configuration, "net10.0", "Consumer.dll"));

    protected (int ExitCode, string Output) Dotnet(params string[] arguments) => DotnetCli.Run(Directory, arguments);

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The analyzers in a real <c>dotnet build</c>: errors at the right file, line and column; .editorconfig severities.</summary>
public sealed class MSBuildEndToEndTests(ConsumerProject consumer) : IClassFixture<ConsumerProject>
{
    private const string Header = """
        using SourceGenMigrations;

        namespace App;

        """;

    [Fact]
    public void Valid_migrations_build_without_any_SGM_diagnostic_and_run()
    {
        consumer.WriteSources(Header + """
            public static class Migrations
            {
                [Migration(Order = 1)]
                public static Task CreateUsers(MigrationContext context, CancellationToken cancellationToken)
                {
                    System.Console.WriteLine("ran CreateUsers");
                    return Task.CompletedTask;
                }

                [Migration(Order = 2, Enabled = false)]
                public static Task OldBackfill(CancellationToken cancellationToken)
                {
                    System.Console.WriteLine("ran OldBackfill");
                    return Task.CompletedTask;
                }
            }
            """);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("SGM0", output, StringComparison.Ordinal);

        // The generator ran in the same build: the table holds both methods and RunAsync runs the enabled one.
        var (runExitCode, runOutput) = consumer.Run();
        Assert.True(runExitCode == 0, runOutput);
        Assert.Contains("registered: 1=App.Migrations.CreateUsers, 2=App.Migrations.OldBackfill (disabled)", runOutput, StringComparison.Ordinal);
        Assert.Contains("ran CreateUsers", runOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("ran OldBackfill", runOutput, StringComparison.Ordinal);
        Assert.Contains("consumer ran", runOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_order_fails_the_build_with_SGM001_at_each_order_argument()
    {
        var source = Header + """
            public static class Migrations
            {
                [Migration(Order = 1)]
                public static Task CreateUsers(CancellationToken cancellationToken) => Task.CompletedTask;

                [Migration(Enabled = false, Order = 1)]
                public static Task OldBackfill(CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """;
        var path = consumer.WriteSources(source);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        var (line1, column1) = PositionOf(source, "Order = 1", occurrence: 0);
        var (line2, column2) = PositionOf(source, "Order = 1", occurrence: 1);
        Assert.Contains(
            $"{path}({line1},{column1}): error SGM001: Migration order 1 of 'App.Migrations.CreateUsers' is also used by 'App.Migrations.OldBackfill'",
            output,
            StringComparison.Ordinal);
        Assert.Contains(
            $"{path}({line2},{column2}): error SGM001: Migration order 1 of 'App.Migrations.OldBackfill' is also used by 'App.Migrations.CreateUsers'",
            output,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Async_void_is_a_build_error_by_default()
    {
        var source = Header + """
            public static class Migrations
            {
                [Migration(Order = 1)]
                public static async void FireAndForget() => await Task.Yield();
            }
            """;
        var path = consumer.WriteSources(source);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode != 0, "the build should fail:\n" + output);
        var (line, column) = PositionOf(source, "FireAndForget", occurrence: 0);
        Assert.Contains($"{path}({line},{column}): error SGM006:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning SGM006", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Editorconfig_severity_warning_lowers_SGM006_to_a_warning()
    {
        var source = Header + """
            public static class Migrations
            {
                [Migration(Order = 1)]
                public static async void FireAndForget() => await Task.Yield();
            }
            """;
        var path = consumer.WriteSources(source, editorConfig: """
            root = true

            [*.cs]
            dotnet_diagnostic.SGM006.severity = warning
            """);

        var (exitCode, output) = consumer.Build();

        Assert.True(exitCode == 0, output);
        var (line, column) = PositionOf(source, "FireAndForget", occurrence: 0);
        Assert.Contains($"{path}({line},{column}): warning SGM006:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("error SGM006", output, StringComparison.Ordinal);
    }

    /// <summary>1-based line and column of the <paramref name="occurrence"/>-th (0-based) <paramref name="text"/>.</summary>
    internal static (int Line, int Column) PositionOf(string source, string text, int occurrence)
    {
        var index = -1;
        for (var i = 0; i <= occurrence; i++)
        {
            index = source.IndexOf(text, index + 1, StringComparison.Ordinal);
            Assert.True(index >= 0, $"'{text}' #{occurrence} not in the source");
        }

        var before = source[..index];
        var line = before.Count(c => c == '\n') + 1;
        var column = index - (before.LastIndexOf('\n') + 1) + 1;
        return (line, column);
    }
}
