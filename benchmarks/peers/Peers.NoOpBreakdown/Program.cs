using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Peers.Floor;
using Peers.NoOpBreakdown;
using Peers.Sgm;
using SourceGenMigrations;
using SourceGenMigrations.Sqlite;

// Peers.NoOpBreakdown [RUNS]: medians of RUNS runs of each part (default 2,000), interleaved, after 300 warm-ups, so
// that every part is measured in tier-1 code under the same machine load. N = 1,000, SQLite file, WAL.
var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
var directory = Path.Combine(Path.GetTempPath(), "sgm-noop-breakdown-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(directory);
var floorFile = Path.Combine(directory, "floor.db");
var sgmFile = Path.Combine(directory, "sgm.db");
FloorContender.Run(floorFile, 1000);
await SgmContender.RunAsync(sgmFile, 1000);

var sgmConnectionString = "Data Source=" + sgmFile;
var registrations = GeneratedMigrations.Registrations;
var inMemory = new InMemoryManager(registrations.Select(r => new PersistedStatus(r.Order, MigrationStatus.Completed)).ToArray());
var empty = new InMemoryManager([]);
var listing = new SqliteMigrationManager(sgmConnectionString);

var parts = new (string Name, Func<Task> Run)[]
{
    ("floor (raw SQL)", () => { FloorContender.Run(floorFile, 1000); return Task.CompletedTask; }),
    ("SourceGenMigrations run", () => SgmContender.RunAsync(sgmFile, 1000)),
    ("the manager's calls alone, no runner", async () =>
    {
        await using var manager = new SqliteMigrationManager(sgmConnectionString);
        await manager.AcquireDbLockAsync(default);
        await manager.EnsureDataStoresAsync(default);
        await manager.ReleaseDbLockAsync(default);
        await manager.AcquireMigrationLockAsync(default);
        await manager.ListStatusesAsync(default);
        await manager.ReleaseMigrationLockAsync(default);
    }),
    ("ListStatusesAsync alone", () => listing.ListStatusesAsync(default)),
    ("the runner on an in-memory manager", () => GeneratedMigrations.RunAsync(inMemory)),
    ("... with no registrations", () => MigrationRunner.RunAsync(empty, [])),
};

var times = parts.Select(_ => new double[runs]).ToArray();
for (var i = 0; i < 300; i++)
{
    foreach (var part in parts)
    {
        await part.Run();
    }
}

for (var i = 0; i < runs; i++)
{
    for (var p = 0; p < parts.Length; p++)
    {
        var start = Stopwatch.GetTimestamp();
        await parts[p].Run();
        times[p][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"no-op, N = 1,000, SQLite file; median (p10-p90) of {runs} runs, ms"));
for (var p = 0; p < parts.Length; p++)
{
    Array.Sort(times[p]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {parts[p].Name,-40} {times[p][runs / 2],7:F3} ({times[p][runs / 10]:F3}-{times[p][runs * 9 / 10]:F3})"));
}

await listing.DisposeAsync();
SqliteConnection.ClearAllPools();
Directory.Delete(directory, recursive: true);
