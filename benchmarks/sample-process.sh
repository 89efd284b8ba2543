#!/usr/bin/env bash
# Whole-process figures of the sample service: binary size, and start-to-exit time of a no-op run (an SQLite file
# whose migrations are all completed: the path every service start takes), NativeAOT and JIT, medians of repeated runs.
#   bash benchmarks/sample-process.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-30}
cc=clang
command -v clang >/dev/null 2>&1 || cc=clang-14
aot="$root/artifacts/bench-sample-aot"
jit="$root/artifacts/bench-sample-jit"
dotnet publish samples/SourceGenMigrations.Sample -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker="$cc" -o "$aot" >/dev/null
dotnet publish samples/SourceGenMigrations.Sample -c Release -r linux-x64 --self-contained false -o "$jit" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Migrate once so that every timed run is a no-op.
"$aot/SourceGenMigrations.Sample" >/dev/null
python3 - "$runs" "$aot/SourceGenMigrations.Sample" "$jit/SourceGenMigrations.Sample" <<'PY'
import os, statistics, subprocess, sys, time
runs = int(sys.argv[1])
for label, binary in (("NativeAOT", sys.argv[2]), ("JIT (framework-dependent)", sys.argv[3])):
    subprocess.run([binary], check=True, capture_output=True)  # warm the page cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([binary], capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
        if result.returncode != 0 or b"Nothing to migrate" not in result.stdout + result.stderr:
            sys.exit(f"{label}: the run was not a no-op:\n{(result.stdout + result.stderr).decode()}")
    folder = os.path.dirname(binary)
    size = sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)
               if not name.endswith((".pdb", ".dbg")) and os.path.isfile(os.path.join(folder, name)))
    print(f"{label}: no-op start to exit median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs); executable {os.path.getsize(binary) / 1048576:.1f} MiB, "
          f"published folder without symbols {size / 1048576:.1f} MiB")
PY
