using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SourceGenMigrations.Generator.Model;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Generator;

public sealed partial class MigrationGenerator
{
    /// <summary>Turns one <c>[Migration]</c> method into its model; null when the analyzers report it (left out silently).</summary>
    internal static class Parser
    {
        // global::Ns.Outer.Inner, keywords escaped (@class).
        private static readonly SymbolDisplayFormat ContainingTypeFormat = SymbolDisplayFormat.FullyQualifiedFormat;

        /// <summary>
        /// Turns one <c>.sql</c> AdditionalFile into its model; null when it is no migration (a name that does not match,
        /// an empty file: the analyzers report those) or cannot be read.
        /// </summary>
        public static SqlFileModel? ParseSqlFile(AdditionalText file, Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider options, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!SqlMigrationFile.TryParseFileName(SqlMigrationFile.GetFileName(file.Path), out var order, out var dialect, out _))
            {
                return null;
            }

            var source = file.GetText(cancellationToken);
            if (source is null)
            {
                return null;
            }

            var text = SqlMigrationFile.NormalizeLineEndings(source.ToString());
            if (!SqlScript.HasStatements(text))
            {
                return null;
            }

            SqlMigrationFile.ReadDirectives(text, out var disabled, out var noTransaction, out _, out _);
            options.GlobalOptions.TryGetValue(SqlMigrationFile.ProjectDirectoryProperty, out var projectDirectory);
            options.GetOptions(file).TryGetValue(SqlMigrationFile.LinkMetadata, out var link);
            var name = SqlMigrationFile.GetName(file.Path, projectDirectory, link);
            var entry = new SqlTableEntry(order, name, dialect, !disabled, !noTransaction, Emitter.SqlIdentifier(name));
            return new SqlFileModel(entry, text, SqlMigrationFile.Checksum(text));
        }

        public static MigrationMethodModel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (context.TargetSymbol is not IMethodSymbol method || method.ContainingType is null || context.Attributes.IsEmpty)
            {
                return null;
            }

            var values = MigrationMethodShape.ReadAttribute(context.Attributes[0]);
            if (!values.HasValidOrder)
            {
                return null;
            }

            if (MigrationMethodShape.Classify(method, out var returnKind, out var parameterKind) != MigrationShapeProblems.None)
            {
                return null;
            }

            var typeNames = TypeNames.GetValue(method.ContainingType, static type => new ContainingTypeNames(
                MigrationMethodShape.GetTypeFullName(type),
                type.ToDisplayString(ContainingTypeFormat)));
            return new MigrationMethodModel(
                values.Order,
                values.Enabled,
                values.Transactional,
                values.BreaksOlderBuilds,
                typeNames.FullName + "." + method.Name,
                typeNames.Qualified,
                EscapeIdentifier(method.Name),
                returnKind,
                parameterKind);
        }

        // A type's two display names, formatted once per type and compilation rather than once per method: the
        // transform runs again for every migration on every edit (the compilation changed), and formatting symbols is
        // most of its cost. Weak keys: a compilation's symbols, and their entries, go with it.
        private static readonly ConditionalWeakTable<INamedTypeSymbol, ContainingTypeNames> TypeNames = new();

        private sealed class ContainingTypeNames(string fullName, string qualified)
        {
            public string FullName { get; } = fullName;

            public string Qualified { get; } = qualified;
        }

        /// <summary>
        /// The namespace of the generated class: <c>SourceGenMigrationsNamespace</c>, else <c>RootNamespace</c>, else the
        /// assembly name. A property that is visible but empty counts as given: both empty means the global namespace
        /// (DESIGN.md); the assembly name is used only when neither property reaches the compiler. The result is made
        /// valid C# (each dotted part an identifier, keywords escaped); empty is the global namespace.
        /// </summary>
        public static string GetNamespace(NamespaceOptions options, string? assemblyName)
        {
            var chosen = Trim(options.SourceGenMigrationsNamespace);
            if (string.IsNullOrEmpty(chosen))
            {
                chosen = options.RootNamespace is not null ? Trim(options.RootNamespace) : Trim(assemblyName);
            }

            return ToValidNamespace(chosen ?? string.Empty);
        }

        internal static string ToValidNamespace(string value)
        {
            var builder = new System.Text.StringBuilder(value.Length + 4);
            foreach (var rawPart in value.Split('.'))
            {
                var part = ToValidIdentifier(rawPart.Trim());
                if (part.Length == 0)
                {
                    continue;
                }

                if (builder.Length > 0)
                {
                    builder.Append('.');
                }

                builder.Append(part);
            }

            return builder.ToString();
        }

        private static string ToValidIdentifier(string value)
        {
            if (value.Length == 0)
            {
                return value;
            }

            if (value[0] == '@')
            {
                value = value.Substring(1);
            }

            var builder = new System.Text.StringBuilder(value.Length + 2);
            foreach (var character in value)
            {
                builder.Append(SyntaxFacts.IsIdentifierPartCharacter(character) ? character : '_');
            }

            if (builder.Length == 0 || !SyntaxFacts.IsIdentifierStartCharacter(builder[0]))
            {
                builder.Insert(0, '_');
            }

            return EscapeIdentifier(builder.ToString());
        }

        internal static string EscapeIdentifier(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        private static string? Trim(string? value) => value?.Trim();
    }
}
