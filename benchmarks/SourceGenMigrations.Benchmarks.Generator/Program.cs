using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(SourceGenMigrations.Benchmarks.Generator.GeneratorBenchmarks).Assembly).Run(args);
