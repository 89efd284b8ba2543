namespace SourceGenMigrations.Generator.Model;

/// <summary>
/// What the generated table needs of one SQL-file migration: everything but its text, so that editing the SQL of a file
/// leaves the table (and its step) unchanged and re-emits only the file's own source.
/// </summary>
/// <param name="Order">The digits of the file name.</param>
/// <param name="Name">The file's path relative to the project, with <c>/</c>: the registration's name and a sort key.</param>
/// <param name="Dialect">The database the file is for (<c>postgresql</c>, <c>sqlite</c>, <c>mysql</c>), or null for all.</param>
/// <param name="Enabled">False with the directive <c>-- migration: disabled</c>.</param>
/// <param name="Transactional">False with the directive <c>-- migration: no-transaction</c>.</param>
/// <param name="Identifier">The generated nested class that holds the file (unique per name).</param>
internal sealed record SqlTableEntry(long Order, string Name, string? Dialect, bool Enabled, bool Transactional, string Identifier);

/// <summary>One SQL-file migration as its own generated source needs it.</summary>
/// <param name="Entry">Its entry of the table.</param>
/// <param name="Text">The SQL, without a byte order mark and with <c>\n</c> line endings.</param>
/// <param name="Checksum">The checksum of the normalised content (<c>SqlMigrationFile.Checksum</c>).</param>
internal sealed record SqlFileModel(SqlTableEntry Entry, string Text, string Checksum);
