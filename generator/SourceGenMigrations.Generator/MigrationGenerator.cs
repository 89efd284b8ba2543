using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenMigrations.Generator.Model;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Generator;

/// <summary>
/// Collects every <c>[Migration]</c> method of the compilation into the generated <c>GeneratedMigrations</c> class: a
/// sorted <c>Registrations</c> table and <c>RunAsync</c>. Methods the analyzers report are left out; the generator
/// itself reports nothing.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class MigrationGenerator : IIncrementalGenerator
{
    private const string RuntimeAssemblyName = "SourceGenMigrations";
    private const string SourceGenMigrationsNamespaceProperty = "build_property.SourceGenMigrationsNamespace";
    private const string RootNamespaceProperty = "build_property.RootNamespace";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var table = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.MigrationAttributeMetadataName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (attributeContext, cancellationToken) => Parser.Parse(attributeContext, cancellationToken))
            .WithTrackingName(TrackingNames.Migrations)
            .Where(static migration => migration is not null)
            .WithTrackingName(TrackingNames.AcceptedMigrations)
            .Collect()
            .WithTrackingName(TrackingNames.CollectedMigrations)
            .Select(static (migrations, cancellationToken) => Sort(migrations!, cancellationToken))
            .WithTrackingName(TrackingNames.MigrationTable);

        var namespaceOptions = context.AnalyzerConfigOptionsProvider
            .Select(static (provider, _) => new NamespaceOptions(
                provider.GlobalOptions.TryGetValue(SourceGenMigrationsNamespaceProperty, out var overrideNamespace) ? overrideNamespace : null,
                provider.GlobalOptions.TryGetValue(RootNamespaceProperty, out var rootNamespace) ? rootNamespace : null))
            .WithTrackingName(TrackingNames.NamespaceOptions);

        // Whether the runtime library is referenced, from the references alone: unlike the compilation, they are the same
        // objects from one edit to the next, so this step stays cached while the user types (a lookup of a type on the
        // compilation ran on every keystroke).
        var hasRuntime = context.MetadataReferencesProvider
            .Select(static (reference, _) => IsRuntimeReference(reference))
            .WithTrackingName(TrackingNames.RuntimeReference)
            .Collect()
            .Select(static (isRuntime, _) => isRuntime.Contains(true))
            .WithTrackingName(TrackingNames.HasRuntime);

        // The assembly name, only for a namespace when no MSBuild property gives one: a property read, whose equal value
        // leaves everything after it cached.
        var assemblyName = context.CompilationProvider
            .Select(static (compilation, _) => compilation.AssemblyName)
            .WithTrackingName(TrackingNames.AssemblyName);

        var generatedNamespace = namespaceOptions
            .Combine(assemblyName)
            .Select(static (pair, _) => Parser.GetNamespace(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.GeneratedNamespace);

        // SQL-file migrations: each .sql AdditionalFile parsed on its own (an edit re-parses that file only), its text
        // emitted into a source of its own; the table takes only each file's entry, which an edit of the SQL leaves equal.
        // The options give the project directory and each file's Link; they change only when the configuration does.
        var sqlFiles = context.AdditionalTextsProvider
            .Where(static text => SqlMigrationFile.IsSqlFile(text.Path))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, cancellationToken) => Parser.ParseSqlFile(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(TrackingNames.SqlFiles)
            .Where(static file => file is not null)
            .WithTrackingName(TrackingNames.AcceptedSqlFiles);

        var sqlTable = sqlFiles
            .Select(static (file, _) => file!.Entry)
            .WithTrackingName(TrackingNames.SqlFileEntries)
            .Collect()
            .Select(static (entries, cancellationToken) => SortSqlFiles(entries, cancellationToken))
            .WithTrackingName(TrackingNames.SqlFileTable);

        var model = table
            .Combine(sqlTable)
            .Combine(generatedNamespace)
            .Combine(hasRuntime)
            .Select(static (pair, _) => new GenerationModel(pair.Left.Right, pair.Left.Left.Left, pair.Right, pair.Left.Left.Right))
            .WithTrackingName(TrackingNames.GenerationModel);

        context.RegisterSourceOutput(model, static (productionContext, generation) =>
        {
            // Without the runtime library the generated code could not compile: emit nothing rather than errors.
            if (!generation.HasRuntime)
            {
                return;
            }

            productionContext.AddSource(Emitter.HintName, Emitter.Emit(generation));
        });

        // A file given twice (the same path in two AdditionalFiles items) counts once: its source is emitted once, from
        // here, instead of from each of its items (two sources with one hint name would fail the generator). Usually empty,
        // so the per-file outputs below stay cached.
        var duplicatedSqlFiles = sqlFiles
            .Collect()
            .Select(static (files, cancellationToken) => FindDuplicates(files!, cancellationToken))
            .WithTrackingName(TrackingNames.DuplicatedSqlFiles);

        context.RegisterSourceOutput(sqlFiles.Combine(duplicatedSqlFiles).Combine(generatedNamespace).Combine(hasRuntime), static (productionContext, pair) =>
        {
            var file = pair.Left.Left.Left!;
            if (pair.Right && !IsDuplicated(pair.Left.Left.Right, file))
            {
                productionContext.AddSource(Emitter.SqlHintName(file.Entry), Emitter.EmitSqlFile(file, pair.Left.Right));
            }
        });

        context.RegisterSourceOutput(duplicatedSqlFiles.Combine(generatedNamespace).Combine(hasRuntime), static (productionContext, pair) =>
        {
            if (pair.Right)
            {
                foreach (var file in pair.Left.Left)
                {
                    productionContext.AddSource(Emitter.SqlHintName(file.Entry), Emitter.EmitSqlFile(file, pair.Left.Right));
                }
            }
        });
    }

    /// <summary>One file for each name given more than once (the first in the items' order); empty when every name is unique.</summary>
    internal static EquatableArray<SqlFileModel> FindDuplicates(System.Collections.Immutable.ImmutableArray<SqlFileModel> files, System.Threading.CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var seen = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        System.Collections.Generic.List<SqlFileModel>? duplicated = null;
        var reported = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!seen.Add(file.Entry.Identifier) && reported.Add(file.Entry.Identifier))
            {
                (duplicated ??= new()).Add(files.First(f => f.Entry.Identifier == file.Entry.Identifier));
            }
        }

        return duplicated is null ? EquatableArray<SqlFileModel>.Empty : new EquatableArray<SqlFileModel>(duplicated.ToArray());
    }

    private static bool IsDuplicated(EquatableArray<SqlFileModel> duplicated, SqlFileModel file)
    {
        for (var i = 0; i < duplicated.Count; i++)
        {
            if (duplicated[i].Entry.Identifier == file.Entry.Identifier)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sorts SQL files by order, then name (ordinal); a file given twice counts once.</summary>
    internal static EquatableArray<SqlTableEntry> SortSqlFiles(System.Collections.Immutable.ImmutableArray<SqlTableEntry> entries, System.Threading.CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (entries.IsDefaultOrEmpty)
        {
            return EquatableArray<SqlTableEntry>.Empty;
        }

        var sorted = new System.Collections.Generic.List<SqlTableEntry>(entries);
        sorted.Sort(static (left, right) =>
        {
            var result = left.Order.CompareTo(right.Order);
            return result != 0 ? result : string.CompareOrdinal(left.Name, right.Name);
        });

        for (var i = sorted.Count - 1; i > 0; i--)
        {
            if (sorted[i].Equals(sorted[i - 1]))
            {
                sorted.RemoveAt(i);
            }
        }

        return new EquatableArray<SqlTableEntry>(sorted.ToArray());
    }

    /// <summary>
    /// Whether <paramref name="reference"/> is the runtime library: a project reference to it (the IDE's compilation
    /// reference) or its assembly file, by name.
    /// </summary>
    internal static bool IsRuntimeReference(MetadataReference reference) => reference switch
    {
        CompilationReference project => string.Equals(project.Compilation.AssemblyName, RuntimeAssemblyName, StringComparison.Ordinal),
        PortableExecutableReference file => string.Equals(
            System.IO.Path.GetFileNameWithoutExtension(file.FilePath ?? file.Display ?? string.Empty), RuntimeAssemblyName, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>Sorts by order, then full name (ordinal), then parameter list; an exact duplicate (a partial method seen twice) counts once.</summary>
    internal static EquatableArray<MigrationMethodModel> Sort(System.Collections.Immutable.ImmutableArray<MigrationMethodModel> migrations, System.Threading.CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (migrations.IsDefaultOrEmpty)
        {
            return EquatableArray<MigrationMethodModel>.Empty;
        }

        var sorted = new MigrationMethodModel[migrations.Length];
        migrations.CopyTo(sorted);
        Array.Sort(sorted, Compare);

        var count = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (count == 0 || !sorted[i].Equals(sorted[count - 1]))
            {
                sorted[count++] = sorted[i];
            }
        }

        if (count != sorted.Length)
        {
            Array.Resize(ref sorted, count);
        }

        return new EquatableArray<MigrationMethodModel>(sorted);
    }

    private static int Compare(MigrationMethodModel left, MigrationMethodModel right)
    {
        var result = left.Order.CompareTo(right.Order);
        if (result == 0)
        {
            result = string.CompareOrdinal(left.FullName, right.FullName);
        }

        if (result == 0)
        {
            result = left.ParameterKind.CompareTo(right.ParameterKind);
        }

        if (result == 0)
        {
            result = left.ReturnKind.CompareTo(right.ReturnKind);
        }

        if (result == 0)
        {
            result = left.Enabled.CompareTo(right.Enabled);
        }

        if (result == 0)
        {
            result = left.Transactional.CompareTo(right.Transactional);
        }

        if (result == 0)
        {
            result = left.BreaksOlderBuilds.CompareTo(right.BreaksOlderBuilds);
        }

        return result;
    }
}
