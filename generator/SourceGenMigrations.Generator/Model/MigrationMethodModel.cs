using SourceGenMigrations.Shared;

namespace SourceGenMigrations.Generator.Model;

/// <summary>
/// One accepted <c>[Migration]</c> method, as the emitter needs it. Strings, numbers, bools and enums only (no
/// symbols, syntax or locations), so the record compares by value and the pipeline can cache it.
/// </summary>
/// <param name="Order">The attribute's <c>Order</c> (zero or more).</param>
/// <param name="Enabled">The attribute's <c>Enabled</c>.</param>
/// <param name="Transactional">The attribute's <c>Transactional</c>.</param>
/// <param name="BreaksOlderBuilds">The attribute's <c>BreaksOlderBuilds</c>.</param>
/// <param name="FullName">The method's full name without <c>global::</c> (<c>Ns.Outer.Inner.Method</c>): the registration's name and the sort key.</param>
/// <param name="ContainingType">The containing type, <c>global::</c>-qualified, keywords escaped.</param>
/// <param name="MethodName">The method's name, escaped when it is a keyword.</param>
/// <param name="ReturnKind">What the method returns.</param>
/// <param name="ParameterKind">Which of the accepted parameter lists it takes.</param>
internal sealed record MigrationMethodModel(
    long Order,
    bool Enabled,
    bool Transactional,
    bool BreaksOlderBuilds,
    string FullName,
    string ContainingType,
    string MethodName,
    MigrationReturnKind ReturnKind,
    MigrationParameterKind ParameterKind);
