using Peers;
using Peers.Sgm;

// Peers.Sgm <SQLite file | PostgreSQL connection string> <N> [--no-wal]: one run of SourceGenMigrations, start to exit.
var (file, count, flags) = Workload.ParseArgs(args, "Peers.Sgm");
await SgmContender.RunAsync(file, count, writeAheadLog: !flags.Contains("--no-wal")).ConfigureAwait(false);
