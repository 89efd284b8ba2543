#!/usr/bin/env bash
# Publishes the sample with NativeAOT (zero IL2xxx/IL3xxx warnings allowed) and runs the native binary against a
# fresh SQLite file, a throwaway PostgreSQL cluster and a throwaway MariaDB server, checking exit codes and the `status`
# output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/artifacts/aot-sample"
log="$root/artifacts/aot-publish.log"
mkdir -p "$root/artifacts"
cc=clang
command -v clang >/dev/null 2>&1 || cc=clang-14

dotnet publish samples/SourceGenMigrations.Sample -c Release -r linux-x64 -p:PublishAot=true \
  -p:CppCompilerAndLinker="$cc" -o "$out" 2>&1 | tee "$log"
if grep -qE "warning IL[23][0-9]{3}" "$log"; then
  echo "the AOT publish reported trim/AOT warnings:"; grep -E "warning IL[23][0-9]{3}" "$log" | sort -u
  exit 1
fi
binary="$out/SourceGenMigrations.Sample"
[ -x "$binary" ] || { echo "no native binary at $binary"; exit 1; }
echo "native binary: $(du -h "$binary" | cut -f1)"

expect() { # expect PATTERN TEXT: fail with the text when the pattern is missing
  if ! grep -qE "$1" <<<"$2"; then echo "expected /$1/ in:"; echo "$2"; return 1; fi
}
check_status() { # the status table (order, status, action, name, updated, applied by): 1-4, 6 and 7 (a SQL file) completed, 5 disabled and never run
  local text=$1
  expect "^order +status +action +name +updated +applied by$" "$text"
  for order in 1 2 3 4 6; do expect "^ +$order +COMPLETED +skip completed +SourceGenMigrations\\.Sample\\.Migrations\\.[A-Za-z]+( |$)" "$text"; done
  expect "^ +7 +COMPLETED +skip completed +Migrations/0007_create_audit_log\\.sql( |$)" "$text"
  expect "^ +5 +- +skip disabled +SourceGenMigrations.Sample.Migrations.CustomerOrderCountsV1 +- +-$" "$text"
  expect "^up to date$" "$text"
}
check_operations() { # managers with IMigrationOperations (SQLite, PostgreSQL): when and by which build, and the lease
  local text=$1
  expect "^ +6 +COMPLETED +skip completed +[A-Za-z.]+ +[0-9-]+ [0-9:]+ +.* \\(SourceGenMigrations\\.(Hosted)?Sample [0-9]" "$text"
  expect "^migration lease: none$" "$text"
}

work=$(mktemp -d)
PG_STOP=""
MARIADB_STOP=""
trap 'if [ -n "$PG_STOP" ]; then $PG_STOP >/dev/null 2>&1 || true; fi; if [ -n "$MARIADB_STOP" ]; then $MARIADB_STOP >/dev/null 2>&1 || true; sleep 1; fi; rm -rf "$work"' EXIT
cd "$work"
echo "--- SQLite: status before the first run reads only (no database file is created)"
before=$("$binary" status 2>&1); echo "$before"
expect "^6 migration\\(s\\) to run, from order 1 to 7$" "$before"
[ ! -e sample.db ] || { echo "status created sample.db"; exit 1; }
echo "--- SQLite: first run"
first=$("$binary" 2>&1); echo "$first"
expect "Migration 6 .*completed" "$first"
expect "Migration 7 \\(Migrations/0007_create_audit_log.sql\\) completed" "$first"
echo "--- SQLite: second run"
second=$("$binary" 2>&1); echo "$second"
expect "Nothing to migrate" "$second"
echo "--- SQLite: status"
status=$("$binary" status 2>&1); echo "$status"
check_status "$status"
check_operations "$status"
echo "--- SQLite: unlock with no lease held"
unlock=$("$binary" unlock 2>&1); echo "$unlock"
expect "^migration lease: none \\(nothing to release\\)$" "$unlock"
echo "--- usage error"
set +e
usage=$("$binary" migrat 2>&1); code=$?
set -e
echo "$usage"
[ "$code" -eq 2 ] || { echo "an unknown command must exit 2, not $code"; exit 1; }
expect "^error: unknown command 'migrat'$" "$usage"
echo "--- bad configuration"
set +e
bad=$(MIGRATION_DEADLINE_MILLISECONDS=soon "$binary" 2>&1); code=$?
set -e
echo "$bad"
[ "$code" -ne 0 ] || { echo "a bad MIGRATION_* value must fail the run"; exit 1; }
# One line, the step and its cause (what a log or a health check shows).
expect "^error: failed to get the migration configuration: The environment variable MIGRATION_DEADLINE_MILLISECONDS must be an integer, but was 'soon'\\.$" "$bad"

