using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Analyzers;

/// <summary>
/// The <c>.sql</c> AdditionalFiles of a compilation as the analyzers see them, read by <see cref="SqlMigrationFile"/> (the
/// generator's own rules). A path given twice counts once.
/// </summary>
internal static class SqlMigrationFiles
{
    /// <summary>Every <c>.sql</c> AdditionalFile, in the order given, each path once.</summary>
    public static ImmutableArray<SqlFileInfo> Read(AnalyzerOptions options, CancellationToken cancellationToken)
    {
        options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(SqlMigrationFile.ProjectDirectoryProperty, out var projectDirectory);
        var files = ImmutableArray.CreateBuilder<SqlFileInfo>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in options.AdditionalFiles)
        {
            if (SqlMigrationFile.IsSqlFile(file.Path) && paths.Add(file.Path) && file.GetText(cancellationToken) is { } text)
            {
                options.AnalyzerConfigOptionsProvider.GetOptions(file).TryGetValue(SqlMigrationFile.LinkMetadata, out var link);
                files.Add(SqlFileInfo.Create(file.Path, text, projectDirectory, link));
            }
        }

        return files.ToImmutable();
    }
}

/// <summary>One <c>.sql</c> AdditionalFile: whether it is a migration, and what the diagnostics and the fix need of it.</summary>
internal sealed class SqlFileInfo
{
    private SqlFileInfo(string path, string name, SourceText text)
    {
        Path = path;
        Name = name;
        Text = text;
    }

    public string Path { get; }

    /// <summary>The migration's name: the path relative to the project, with <c>/</c>.</summary>
    public string Name { get; }

    public SourceText Text { get; }

    /// <summary>Whether the file name matches the pattern (else <see cref="NameProblem"/> says why).</summary>
    public bool NameMatches { get; private set; }

    public string NameProblem { get; private set; } = string.Empty;

    public long Order { get; private set; }

    /// <summary>Whether the file holds a statement (anything but white space, comments and directives).</summary>
    public bool HasStatements { get; private set; }

    /// <summary>A migration: the name matches and the file holds a statement (what the generator puts in the table).</summary>
    public bool IsMigration => NameMatches && HasStatements;

    public ImmutableArray<string> UnknownDirectives { get; private set; }

    /// <summary>The 0-based line of the first directive, -1 when there is none.</summary>
    public int DirectiveLine { get; private set; }

    public string Checksum { get; private set; } = string.Empty;

    /// <summary>The file's first line: where its diagnostics point.</summary>
    public Location FirstLine { get; private set; } = Location.None;

    public static SqlFileInfo Create(string path, SourceText text, string? projectDirectory, string? link)
    {
        var info = new SqlFileInfo(path, SqlMigrationFile.GetName(path, projectDirectory, link), text);
        info.NameMatches = SqlMigrationFile.TryParseFileName(SqlMigrationFile.GetFileName(path), out var order, out _, out var problem);
        info.NameProblem = problem;
        info.Order = order;
        var content = text.ToString();
        info.HasStatements = SqlScript.HasStatements(content);
        SqlMigrationFile.ReadDirectives(content, out _, out _, out var unknown, out var directiveLine);
        info.UnknownDirectives = unknown.ToImmutableArray();
        info.DirectiveLine = directiveLine;
        info.Checksum = SqlMigrationFile.Checksum(content);
        info.FirstLine = LineLocation(path, text, 0);
        return info;
    }

    /// <summary>The location of line <paramref name="line"/> (0-based) of the file, without its line break.</summary>
    public static Location LineLocation(string path, SourceText text, int line)
    {
        if (text.Lines.Count == 0)
        {
            return Location.Create(path, default, default);
        }

        var span = text.Lines[Math.Min(line, text.Lines.Count - 1)].Span;
        return Location.Create(path, span, text.Lines.GetLinePositionSpan(span));
    }
}
