using System.Collections.Concurrent;

namespace SourceGenMigrations.EndToEnd.Tests;

/// <summary>What the migrations below did, in order.</summary>
internal static class Journal
{
    public static ConcurrentQueue<string> Entries { get; } = new();
}

/// <summary>Migrations as a user writes them; the generator turns them into <c>GeneratedMigrations</c>.</summary>
public static class UserMigrations
{
    [Migration(Order = 1)]
    public static async Task CreateUsers(MigrationContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(1, cancellationToken);
        Journal.Entries.Enqueue($"{context.Order} {context.Name} {context.PreviousStatus}");
    }

    [Migration(Order = 2, Enabled = false)] // superseded by 3
    public static Task OldBackfill(CancellationToken cancellationToken)
    {
        Journal.Entries.Enqueue("2 must not run");
        return Task.CompletedTask;
    }

    [Migration(Order = 3)]
    public static ValueTask Backfill()
    {
        Journal.Entries.Enqueue("3 Backfill");
        return ValueTask.CompletedTask;
    }

    public static class Nested
    {
        [Migration(Order = 4)]
        internal static void AddIndex(MigrationContext context) => Journal.Entries.Enqueue($"4 {context.Name}");
    }
}
