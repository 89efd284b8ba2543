#!/usr/bin/env bash
# The one command of the peer comparison (issue 7): builds the contenders, publishes the NativeAOT ones, runs the
# in-process BenchmarkDotNet figures, times whole processes (median of repeated runs) and writes the table to
# artifacts/peers/peers-table.md (and prints it). About 10-15 minutes on a 2-core machine.
#
#   benchmarks/run-peers.sh                 # everything
#   PEERS_SKIP_BDN=1 benchmarks/run-peers.sh   # whole processes only (reuses an earlier BenchmarkDotNet result if any)
#   PEERS_NOOP_RUNS=15 PEERS_FRESH_RUNS=5     # repeats of each whole-process case (defaults)
#   PEERS_DB_DIR=/some/disk                   # where the database files go (default: a folder in the temp directory)
#   PEERS_CONTENDERS=Sgm,Floor               # in-process contenders (default: all); PEERS_ONLY=sgm,floor for whole processes
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/artifacts/peers
mkdir -p "$out"

command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; }

echo "== build (Release, JIT)"
dotnet build benchmarks/SourceGenMigrations.Benchmarks.Peers -c Release -nologo -v q

echo "== publish NativeAOT (SourceGenMigrations, floor)"
for p in Sgm Floor; do
  dotnet publish "benchmarks/peers/Peers.$p" -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14 \
    -nologo -v q -o "$out/aot/Peers.$p"
done

if [[ "${PEERS_SKIP_BDN:-}" != "1" ]]; then
  echo "== in process (BenchmarkDotNet)"
  rm -rf "$out/bdn"
  dotnet "benchmarks/SourceGenMigrations.Benchmarks.Peers/bin/Release/net10.0/SourceGenMigrations.Benchmarks.Peers.dll" \
    --filter '*' --artifacts "$out/bdn" --exporters json github | tee "$out/bdn.log" | grep -E '^\|' || true
fi

echo "== whole processes"
python3 benchmarks/peers/time_peers.py --root "$root" --out "$out"
