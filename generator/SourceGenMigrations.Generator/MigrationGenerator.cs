using System;
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

        var model = table
            .Combine(generatedNamespace)
            .Combine(hasRuntime)
            .Select(static (pair, _) => new GenerationModel(pair.Left.Right, pair.Left.Left, pair.Right))
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
