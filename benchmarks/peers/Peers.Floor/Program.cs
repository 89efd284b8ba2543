using Peers;
using Peers.Floor;

// Peers.Floor <SQLite file> <N> [--no-wal | --durable=delete | --durable=wal]: the floor, start to exit. With --durable=…
// the floor of the durable-commit cases: one commit per migration, synchronous=FULL, that journal mode.
var started = ColdStart.Now();
var (file, count, flags) = Workload.ParseArgs(args, "Peers.Floor");
if (Workload.DurableWriteAheadLog(flags) is { } writeAheadLog)
{
    FloorContender.RunCommitPerMigration(file, count, writeAheadLog);
}
else
{
    FloorContender.Run(file, count, writeAheadLog: !flags.Contains("--no-wal"));
}
ColdStart.Report(started);
