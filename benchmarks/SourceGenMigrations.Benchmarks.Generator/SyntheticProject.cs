using System.Globalization;
using System.Text;

namespace SourceGenMigrations.Benchmarks.Generator;

/// <summary>Source of a synthetic project: <c>count</c> migrations, 100 per class and file, every accepted shape.</summary>
public static class SyntheticProject
{
    public const int MigrationsPerFile = 100;

    private static readonly string[] Shapes =
    [
        "public static Task M{0}(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;",
        "public static Task M{0}(CancellationToken cancellationToken) => Task.CompletedTask;",
        "public static ValueTask M{0}() => default;",
        "public static void M{0}(MigrationContext context) {{ }}",
    ];

    /// <summary>The files of the project, each a (name, text) pair.</summary>
    public static IReadOnlyList<(string Name, string Text)> Files(int count)
    {
        var files = new List<(string, string)>();
        for (var file = 0; file * MigrationsPerFile < count; file++)
        {
            var builder = new StringBuilder();
            builder.Append("using System.Threading;\nusing System.Threading.Tasks;\nusing SourceGenMigrations;\n\n");
            builder.Append(CultureInfo.InvariantCulture, $"namespace Synthetic.Area{file % 10};\n\npublic static class Migrations{file}\n{{\n");
            for (var i = file * MigrationsPerFile; i < Math.Min(count, (file + 1) * MigrationsPerFile); i++)
            {
                var order = (i + 1).ToString(CultureInfo.InvariantCulture);
                builder.Append(CultureInfo.InvariantCulture, $"    [Migration(Order = {order}{(i % 50 == 0 ? ", Enabled = false" : string.Empty)})]\n");
                builder.Append("    ").Append(string.Format(CultureInfo.InvariantCulture, Shapes[i % Shapes.Length], order)).Append('\n');
            }

            builder.Append("\n    public static int Helper() => 1;\n}\n");
            files.Add(($"Migrations{file}.cs", builder.ToString()));
        }

        files.Add(("Unrelated.cs", "namespace Synthetic;\n\npublic static class Unrelated\n{\n    public static int Value() => 1;\n}\n"));
        return files;
    }
}
