using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace SourceGenMigrations.Generator.Tests;

/// <summary>The generated code, compiled and loaded in a collectible AssemblyLoadContext, runs the enabled migrations in order.</summary>
public sealed class RunTests
{
    private const string Source = SnapshotTests.Usings + """
        using System.Collections.Generic;

        namespace TestProject;

        public static class Recorder
        {
            public static readonly List<string> Calls = new();
        }

        public static class Migrations
        {
            [Migration(Order = 3)]
            public static async Task Third(MigrationContext context, CancellationToken cancellationToken)
            {
                await Task.Yield();
                Recorder.Calls.Add(context.Name + " " + context.Order + " " + context.PreviousStatus + " " + cancellationToken.CanBeCanceled);
            }

            [Migration(Order = 1)]
            public static void First() => Recorder.Calls.Add("First");

            [Migration(Order = 2, Enabled = false)]
            public static Task Disabled() { Recorder.Calls.Add("Disabled"); return Task.CompletedTask; }

            [Migration(Order = 4, Transactional = false)]
            public static ValueTask Fourth(CancellationToken cancellationToken) { Recorder.Calls.Add("Fourth"); return default; }

            [Migration(Order = 5)]
            public static Task Fifth(MigrationContext context) { Recorder.Calls.Add("Fifth " + context.PreviousStatus); return Task.CompletedTask; }
        }

        public static class More
        {
            [Migration(Order = 0)]
            public static Task Zeroth() { Recorder.Calls.Add("Zeroth"); return Task.CompletedTask; }
        }
        """;

    [Fact]
    public async Task RunAsyncRunsTheEnabledMigrationsInOrder()
    {
        var manager = new RecordingManager();
        manager.Seed(5, MigrationStatus.Failed);

        var (calls, names, nonTransactional, context) = await RunInCollectibleContext(manager);

        Assert.Equal(
            ["Zeroth", "First", "TestProject.Migrations.Third 3 Pending True", "Fourth", "Fifth Failed"],
            calls);
        Assert.Equal(
            ["TestProject.More.Zeroth", "TestProject.Migrations.First", "TestProject.Migrations.Disabled", "TestProject.Migrations.Third", "TestProject.Migrations.Fourth", "TestProject.Migrations.Fifth"],
            names);
        Assert.Equal(["TestProject.Migrations.Fourth"], nonTransactional);
        Assert.Equal(MigrationStatus.Completed, manager.Statuses[5]);
        Assert.False(manager.Statuses.ContainsKey(2));
        Assert.Equal("AcquireDbLockAsync", manager.Calls[0]);
        Assert.Equal("ReleaseMigrationLockAsync", manager.Calls[^1]);

        // Nothing of the generated assembly is kept alive: the context unloads.
        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(context.IsAlive, "the collectible AssemblyLoadContext did not unload");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(List<string> Calls, List<string?> Names, List<string?> NonTransactional, WeakReference Context)> RunInCollectibleContext(RecordingManager manager)
    {
        var output = GeneratorHarness.Run(Source);
        using var stream = new MemoryStream();
        var emit = output.Compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        stream.Position = 0;

        // The runtime library resolves from the default context (Load returns null), so the test's IMigrationManager is the same type.
        var context = new AssemblyLoadContext("generated-migrations", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(stream);
            var generated = assembly.GetType("TestProject.GeneratedMigrations", throwOnError: true)!;
            var registrations = (IReadOnlyList<MigrationRegistration>)generated.GetProperty("Registrations", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var names = registrations.Select(r => r.Name).ToList();
            var nonTransactional = registrations.Where(r => !r.Transactional).Select(r => r.Name).ToList();
            var runAsync = generated.GetMethod("RunAsync", BindingFlags.Public | BindingFlags.Static)!;
            var options = new MigrationOptions { ConfigProvider = static () => new MigrationConfig() };

            await (Task)runAsync.Invoke(null, [manager, options, CancellationToken.None])!;

            var calls = (List<string>)assembly.GetType("TestProject.Recorder", throwOnError: true)!.GetField("Calls")!.GetValue(null)!;
            return ([.. calls], names, nonTransactional, new WeakReference(context));
        }
        finally
        {
            context.Unload();
        }
    }
}
