using BenchmarkDotNet.Running;
using SourceGenMigrations.Benchmarks.Peers;

// dotnet run -c Release --project benchmarks/SourceGenMigrations.Benchmarks.Peers -- --filter '*'
// (benchmarks/run-peers.sh runs this and the whole-process timings, and writes the table.)
// -- --verify-durability OUT.json: the durability each SQLite contender ran with in the durable-commit cases (DurabilityCheck).
if (args is ["--verify-durability", var output])
{
    return DurabilityCheck.Run(output);
}

BenchmarkSwitcher.FromAssembly(typeof(NoOpBenchmarks).Assembly).Run(args);
return 0;
