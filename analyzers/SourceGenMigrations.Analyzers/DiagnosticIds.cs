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

    /// <summary>A transactional migration begins a transaction of its own.</summary>
    public const string OwnTransaction = "SGM007";

    /// <summary>A SQL-file migration holds no statement.</summary>
    public const string EmptySqlMigration = "SGM008";

    /// <summary>A <c>.sql</c> AdditionalFile whose name is not <c>&lt;digits&gt;_&lt;name&gt;.sql</c>.</summary>
    public const string SqlFileNameNotMigration = "SGM009";

    /// <summary>A SQL-file migration's directive is not known.</summary>
    public const string UnknownSqlDirective = "SGM010";

    /// <summary>A migration listed in <c>Migrations.Shipped.txt</c> is gone from source or renamed.</summary>
    public const string ShippedMigrationMissing = "SGM101";

    /// <summary>A shipped migration's order changed.</summary>
    public const string ShippedOrderChanged = "SGM102";

    /// <summary>A migration that is not shipped has an order below the highest shipped order.</summary>
    public const string UnshippedBelowShipped = "SGM103";

    /// <summary>A malformed line in <c>Migrations.Shipped.txt</c>.</summary>
    public const string MalformedShippedLine = "SGM104";

    /// <summary>A migration not yet in <c>Migrations.Shipped.txt</c> (hidden; "Mark as shipped").</summary>
    public const string NotShipped = "SGM105";

    /// <summary>A shipped SQL-file migration's content changed (its checksum differs from <c>Migrations.Shipped.txt</c>).</summary>
    public const string ShippedSqlMigrationEdited = "SGM106";
}

/// <summary>Keys of <see cref="Microsoft.CodeAnalysis.Diagnostic.Properties"/> that the code fixes read.</summary>
internal static class DiagnosticPropertyNames
{
    /// <summary>The highest order in the compilation + 1, invariant culture (absent when there is none, i.e. at <see cref="long.MaxValue"/>).</summary>
    public const string NextFreeOrder = "NextFreeOrder";

    /// <summary>SGM105: the migration's order, invariant culture.</summary>
    public const string Order = "Order";

    /// <summary>SGM105: the migration's full name, as the shipped file lists it.</summary>
    public const string FullName = "FullName";

    /// <summary>SGM105: the path of the shipped file the analyzer read.</summary>
    public const string ShippedFilePath = "ShippedFilePath";

    /// <summary>SGM105 on a SQL-file migration: the checksum of its content, written to the shipped file.</summary>
    public const string Checksum = "Checksum";
}