echo "--- PostgreSQL"
source "$root/.ci/postgres.sh"
start_postgres "$work/pg"
pg="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
first=$("$binary" --postgres "$pg" 2>&1); echo "$first"
expect "Migration 6 .*completed" "$first"
second=$("$binary" --postgres "$pg" 2>&1); echo "$second"
expect "Nothing to migrate" "$second"
status=$("$binary" status --postgres "$pg" 2>&1); echo "$status"
check_status "$status"
check_operations "$status"
set +e
bad=$("$binary" --postgres "Host=127.0.0.1;Port=1;Username=postgres;Timeout=2" 2>&1); code=$?
set -e
echo "$bad"
[ "$code" -ne 0 ] || { echo "an unreachable database must fail the run"; exit 1; }
# The error names the server and the database (the user's, none given), never a password.
expect "^error: failed to acquire the database lock: .*\\(PostgreSQL database 'postgres' on host '127\\.0\\.0\\.1' port 1\\)$" "$bad"

echo "--- MySQL/MariaDB"
source "$root/.ci/mariadb.sh"
start_mariadb "$work/mariadb"
mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u root -e "CREATE DATABASE app"
my="Server=127.0.0.1;Port=$MARIADB_PORT;User ID=root;Password=;Database=app"
first=$("$binary" --mysql "$my" 2>&1); echo "$first"
expect "Migration 6 .*completed" "$first"
# The tables are created by DDL, which MySQL commits implicitly: the manager says so for those migrations.
expect "Migration 1 \\(SourceGenMigrations.Sample.Migrations.CreateCustomers\\) contained DDL, which MySQL commits implicitly" "$first"
second=$("$binary" --mysql "$my" 2>&1); echo "$second"
expect "Nothing to migrate" "$second"
status=$("$binary" status --mysql "$my" 2>&1); echo "$status"
check_status "$status"
set +e
bad=$("$binary" --mysql "Server=127.0.0.1;Port=1;User ID=root;Database=app;Connection Timeout=2" 2>&1); code=$?
set -e
echo "$bad"
[ "$code" -ne 0 ] || { echo "an unreachable MySQL server must fail the run"; exit 1; }
expect "^error: failed to acquire the database lock: .*\\(MySQL database 'app' on host '127\\.0\\.0\\.1' port 1\\)$" "$bad"

echo "--- hosted sample (Generic Host): NativeAOT publish and run"
hosted_out="$root/artifacts/aot-hosted"
dotnet publish "$root/samples/SourceGenMigrations.HostedSample" -c Release -r linux-x64 -p:PublishAot=true \
  -p:CppCompilerAndLinker="$cc" -o "$hosted_out" 2>&1 | tee "$root/artifacts/aot-hosted-publish.log"
if grep -qE "warning IL[23][0-9]{3}" "$root/artifacts/aot-hosted-publish.log"; then
  echo "the hosted sample's AOT publish reported trim/AOT warnings"; exit 1
fi
hosted=$("$hosted_out/SourceGenMigrations.HostedSample" 2>&1); echo "$hosted"
expect "Migration 6 .*completed" "$hosted"
expect "Readiness after start-up: Healthy" "$hosted"
hosted_fails() { # hosted_fails PATTERN VARIABLE=VALUE: the hosted sample, given the variable, must fail start-up saying PATTERN
  local out code
  set +e
  out=$(env "$2" "$hosted_out/SourceGenMigrations.HostedSample" 2>&1); code=$?
  set -e
  [ "$code" -ne 0 ] || { echo "$out"; echo "$2 must fail start-up"; exit 1; }
  expect "$1" "$out"
}
hosted_fails "Migration:DeadlineMilliseconds must be an integer, but was 'ten'" Migration__DeadlineMilliseconds=ten
echo "--- hosted sample: the migration command and the hosting modes"
hosted_status=$("$hosted_out/SourceGenMigrations.HostedSample" status 2>&1); echo "$hosted_status"
check_status "$hosted_status"
check_operations "$hosted_status"
waiting=$(Migration__Mode=WaitForCompletion "$hosted_out/SourceGenMigrations.HostedSample" 2>&1); echo "$waiting"
expect "Every enabled migration is completed" "$waiting"
expect "Readiness after start-up: Healthy" "$waiting"
verified=$(Migration__Mode=Verify "$hosted_out/SourceGenMigrations.HostedSample" 2>&1); echo "$verified"
expect "The database is up to date with this build" "$verified"
expect "Readiness after start-up: Healthy" "$verified"
hosted_fails "Migration:Mode must be Apply, WaitForCompletion or Verify, but was 'Wait'" Migration__Mode=Wait
echo "NativeAOT samples: ok"
