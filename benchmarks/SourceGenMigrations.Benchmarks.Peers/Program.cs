using BenchmarkDotNet.Running;
using SourceGenMigrations.Benchmarks.Peers;

// dotnet run -c Release --project benchmarks/SourceGenMigrations.Benchmarks.Peers -- --filter '*'
// (benchmarks/run-peers.sh runs this and the whole-process timings, and writes the table.)
// -- --verify-durability OUT.json: the durability each SQLite contender ran with in the durable-commit cases (DurabilityCheck).
if (args is ["--verify-durability", var output])
{
    return DurabilityCheck.Run(output);
}

// -- --interleaved-postgres-durable ROUNDS: case (c) in process with the contenders interleaved (InterleavedRuns).
if (args is ["--interleaved-postgres-durable", var rounds])
{
    return InterleavedRuns.PostgresDurableFresh(int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture));
}

BenchmarkSwitcher.FromAssembly(typeof(NoOpBenchmarks).Assembly).Run(args);
return 0;
