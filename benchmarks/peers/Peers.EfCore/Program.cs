using Peers;
using Peers.EfCore;

// Peers.EfCore <SQLite file | PostgreSQL connection string> <N: 100 or 1000>: one run of EF Core's MigrateAsync, start to exit.
var started = ColdStart.Now();
var (target, count, _) = Workload.ParseArgs(args, "Peers.EfCore");
await EfCoreContender.RunAsync(target, count).ConfigureAwait(false);
ColdStart.Report(started);
