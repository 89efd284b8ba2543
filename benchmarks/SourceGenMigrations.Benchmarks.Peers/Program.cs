using BenchmarkDotNet.Running;
using SourceGenMigrations.Benchmarks.Peers;

// dotnet run -c Release --project benchmarks/SourceGenMigrations.Benchmarks.Peers -- --filter '*'
// (benchmarks/run-peers.sh runs this and the whole-process timings, and writes the table.)
BenchmarkSwitcher.FromAssembly(typeof(NoOpBenchmarks).Assembly).Run(args);
