#!/usr/bin/env bash
# The one command of the cold-start comparison (issue 14): every contender's no-op start (100 and 1,000 migrations
# applied), one process per run, interleaved rounds, SQLite and PostgreSQL: whole process (start to exit) and in process
# (Main to end, JIT compilation included). Builds the contenders (Release, JIT, no ReadyToRun of their own code as
# `dotnet build` leaves them), publishes the NativeAOT ones, and writes artifacts/peers/cold-start.md (and prints it).
# About 10 minutes on a 2-core machine.
#
#   PEERS_COLD_RUNS=15                        # interleaved rounds (default 15)
#   PEERS_ONLY=sgm,floor,ef                   # a subset of contenders (keys: floor sgm fm dbup ef floor-aot sgm-aot)
#   PEERS_PG_CONNECTION_STRING="Host=...;Port=...;Username=...;Database=postgres"   # a PostgreSQL server of your own
#                                             (it creates and drops sgm_cold_* databases); unset: a throwaway cluster
#                                             from the Debian binaries when they are installed; PEERS_POSTGRES=0: skip it
#   PEERS_AOT=0                               # skip the NativeAOT contenders
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/artifacts/peers
mkdir -p "$out"
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; }
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

source benchmarks/peers/postgres.sh
peers_postgres cold

echo "== build (Release, JIT)"
for p in Floor Sgm FluentMigrator DbUp EfCore FloorPostgres SgmPostgres; do
  dotnet build "benchmarks/peers/Peers.$p" -c Release -nologo -v q
done

if [[ "${PEERS_AOT:-1}" != "0" ]]; then
  echo "== publish NativeAOT (SourceGenMigrations, floor; SQLite, and PostgreSQL when measured)"
  aot_projects=(Sgm Floor)
  [[ -n "${PEERS_PG_CONNECTION_STRING:-}" ]] && aot_projects+=(SgmPostgres FloorPostgres)
  for p in "${aot_projects[@]}"; do
    dotnet publish "benchmarks/peers/Peers.$p" -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14 \
      -nologo -v q -o "$out/aot/Peers.$p"
  done
fi

echo "== cold starts"
python3 benchmarks/peers/cold_start.py --root "$root" --out "$out"
