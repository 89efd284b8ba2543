using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using SourceGenMigrations.Generator;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>Checks on the generator's tracked pipeline steps.</summary>
internal static class PipelineAssert
{
    /// <summary>Every step name the generator declares (TrackingNames' constants).</summary>
    public static IReadOnlyList<string> AllTrackingNames { get; } = typeof(MigrationGenerator).Assembly
        .GetType("SourceGenMigrations.Generator.TrackingNames", throwOnError: true)!
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    /// <summary>Fails when any output of any tracked step holds a compilation, symbol, syntax node, location or semantic model (they defeat caching and keep compilations alive).</summary>
    public static void ModelHoldsNoCompilerObjects(GeneratorRunResult result)
    {
        // Only the generator's own steps: Roslyn's internal ForAttributeWithMetadataName steps hold syntax trees by design.
        foreach (var name in AllTrackingNames)
        {
            // A step that had no input at all (no [Migration] method) is not recorded.
            if (!result.TrackedSteps.TryGetValue(name, out var steps))
            {
                continue;
            }

            foreach (var step in steps)
            {
                foreach (var (value, _) in step.Outputs)
                {
                    Walk(value, $"step {name}", new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }
    }

    /// <summary>Asserts that every tracked step and the source output are Cached or Unchanged.</summary>
    public static void AllCachedOrUnchanged(GeneratorRunResult result)
    {
        foreach (var name in AllTrackingNames)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            foreach (var step in result.TrackedSteps[name])
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(
                        reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                        $"step {name}: {reason}");
                }
            }
        }

        foreach (var (_, steps) in result.TrackedOutputSteps)
        {
            foreach (var step in steps)
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"source output: {reason}");
                }
            }
        }
    }

    /// <summary>The run reasons of a tracked step's outputs; never empty, so that <c>Assert.All</c> over them cannot pass on nothing.</summary>
    public static IReadOnlyList<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string name) =>
        NotEmpty(result.TrackedSteps[name].SelectMany(step => step.Outputs).Select(output => output.Reason), "step " + name);

    /// <summary>The run reasons of the source output; never empty (see <see cref="Reasons"/>).</summary>
    public static IReadOnlyList<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result) =>
        NotEmpty(result.TrackedOutputSteps.SelectMany(pair => pair.Value).SelectMany(step => step.Outputs).Select(output => output.Reason), "the source output");

    private static List<IncrementalStepRunReason> NotEmpty(IEnumerable<IncrementalStepRunReason> reasons, string what)
    {
        var list = reasons.ToList();
        Assert.True(list.Count > 0, what + " recorded no output: an assertion over its reasons would hold for nothing");
        return list;
    }

    private static void Walk(object? value, string path, HashSet<object> visited)
    {
        if (value is null)
        {
            return;
        }

        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string || value is decimal)
        {
            return;
        }

        Assert.False(
            value is Compilation or ISymbol or SyntaxNode or SyntaxTree or Location or SemanticModel or AttributeData,
            $"{path} holds a {type.FullName}: pipeline models must be plain values");

        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is IEnumerable enumerable)
        {
            var index = 0;
            foreach (var item in enumerable)
            {
                Walk(item, $"{path}[{index++}]", visited);
            }
        }

        for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }

                Walk(field.GetValue(value), $"{path}.{field.Name}", visited);
            }
        }
    }
}
