using System;
using System.Text;

namespace SourceGenMigrations.Generator;

/// <summary>An indentation-aware writer over a <see cref="StringBuilder"/> (four spaces a level, <c>\n</c> line ends).</summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _builder;

    public SourceWriter(int capacity = 1024) => _builder = new StringBuilder(capacity);

    public int Indentation { get; private set; }

    public void Indent() => Indentation++;

    public void Unindent()
    {
        if (Indentation == 0)
        {
            throw new InvalidOperationException("Cannot unindent below zero.");
        }

        Indentation--;
    }

    /// <summary>Writes <c>{</c> on its own line and indents.</summary>
    public void OpenBlock(string brace = "{")
    {
        WriteLine(brace);
        Indent();
    }

    /// <summary>Unindents and writes <paramref name="brace"/> on its own line.</summary>
    public void CloseBlock(string brace = "}")
    {
        Unindent();
        WriteLine(brace);
    }

    /// <summary>Starts a line at the current indentation without ending it.</summary>
    public SourceWriter StartLine()
    {
        for (var i = 0; i < Indentation; i++)
        {
            _builder.Append(IndentUnit);
        }

        return this;
    }

    /// <summary>Appends text to the current line.</summary>
    public SourceWriter Write(string text)
    {
        _builder.Append(text);
        return this;
    }

    /// <summary>Ends the current line.</summary>
    public void EndLine() => _builder.Append('\n');

    /// <summary>Writes one line at the current indentation (an empty line has no indentation).</summary>
    public void WriteLine(string line)
    {
        if (line.Length > 0)
        {
            StartLine();
            _builder.Append(line);
        }

        _builder.Append('\n');
    }

    /// <summary>Writes an empty line.</summary>
    public void WriteLine() => _builder.Append('\n');

    public override string ToString() => _builder.ToString();
}
