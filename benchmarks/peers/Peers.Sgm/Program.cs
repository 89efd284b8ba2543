using Peers;
using Peers.Sgm;

// Peers.Sgm <SQLite file> <N> [--no-wal | --durable=delete | --durable=wal]: one run of SourceGenMigrations, start to
// exit. --durable=…: SgmContender.DurableOptions (synchronous=FULL; rollback journal or WAL).
var started = ColdStart.Now();
var (file, count, flags) = Workload.ParseArgs(args, "Peers.Sgm");
var run = Workload.DurableWriteAheadLog(flags) is { } writeAheadLog
    ? SgmContender.RunAsync(file, count, SgmContender.DurableOptions(writeAheadLog))
    : SgmContender.RunAsync(file, count, writeAheadLog: !flags.Contains("--no-wal"));
await run.ConfigureAwait(false);
ColdStart.Report(started);
