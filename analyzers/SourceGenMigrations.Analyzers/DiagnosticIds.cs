namespace SourceGenMigrations.Analyzers;

/// <summary>The diagnostic ids. Never computed, never reused once shipped.</summary>
internal static class DiagnosticIds
{
    /// <summary>Two or more migrations share an order.</summary>
    public const string DuplicateOrder = "SGM001";

    /// <summary>A migration's order is negative.</summary>
    public const string NegativeOrder = "SGM002";

    /// <summary><c>[Migration]</c> without <c>Order</c>.</summary>
    public const string MissingOrder = "SGM003";

    /// <summary>The method's signature cannot be called by the generated table.</summary>
    public const string UnsupportedSignature = "SGM004";

    /// <summary>The method or a containing type cannot be reached from generated code.</summary>
    public const string Unreachable = "SGM005";

    /// <summary><c>async void</c> migration.</summary>
    public const string AsyncVoid = "SGM006";
}

/// <summary>Keys of <see cref="Microsoft.CodeAnalysis.Diagnostic.Properties"/> that the code fixes read.</summary>
internal static class DiagnosticPropertyNames
{
    /// <summary>The highest order in the compilation + 1, invariant culture (absent when there is none, i.e. at <see cref="long.MaxValue"/>).</summary>
    public const string NextFreeOrder = "NextFreeOrder";
}
