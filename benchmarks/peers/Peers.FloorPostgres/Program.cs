using Peers;
using Peers.FloorPostgres;

// Peers.FloorPostgres <PostgreSQL connection string> <N> [--durable]: the floor on PostgreSQL, start to exit. With --durable
// the floor of the durable-commit case: one commit per migration.
var started = ColdStart.Now();
var (connectionString, count, flags) = Workload.ParseArgs(args, "Peers.FloorPostgres");
if (flags.Contains("--durable"))
{
    FloorPostgresContender.RunCommitPerMigration(connectionString, count);
}
else
{
    FloorPostgresContender.Run(connectionString, count);
}
ColdStart.Report(started);
