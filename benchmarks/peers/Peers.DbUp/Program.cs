using Peers;
using Peers.DbUp;

// Peers.DbUp <SQLite file | PostgreSQL connection string> <N: 100 or 1000>: one run of DbUp, start to exit.
var started = ColdStart.Now();
var (file, count, _) = Workload.ParseArgs(args, "Peers.DbUp");
DbUpContender.Run(file, count);
ColdStart.Report(started);
