using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

// Compiled into both the generator and the analyzers (linked): what a SQL-file migration is, its name, order, database,
// directives and checksum, read by one piece of code, so the generated table and the diagnostics never disagree.
namespace SourceGenMigrations.Shared;

/// <summary>The databases a SQL file can be meant for (the file name's suffix before <c>.sql</c>).</summary>
internal static class SqlDialectNames
{
    public const string PostgreSql = "postgresql";
    public const string Sqlite = "sqlite";
    public const string MySql = "mysql";

    /// <summary>The dialect's bit in a generated table's flags (<c>MigrationRegistration.CreateTable</c>); 0 for all databases.</summary>
    public static byte Flag(string? dialect) => dialect switch
    {
        PostgreSql => 8,
        Sqlite => 16,
        MySql => 32,
        _ => 0,
    };
}

/// <summary>
/// A SQL-file migration: an AdditionalFile named <c>&lt;digits&gt;_&lt;name&gt;[.postgresql|.sqlite|.mysql].sql</c>,
/// whose first lines may be directives (<c>-- migration: no-transaction</c>, <c>-- migration: disabled</c>).
/// </summary>
internal static class SqlMigrationFile
{
    /// <summary>The file-name pattern, as the name-pattern warning shows it.</summary>
    public const string ExpectedPattern = "<digits>_<name>.sql (or <digits>_<name>.postgresql.sql, .sqlite.sql, .mysql.sql), e.g. 0003_add_index.sql";

    public const string NoTransactionDirective = "no-transaction";
    public const string DisabledDirective = "disabled";
    private const string DirectivePrefix = "migration:";
    private static readonly char[] DirectiveSeparators = { ',', ' ', '\t' };

