using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers;

/// <summary>
/// Guards released migrations with <c>Migrations.Shipped.txt</c> (SGM101–SGM105), the way PublicApiAnalyzers guards
/// released API with <c>PublicAPI.Shipped.txt</c>. Opt-in: without such an AdditionalFile nothing runs.
/// </summary>
/// <remarks>
/// The file is read and parsed once per compilation (compilation start). What one method and the file decide is reported
/// from the method's symbol action (SGM102, SGM103, SGM105: local diagnostics, so the IDE shows them and offers "Mark as
/// shipped" while typing); malformed lines from the additional-file action (SGM104); only "a shipped migration is gone"
/// needs every method and is reported from the compilation end action (SGM101). Names and orders come from
/// <see cref="MigrationMethodShape"/>, exactly as the generator reads them. The generator does not read the file.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ShippedMigrationsAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ShippedMigrationMissing,
        DiagnosticDescriptors.ShippedOrderChanged,
        DiagnosticDescriptors.UnshippedBelowShipped,
        DiagnosticDescriptors.MalformedShippedLine,
        DiagnosticDescriptors.NotShipped,
        DiagnosticDescriptors.ShippedSqlMigrationEdited);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // Migrations declared in generated code are collected too (else a shipped one there would look deleted), but
        // nothing is reported inside generated code.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(KnownNames.MigrationAttributeMetadataName);
            if (attributeType is null)
            {
                return;
            }

            var additionalFile = FindShippedFile(start.Options.AdditionalFiles);
            if (additionalFile is null)
            {
                // Opt-in: no Migrations.Shipped.txt, no rule.
                return;
            }

            var text = additionalFile.GetText(start.CancellationToken);
            if (text is null)
            {
                return;
            }

            var state = new CompilationState(
                attributeType, additionalFile, ShippedMigrationsFile.Parse(additionalFile.Path, text), SqlMigrationFiles.Read(start.Options, start.CancellationToken));
            start.RegisterAdditionalFileAction(state.ReportMalformedLines);
            start.RegisterAdditionalFileAction(state.AnalyzeSqlFile);
            start.RegisterSymbolAction(state.AnalyzeMethod, SymbolKind.Method);
            start.RegisterCompilationEndAction(state.ReportMissing);
        });
    }

    /// <summary>The first AdditionalFile named <c>Migrations.Shipped.txt</c> (ignoring case), the one both analyzer and fix use.</summary>
    internal static AdditionalText? FindShippedFile(ImmutableArray<AdditionalText> additionalFiles)
    {
        foreach (var file in additionalFiles)
        {
            if (ShippedMigrationsFile.IsShippedFile(file.Path))
            {
                return file;
            }
        }

        return null;
    }

    /// <summary>SGM105's rule on order and name: a usable order above every shipped one, and neither order nor name listed.</summary>
    internal static bool IsNotShipped(ShippedMigrationsFile shipped, MigrationAttributeValues values, string name) =>
        values.HasValidOrder
        && values.Order > shipped.HighestOrder
        && !shipped.ByOrder.ContainsKey(values.Order)
        && !shipped.ByName.ContainsKey(name);

    /// <summary>
    /// What the shipped file says of a SQL-file migration: null when it is shipped unchanged (or its line carries no
    /// checksum), else the descriptor to report (SGM106 edited, SGM102 order changed, SGM103 below the shipped ones, SGM105
    /// not shipped) with its shipped line; for a rename (its order shipped under another name), none (SGM101 on the line).
    /// </summary>
    internal static DiagnosticDescriptor? CheckSqlFile(ShippedMigrationsFile shipped, SqlFileInfo file, out ShippedEntry? entry)
    {
        if (shipped.ByOrder.TryGetValue(file.Order, out entry) && entry.Name == file.Name)
        {
            return entry.Checksum is { } checksum && checksum != file.Checksum ? DiagnosticDescriptors.ShippedSqlMigrationEdited : null;
        }

        if (shipped.ByName.TryGetValue(file.Name, out var byName))
        {
            entry = byName;
            return DiagnosticDescriptors.ShippedOrderChanged;
        }

        if (entry is not null)
        {
            return null;
        }

        return file.Order < shipped.HighestOrder ? DiagnosticDescriptors.UnshippedBelowShipped : DiagnosticDescriptors.NotShipped;
    }

    private sealed class CompilationState
    {
        private readonly INamedTypeSymbol _attributeType;
        private readonly AdditionalText _additionalFile;
        private readonly ShippedMigrationsFile _shipped;
        private readonly string _fileName;

        // Every [Migration] method with a usable order, and the names of all [Migration] methods (also those whose order
        // is missing or negative: SGM002/SGM003 explain those, SGM101 would only repeat it).
        private readonly ConcurrentDictionary<IMethodSymbol, (long Order, string Name)> _migrations = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<string, bool> _names = new(System.StringComparer.Ordinal);

        // The .sql AdditionalFiles; the migrations among them are checked against the file like methods, by name and order.
        private readonly ImmutableArray<SqlFileInfo> _sqlFiles;

        public CompilationState(INamedTypeSymbol attributeType, AdditionalText additionalFile, ShippedMigrationsFile shipped, ImmutableArray<SqlFileInfo> sqlFiles)
        {
            _attributeType = attributeType;
            _additionalFile = additionalFile;
            _shipped = shipped;
            _fileName = System.IO.Path.GetFileName(additionalFile.Path);
            _sqlFiles = sqlFiles;
        }

        /// <summary>SGM102, SGM103, SGM105 and SGM106 for one SQL-file migration, at its first line.</summary>
        public void AnalyzeSqlFile(AdditionalFileAnalysisContext context)
        {
            foreach (var file in _sqlFiles)
            {
                if (file.Path != context.AdditionalFile.Path || !file.IsMigration)
                {
                    continue;
                }

                var order = file.Order.ToString(CultureInfo.InvariantCulture);
                var descriptor = CheckSqlFile(_shipped, file, out var entry);
                if (descriptor == DiagnosticDescriptors.ShippedSqlMigrationEdited)
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        descriptor, file.FirstLine, order, file.Name, _fileName, entry!.LineNumber.ToString(CultureInfo.InvariantCulture)));
                }
                else if (descriptor == DiagnosticDescriptors.ShippedOrderChanged)
                {
                    context.ReportDiagnostic(Diagnostic.Create(descriptor, file.FirstLine, file.Name, entry!.Order.ToString(CultureInfo.InvariantCulture), order));
                }
                else if (descriptor == DiagnosticDescriptors.UnshippedBelowShipped)
                {
                    context.ReportDiagnostic(Diagnostic.Create(descriptor, file.FirstLine, file.Name, order, _shipped.HighestOrder.ToString(CultureInfo.InvariantCulture)));
                }
                else if (descriptor == DiagnosticDescriptors.NotShipped)
                {
                    var properties = ImmutableDictionary.CreateRange(new[]
                    {
                        new KeyValuePair<string, string?>(DiagnosticPropertyNames.Order, order),
                        new KeyValuePair<string, string?>(DiagnosticPropertyNames.FullName, file.Name),
                        new KeyValuePair<string, string?>(DiagnosticPropertyNames.ShippedFilePath, _shipped.Path),
                        new KeyValuePair<string, string?>(DiagnosticPropertyNames.Checksum, file.Checksum),
                    });
                    context.ReportDiagnostic(Diagnostic.Create(descriptor, file.FirstLine, properties, order, file.Name, _fileName));
                }

                return;
            }
        }

        public void ReportMalformedLines(AdditionalFileAnalysisContext context)
        {
            if (!ReferenceEquals(context.AdditionalFile, _additionalFile) && context.AdditionalFile.Path != _additionalFile.Path)
            {
                return;
            }

            foreach (var problem in _shipped.Problems)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.MalformedShippedLine,
                    Location.Create(_shipped.Path, problem.Span, problem.LineSpan),
                    _fileName,
                    problem.LineNumber.ToString(CultureInfo.InvariantCulture),
                    problem.Reason));
            }
        }

        public void AnalyzeMethod(SymbolAnalysisContext context)
        {
            var method = (IMethodSymbol)context.Symbol;
            if (method.PartialDefinitionPart is not null)
            {
                // The implementing part: the definition carries the attributes of both.
                return;
            }

            AttributeData? attribute = null;
            foreach (var candidate in method.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(candidate.AttributeClass, _attributeType))
                {
                    attribute = candidate;
                    break;
                }
            }

            if (attribute is null)
            {
                return;
            }

            var values = MigrationMethodShape.ReadAttribute(attribute);
            var name = MigrationMethodShape.GetFullName(method);
            if (values.OrderState != OrderState.Invalid)
            {
                _names.TryAdd(name, true);
            }

            if (!values.HasValidOrder)
            {
                // No order (SGM003) or a negative one (SGM002): nothing to compare with the file.
                return;
            }

            var order = values.Order;
            _migrations.TryAdd(method, (order, name));

            if (_shipped.ByOrder.TryGetValue(order, out var atOrder) && atOrder.Name == name)
            {
                return; // Shipped, unchanged.
            }

            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) as AttributeSyntax;
            var orderLocation = MigrationAnalyzer.GetOrderArgumentLocation(attributeSyntax) ?? MigrationAnalyzer.GetNameLocation(method);
            if (_shipped.ByName.TryGetValue(name, out var shippedEntry))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ShippedOrderChanged,
                    orderLocation,
                    name,
                    shippedEntry.Order.ToString(CultureInfo.InvariantCulture),
                    order.ToString(CultureInfo.InvariantCulture)));
                return;
            }

            if (atOrder is not null)
            {
                // Its order is shipped under another name: a rename (or a replacement), reported once, as SGM101 on the line.
                return;
            }

            if (order < _shipped.HighestOrder)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.UnshippedBelowShipped,
                    orderLocation,
                    name,
                    order.ToString(CultureInfo.InvariantCulture),
                    _shipped.HighestOrder.ToString(CultureInfo.InvariantCulture)));
                return;
            }

            if (!IsNotShipped(_shipped, values, name))
            {
                return; // Unreachable after the checks above; kept so that the fix's rule and this one are the same code.
            }

            // Only a migration the generated table contains can be marked as shipped (SGM004/SGM005 leave it out).
            var problems = MigrationMethodShape.Classify(method, out _, out _);
            if ((problems & (MigrationShapeProblems.UnsupportedSignature | MigrationShapeProblems.Unreachable)) != 0)
            {
                return;
            }

            var properties = ImmutableDictionary.CreateRange(new[]
            {
                new KeyValuePair<string, string?>(DiagnosticPropertyNames.Order, order.ToString(CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string?>(DiagnosticPropertyNames.FullName, name),
                new KeyValuePair<string, string?>(DiagnosticPropertyNames.ShippedFilePath, _shipped.Path),
            });
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.NotShipped,
                MigrationAnalyzer.GetNameLocation(method),
                properties,
                order.ToString(CultureInfo.InvariantCulture),
                name,
                _fileName));
        }

        public void ReportMissing(CompilationAnalysisContext context)
        {
            var present = new HashSet<(long Order, string Name)>(_migrations.Values);
            foreach (var file in _sqlFiles)
            {
                if (file.IsMigration)
                {
                    present.Add((file.Order, file.Name));
                    _names.TryAdd(file.Name, true);
                }
            }

            var namesAtOrder = present
                .GroupBy(static m => m.Order)
                .ToDictionary(static g => g.Key, static g => g.Select(static m => m.Name).OrderBy(static n => n, System.StringComparer.Ordinal).ToList());

            foreach (var entry in _shipped.Entries)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                if (present.Contains((entry.Order, entry.Name)) || _names.ContainsKey(entry.Name))
                {
                    // Present, or present with another order (SGM102) or without a usable one (SGM002/SGM003).
                    continue;
                }

                var now = namesAtOrder.TryGetValue(entry.Order, out var names)
                    ? " (order " + entry.Order.ToString(CultureInfo.InvariantCulture) + " is now " + string.Join(", ", names.Select(static n => "'" + n + "'")) + ": renamed?)"
                    : string.Empty;
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ShippedMigrationMissing,
                    Location.Create(_shipped.Path, entry.Span, entry.LineSpan),
                    entry.Order.ToString(CultureInfo.InvariantCulture),
                    entry.Name,
                    _fileName,
                    entry.LineNumber.ToString(CultureInfo.InvariantCulture),
                    now));
            }
        }
    }
}
