#!/usr/bin/env bash
# The one command of the peer comparison (issue 7): builds the contenders, publishes the NativeAOT ones, runs the
# in-process BenchmarkDotNet figures, times whole processes (median of repeated runs) and writes the table to
# artifacts/peers/peers-table.md (and prints it). About 25 minutes on a 2-core machine (PEERS_CASES=durable: 10-15).
#
#   benchmarks/run-peers.sh                 # everything
#   PEERS_SKIP_BDN=1 benchmarks/run-peers.sh   # whole processes only (reuses an earlier BenchmarkDotNet result if any)
#   PEERS_NOOP_RUNS=15 PEERS_FRESH_RUNS=5     # repeats of each whole-process case (defaults)
#   PEERS_DB_DIR=/some/disk                   # where the database files go (default: a folder in the temp directory)
#   PEERS_CONTENDERS=Sgm,Floor               # in-process contenders (default: all); PEERS_ONLY=sgm,floor for whole processes
#   PEERS_CASES=durable                       # only the fresh runs with durable commits (issue 13; a few minutes);
#                                             PEERS_CASES=original: only the no-op and fresh cases of issue 7; default all
#   PEERS_DURABLE_RUNS=7                      # interleaved rounds of the durable cases' whole-process timings
#   PEERS_PG_CONNECTION_STRING="Host=...;Port=...;Username=...;Database=postgres"   # PostgreSQL server to use
#                                             (it creates and drops sgm_peers_* databases); unset: a throwaway cluster
#                                             from the Debian binaries when they are installed; PEERS_POSTGRES=0: skip it
#   PEERS_MYSQL_CONNECTION_STRING="Server=...;Port=...;User ID=...;Password=..."    # MySQL/MariaDB server to use
#                                             (issue 18: no-op and fresh 1,000 in process; it creates and drops
#                                             sgm_peers_* databases); unset: a throwaway MariaDB from the Debian binaries
#                                             when they are installed; PEERS_MYSQL=0: skip it
#   PEERS_CASES=mysql                         # only the MySQL/MariaDB cases (in process; a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/artifacts/peers
mkdir -p "$out"

cases=${PEERS_CASES:-all}
[[ "$cases" =~ ^(all|original|durable|mysql)$ ]] || { echo "PEERS_CASES must be all, original, durable or mysql, not '$cases'"; exit 2; }
export PEERS_CASES=$cases
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; }
# strace counts the durable cases' fsyncs (their durability check).
[[ "$cases" =~ ^(original|mysql)$ ]] || command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace; }
[[ "$cases" == mysql ]] && export PEERS_POSTGRES=0
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

source benchmarks/peers/postgres.sh
peers_postgres peers

# MySQL/MariaDB: the given server, else a throwaway MariaDB (loopback, free port, root without a password), else none.
if [[ "${PEERS_MYSQL:-1}" != "0" && -z "${PEERS_MYSQL_CONNECTION_STRING:-}" ]] && [[ -x /usr/sbin/mariadbd ]]; then
  source .ci/mariadb.sh
  mariadb_dir=$(mktemp -d /tmp/sgm-peers-mariadb-XXXXXX)
  start_mariadb "$mariadb_dir"
  cleanup+=('$MARIADB_STOP >/dev/null 2>&1 || true; sleep 1; rm -rf "$mariadb_dir"')
  export PEERS_MYSQL_CONNECTION_STRING="Server=127.0.0.1;Port=$MARIADB_PORT;User ID=root;Password="
  echo "== MariaDB: throwaway server on port $MARIADB_PORT ($(/usr/sbin/mariadbd --version | awk '{print $3}'))"
fi
[[ "${PEERS_MYSQL:-1}" == "0" ]] && unset PEERS_MYSQL_CONNECTION_STRING
ns=SourceGenMigrations.Benchmarks.Peers
filters=()
if [[ "$cases" =~ ^(all|original)$ ]]; then
  filters+=("$ns.NoOpBenchmarks*" "$ns.FreshBenchmarks*")
  [[ -n "${PEERS_PG_CONNECTION_STRING:-}" ]] && filters+=("$ns.PostgresNoOpBenchmarks*" "$ns.PostgresFreshBenchmarks*")
fi
if [[ -n "${PEERS_MYSQL_CONNECTION_STRING:-}" && "$cases" =~ ^(all|original|mysql)$ ]]; then
  filters+=("$ns.MySqlNoOpBenchmarks*" "$ns.MySqlFreshBenchmarks*")
fi
[[ "$cases" == mysql && -z "${PEERS_MYSQL_CONNECTION_STRING:-}" ]] && { echo "PEERS_CASES=mysql needs MariaDB (Debian mariadb-server) or PEERS_MYSQL_CONNECTION_STRING"; exit 2; }
if [[ "$cases" =~ ^(all|durable)$ ]]; then
  filters+=("$ns.DurableFreshBenchmarks*")
  [[ -n "${PEERS_PG_CONNECTION_STRING:-}" ]] && filters+=("$ns.PostgresDurableFreshBenchmarks*")
fi

echo "== build (Release, JIT)"
dotnet build benchmarks/SourceGenMigrations.Benchmarks.Peers -c Release -nologo -v q

echo "== publish NativeAOT (SourceGenMigrations, floor; SQLite, and PostgreSQL when measured)"
aot_projects=()
[[ "$cases" != mysql ]] && aot_projects+=(Sgm Floor)
[[ -n "${PEERS_PG_CONNECTION_STRING:-}" ]] && aot_projects+=(SgmPostgres FloorPostgres)
for p in ${aot_projects[@]+"${aot_projects[@]}"}; do
  dotnet publish "benchmarks/peers/Peers.$p" -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14 \
    -nologo -v q -o "$out/aot/Peers.$p"
done

bdn=(dotnet "benchmarks/SourceGenMigrations.Benchmarks.Peers/bin/Release/net10.0/SourceGenMigrations.Benchmarks.Peers.dll")
rm -f "$out/durability-inprocess.json"
if [[ "$cases" =~ ^(all|durable)$ ]]; then
  echo "== durability of each SQLite contender, on its own connections (in process)"
  "${bdn[@]}" --verify-durability "$out/durability-inprocess.json"
fi

if [[ "${PEERS_SKIP_BDN:-}" != "1" ]]; then
  echo "== in process (BenchmarkDotNet)"
  rm -rf "$out/bdn"
  "${bdn[@]}" --filter "${filters[@]}" --artifacts "$out/bdn" --exporters json github | tee "$out/bdn.log" | grep -E '^\|' || true
fi

# Case (c) in process again with the contenders interleaved: BenchmarkDotNet measures them one after another and, in
# process, raises the main thread's priority, where the synchronous peers do all their work (benchmarks/README.md).
if [[ "$cases" =~ ^(all|durable)$ && -n "${PEERS_PG_CONNECTION_STRING:-}" ]]; then
  echo "== durable fresh on PostgreSQL in process, contenders interleaved"
  "${bdn[@]}" --interleaved-postgres-durable "${PEERS_DURABLE_RUNS:-7}" | tee "$out/interleaved-postgres-durable.md"
fi

# The MySQL/MariaDB cases are in process only (issue 18's targets are in process).
if [[ "$cases" == mysql ]]; then
  echo "== MySQL/MariaDB in process: $out/bdn/results (github tables), $out/bdn.log"
  exit 0
fi

echo "== whole processes"
python3 benchmarks/peers/time_peers.py --root "$root" --out "$out"
