using BenchmarkDotNet.Running;
using SourceGenMigrations.Benchmarks.Managers;

// dotnet run -c Release --project benchmarks/SourceGenMigrations.Benchmarks.Managers -- --filter '*'
// PostgreSQL cases run when SGM_POSTGRES_CONNECTION_STRING names a server where the benchmark may create databases.
BenchmarkSwitcher.FromAssembly(typeof(ManagerBenchmarks).Assembly).Run(args);
