using Peers;
using Peers.SgmPostgres;

// Peers.SgmPostgres <PostgreSQL connection string> <N>: one run of SourceGenMigrations on PostgreSQL, start to exit.
var started = ColdStart.Now();
var (connectionString, count, _) = Workload.ParseArgs(args, "Peers.SgmPostgres");
await SgmPostgresContender.RunAsync(connectionString, count).ConfigureAwait(false);
ColdStart.Report(started);
