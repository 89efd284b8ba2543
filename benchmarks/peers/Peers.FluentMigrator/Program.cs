using Peers;
using Peers.FluentMigrator;

// Peers.FluentMigrator <SQLite file | PostgreSQL connection string> <N: 100 or 1000>: one run of FluentMigrator, start to exit.
var started = ColdStart.Now();
var (file, count, _) = Workload.ParseArgs(args, "Peers.FluentMigrator");
FluentMigratorContender.Run(file, count);
ColdStart.Report(started);