    /// <summary>Whether <paramref name="path"/> ends in <c>.sql</c> (ignoring case): the files these rules look at.</summary>
    public static bool IsSqlFile(string? path) => path is not null && path.EndsWith(".sql", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the order and the database from the file name. False, with the reason, when the name does not match the
    /// pattern or its digits do not fit a <see cref="long"/>.
    /// </summary>
    public static bool TryParseFileName(string fileName, out long order, out string? dialect, out string reason)
    {
        order = 0;
        dialect = null;
        reason = string.Empty;
        var digits = 0;
        while (digits < fileName.Length && fileName[digits] >= '0' && fileName[digits] <= '9')
        {
            digits++;
        }

        // The part between '_' and ".sql": a name without dots, then an optional dialect.
        var stem = fileName.Length >= 4 ? fileName.Substring(0, fileName.Length - 4) : string.Empty;
        if (digits == 0 || digits >= stem.Length || fileName[digits] != '_' || !IsSqlFile(fileName))
        {
            reason = "its name does not start with digits and '_'";
            return false;
        }

        var rest = stem.Substring(digits + 1);
        var dot = rest.IndexOf('.');
        if (dot >= 0)
        {
            var suffix = rest.Substring(dot + 1).ToLowerInvariant();
            if (suffix is not (SqlDialectNames.PostgreSql or SqlDialectNames.Sqlite or SqlDialectNames.MySql))
            {
                reason = "'." + rest.Substring(dot + 1) + "' is not a database suffix (postgresql, sqlite or mysql), and a name holds no '.'";
                return false;
            }

            dialect = suffix;
            rest = rest.Substring(0, dot);
        }

        if (rest.Length == 0)
        {
            reason = "the name after '_' is empty";
            return false;
        }

        if (!long.TryParse(fileName.Substring(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out order))
        {
            reason = "the order " + fileName.Substring(0, digits) + " does not fit a 64-bit integer (at most " + long.MaxValue.ToString(CultureInfo.InvariantCulture) + ")";
            return false;
        }

        return true;
    }

    /// <summary>The AdditionalFiles item metadata (through <c>CompilerVisibleItemMetadata</c>) that names a linked file.</summary>
    public const string LinkMetadata = "build_metadata.AdditionalFiles.Link";

    /// <summary>The MSBuild property (through <c>CompilerVisibleProperty</c>) that names are relative to.</summary>
    public const string ProjectDirectoryProperty = "build_property.MSBuildProjectDirectory";

    /// <summary>
    /// The name of the migration: the item's <c>Link</c> when it has one (a file linked from elsewhere keeps the path it
    /// shows in the project), else the file's path relative to <paramref name="projectDirectory"/>; with <c>/</c>. The path
    /// itself when it is relative already, the file name when it is outside the project.
    /// </summary>
    public static string GetName(string path, string? projectDirectory, string? link = null)
    {
        if (!string.IsNullOrWhiteSpace(link))
        {
            return link!.Trim().Replace('\\', '/');
        }

        var normalized = path.Replace('\\', '/');
        if (!string.IsNullOrEmpty(projectDirectory))
        {
            var directory = projectDirectory!.Replace('\\', '/');
            if (!directory.EndsWith("/", StringComparison.Ordinal))
            {
                directory += "/";
            }

            if (normalized.StartsWith(directory, StringComparison.OrdinalIgnoreCase))
            {
                return normalized.Substring(directory.Length);
            }
        }

        var rooted = normalized.StartsWith("/", StringComparison.Ordinal) || (normalized.Length > 1 && normalized[1] == ':');
        return rooted ? normalized.Substring(normalized.LastIndexOf('/') + 1) : normalized;
    }

    /// <summary>The file name of <paramref name="path"/> (either separator).</summary>
    public static string GetFileName(string path)
    {
        var slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return path.Substring(slash + 1);
    }

    /// <summary>The text without a byte order mark and with every line ending made <c>\n</c>: what the generated code runs.</summary>
    public static string NormalizeLineEndings(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text.Substring(1);
        }

        return text.IndexOf('\r') < 0 ? text : text.Replace("\r\n", "\n").Replace('\r', '\n');
    }

    /// <summary>
    /// The checksum of the content: SHA-256 (lower-case hex) of the UTF-8 text without a byte order mark, with <c>\n</c>
    /// line endings, trailing white space cut from every line and trailing empty lines dropped. So a checkout that changes
    /// line endings or an editor that trims blanks does not change it; any other edit does.
    /// </summary>
    public static string Checksum(string text)
    {
        var lines = NormalizeLineEndings(text).Split('\n');
        var count = lines.Length;
        for (var i = 0; i < count; i++)
        {
            lines[i] = lines[i].TrimEnd();
        }

        while (count > 0 && lines[count - 1].Length == 0)
        {
            count--;
        }

        var canonical = string.Join("\n", lines, 0, count);
        using var sha = System.Security.Cryptography.SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(canonical));
        var hex = new StringBuilder(hash.Length * 2);
        foreach (var b in hash)
        {
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return hex.ToString();
    }

    /// <summary>
    /// Reads the directives: the leading lines that start with <c>-- migration:</c>, each holding words separated by
    /// commas or blanks (<c>no-transaction</c>, <c>disabled</c>; ignoring case). Words it does not know are returned.
    /// </summary>
    public static void ReadDirectives(string text, out bool disabled, out bool noTransaction, out List<string> unknown, out int directiveLine)
    {
        disabled = false;
        noTransaction = false;
        unknown = new List<string>();
        directiveLine = -1;
        var lines = NormalizeLineEndings(text).Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].Trim();
            if (!line.StartsWith("--", StringComparison.Ordinal))
            {
                return;
            }

            var body = line.Substring(2).TrimStart();
            if (!body.StartsWith(DirectivePrefix, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            directiveLine = directiveLine < 0 ? index : directiveLine;
            foreach (var word in body.Substring(DirectivePrefix.Length).Split(DirectiveSeparators, StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(word, NoTransactionDirective, StringComparison.OrdinalIgnoreCase))
                {
                    noTransaction = true;
                }
                else if (string.Equals(word, DisabledDirective, StringComparison.OrdinalIgnoreCase))
                {
                    disabled = true;
                }
                else
                {
                    unknown.Add(word);
                }
            }
        }
    }
}
