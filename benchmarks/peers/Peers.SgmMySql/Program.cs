using Peers;
using Peers.SgmMySql;

// Peers.SgmMySql <MySQL connection string> <N>: one run of SourceGenMigrations on MySQL/MariaDB, start to exit.
var (connectionString, count, _) = Workload.ParseArgs(args, "Peers.SgmMySql");
await SgmMySqlContender.RunAsync(connectionString, count).ConfigureAwait(false);
