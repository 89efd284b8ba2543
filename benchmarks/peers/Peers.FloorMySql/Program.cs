using Peers;
using Peers.FloorMySql;

// Peers.FloorMySql <MySQL connection string> <N>: the floor on MySQL/MariaDB, start to exit.
var (connectionString, count, _) = Workload.ParseArgs(args, "Peers.FloorMySql");
FloorMySqlContender.Run(connectionString, count);
