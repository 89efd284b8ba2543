using System;
using System.Collections.Generic;

// Compiled into the generator, the analyzers and the runtime library (linked), so that "is this file empty" at build time
// and "which statements does this file hold" at run time are answered by the same code.
namespace SourceGenMigrations.Shared;

/// <summary>
/// Splits SQL text into statements at each <c>;</c> that is outside a quoted string (<c>'…'</c>, <c>E'…'</c>), a quoted
/// identifier (<c>"…"</c>, <c>`…`</c>), a comment (<c>-- …</c>, <c>/* … */</c>, nested as PostgreSQL nests them) and a
/// PostgreSQL dollar-quoted body (<c>$$ … $$</c>, <c>$tag$ … $tag$</c>). A piece that holds only white space and
/// comments is no statement.
/// </summary>
/// <remarks>
/// What it does not know: a body whose statements end in <c>;</c> without dollar quoting (a SQLite trigger's
/// <c>BEGIN … END</c>, MySQL's <c>DELIMITER</c>), and backslash escapes outside <c>E'…'</c> (MySQL's <c>'it\'s'</c>; write
/// <c>'it''s'</c>). Only non-transactional SQL files are split; a transactional file runs as one command.
/// </remarks>
internal static class SqlScript
{
    /// <summary>The statements of <paramref name="sql"/>, each without its <c>;</c> and trimmed; comment-only pieces are left out.</summary>
    public static List<string> Split(string sql)
    {
        var statements = new List<string>();
        Scan(sql, statements);
        return statements;
    }

    /// <summary>Whether <paramref name="sql"/> holds at least one statement (anything but white space and comments).</summary>
    public static bool HasStatements(string sql) => Scan(sql, null) > 0;

    // Walks the text once; adds each statement to `statements` when given; returns how many there are.
    private static int Scan(string sql, List<string>? statements)
    {
        var count = 0;
        var start = 0;
        var hasContent = false;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (c == '-' && next == '-')
            {
                i = SkipLineComment(sql, i + 2);
                continue;
            }

            if (c == '/' && next == '*')
            {
                i = SkipBlockComment(sql, i + 2);
                continue;
            }

            if (c == ';')
            {
                if (hasContent)
                {
                    count++;
                    statements?.Add(sql.Substring(start, i - start).Trim());
                }

                start = i + 1;
                hasContent = false;
                i++;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            hasContent = true;
            switch (c)
            {
                case '\'':
                    i = SkipQuoted(sql, i + 1, '\'', backslashEscapes: IsEscapeStringPrefix(sql, i));
                    break;
                case '"':
                case '`':
                    i = SkipQuoted(sql, i + 1, c, backslashEscapes: false);
                    break;
                case '$' when TryReadDollarTag(sql, i, out var tag):
                    var close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                    i = close < 0 ? sql.Length : close + tag.Length;
                    break;
                default:
                    i++;
                    break;
            }
        }

        if (hasContent)
        {
            count++;
            statements?.Add(sql.Substring(start).Trim());
        }

        return count;
    }

    private static int SkipLineComment(string sql, int i)
    {
        while (i < sql.Length && sql[i] != '\n' && sql[i] != '\r')
        {
            i++;
        }

        return i;
    }

    private static int SkipBlockComment(string sql, int i)
    {
        var depth = 1;
        while (i < sql.Length)
        {
            if (sql[i] == '*' && i + 1 < sql.Length && sql[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else if (sql[i] == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else
            {
                i++;
            }
        }

        return i;
    }

    // From just after the opening quote to just after the closing one; a doubled quote is an escaped quote.
    private static int SkipQuoted(string sql, int i, char quote, bool backslashEscapes)
    {
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }

            if (c == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return i;
    }

    // PostgreSQL's E'…' (escape string): an E right before the quote that does not end a longer word.
    private static bool IsEscapeStringPrefix(string sql, int quote) =>
        quote >= 1 && (sql[quote - 1] == 'E' || sql[quote - 1] == 'e') && (quote == 1 || !IsIdentifierPart(sql[quote - 2]));

    // $$ or $tag$ where tag is an identifier, and the $ does not continue a word or a parameter ($1) before it.
    private static bool TryReadDollarTag(string sql, int i, out string tag)
    {
        tag = string.Empty;
        if (i > 0 && (IsIdentifierPart(sql[i - 1]) || sql[i - 1] == '$'))
        {
            return false;
        }

        var j = i + 1;
        if (j < sql.Length && char.IsDigit(sql[j]))
        {
            return false;
        }

        while (j < sql.Length && IsIdentifierPart(sql[j]))
        {
            j++;
        }

        if (j >= sql.Length || sql[j] != '$')
        {
            return false;
        }

        tag = sql.Substring(i, j - i + 1);
        return true;
    }

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';
}
