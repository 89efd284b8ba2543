using Peers;
using Peers.Floor;

// Peers.Floor <SQLite file | PostgreSQL connection string> <N> [--no-wal]: the floor, start to exit.
var (file, count, flags) = Workload.ParseArgs(args, "Peers.Floor");
FloorContender.Run(file, count, writeAheadLog: !flags.Contains("--no-wal"));
