using Peers;
using Peers.FloorPostgres;

// Peers.FloorPostgres <PostgreSQL connection string> <N>: the floor on PostgreSQL, start to exit.
var (connectionString, count, _) = Workload.ParseArgs(args, "Peers.FloorPostgres");
FloorPostgresContender.Run(connectionString, count);
