using System.Reflection;
using Microsoft.CodeAnalysis;

namespace SourceGenMigrations.Analyzers.Tests;

public class DescriptorTests
{
    private static readonly string[] AllIds = typeof(DiagnosticIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (string)f.GetValue(null)!)
        .OrderBy(id => id, StringComparer.Ordinal)
        .ToArray();

    public static TheoryData<string> Ids => new(AllIds);

    private static readonly DiagnosticDescriptor[] Supported =
        [.. new MigrationAnalyzer().SupportedDiagnostics, .. new ShippedMigrationsAnalyzer().SupportedDiagnostics];

    [Fact]
    public void Every_id_has_exactly_one_supported_descriptor()
    {
        Assert.Equal(["SGM001", "SGM002", "SGM003", "SGM004", "SGM005", "SGM006", "SGM007", "SGM008", "SGM009", "SGM010", "SGM101", "SGM102", "SGM103", "SGM104", "SGM105", "SGM106"], AllIds);
        Assert.Equal(AllIds, Supported.Select(d => d.Id).OrderBy(id => id, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_has_category_description_and_a_help_link_to_its_page(string id)
    {
        var descriptor = Supported.Single(d => d.Id == id);
        Assert.Equal("SourceGenMigrations", descriptor.Category);
        Assert.True(descriptor.IsEnabledByDefault);
        Assert.False(string.IsNullOrWhiteSpace(descriptor.Description.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(
            "https://github.com/sourcegenmigrations/sourcegenmigrations/blob/main/docs/diagnostics/" + id + ".md",
            descriptor.HelpLinkUri);
        var expectedSeverity = id switch
        {
            "SGM007" or "SGM009" or "SGM010" or "SGM104" => DiagnosticSeverity.Warning,
            "SGM105" => DiagnosticSeverity.Hidden,
            _ => DiagnosticSeverity.Error,
        };
        Assert.Equal(expectedSeverity, descriptor.DefaultSeverity);

        // Only the diagnostics that need the whole compilation are reported from the compilation end action.
        Assert.Equal(id is "SGM001" or "SGM003" or "SGM101", descriptor.CustomTags.Contains("CompilationEnd"));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Docs_page_explains_the_diagnostic_with_a_wrong_and_a_right_example_and_the_severity_setting(string id)
    {
        var path = Path.Combine(RepositoryPaths.Root, "docs", "diagnostics", id + ".md");
        Assert.True(File.Exists(path), path + " is missing");
        var page = File.ReadAllText(path);
        Assert.StartsWith("# " + id + ": ", page, StringComparison.Ordinal);
        Assert.Contains("## What it means", page, StringComparison.Ordinal);
        Assert.Contains("## Wrong", page, StringComparison.Ordinal);
        Assert.Contains("## Right", page, StringComparison.Ordinal);
        Assert.Contains("dotnet_diagnostic." + id + ".severity = ", page, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Unshipped_release_lists_the_rule_with_its_severity(string id)
    {
        var descriptor = Supported.Single(d => d.Id == id);
        var releases = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "analyzers", "SourceGenMigrations.Analyzers", "AnalyzerReleases.Unshipped.md"));
        var row = Assert.Single(releases, line => line.StartsWith(id + " ", StringComparison.Ordinal));
        Assert.Contains("| SourceGenMigrations | " + descriptor.DefaultSeverity + " |", row, StringComparison.Ordinal);
        Assert.Contains(descriptor.HelpLinkUri, row, StringComparison.Ordinal);
    }
}
