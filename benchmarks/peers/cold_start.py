#!/usr/bin/env python3
"""Cold starts with nothing to do (issue 14): every contender's no-op, one process per run, side by side.

For N = 100 and 1,000 migrations already applied (SQLite file; PostgreSQL when PEERS_PG_CONNECTION_STRING is set), each
round starts every contender twice, in a rotated order: once timed from outside (start to exit: time.perf_counter_ns
around the process) and once reporting its own time from the first line of Main to the end of the run
(PEERS_REPORT_MAIN_MS=1, read from stderr: the in-process figure, JIT compilation included). JIT contenders run as
`dotnet build` leaves them (no ReadyToRun of the contender itself); the NativeAOT ones are those run-peers.sh published.
Writes cold-start.md (medians, min-max, ratios, the issue's targets) and cold-start.json into --out.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time

from peers_common import pg_database, psql, remove

P = argparse.ArgumentParser()
P.add_argument("--root", required=True)
P.add_argument("--out", required=True)
P.add_argument("--runs", type=int, default=int(os.environ.get("PEERS_COLD_RUNS", "15")))
P.add_argument("--only", default=os.environ.get("PEERS_ONLY", ""), help="comma-separated contender keys")
A = P.parse_args()

JIT = os.path.join(A.root, "benchmarks/peers/{0}/bin/Release/net10.0/{0}")
AOT = os.path.join(A.out, "aot/{0}/{0}")
PG = os.environ.get("PEERS_PG_CONNECTION_STRING", "")

# key, label, program
# key, label, program, extra arguments. "floor" is issue 14's floor: the file opened with the same provider, its journal
# table read once, no lock (the durable cases' floor, which has nothing to commit on a no-op); "floor-sql" issues the
# statements a SourceGenMigrations run under its locks issues (database lock, tables, lease, list, release).
SQLITE = [
    ("floor", "floor (raw SQL: journal read, no lock)", JIT.format("Peers.Floor"), ["--durable=wal"]),
    ("floor-sql", "floor (raw SQL: our locked run's statements)", JIT.format("Peers.Floor"), []),
    ("sgm", "SourceGenMigrations", JIT.format("Peers.Sgm"), []),
    ("fm", "FluentMigrator 8.0.1", JIT.format("Peers.FluentMigrator"), []),
    ("dbup", "DbUp 6.1.1", JIT.format("Peers.DbUp"), []),
    ("ef", "EF Core 10.0.15", JIT.format("Peers.EfCore"), []),
    ("floor-aot", "floor (journal read, no lock), NativeAOT", AOT.format("Peers.Floor"), ["--durable=wal"]),
    ("sgm-aot", "SourceGenMigrations, NativeAOT", AOT.format("Peers.Sgm"), []),
]
POSTGRES = [
    ("floor", "floor (raw SQL: journal read, no lock)", JIT.format("Peers.FloorPostgres"), ["--durable"]),
    ("floor-sql", "floor (raw SQL: our locked run's statements)", JIT.format("Peers.FloorPostgres"), []),
    ("sgm", "SourceGenMigrations", JIT.format("Peers.SgmPostgres"), []),
    ("fm", "FluentMigrator 8.0.1", JIT.format("Peers.FluentMigrator"), []),
    ("dbup", "DbUp 6.1.1", JIT.format("Peers.DbUp"), []),
    ("ef", "EF Core 10.0.15 (Npgsql.EntityFrameworkCore.PostgreSQL 10.0.3)", JIT.format("Peers.EfCore"), []),
    ("floor-aot", "floor (journal read, no lock), NativeAOT", AOT.format("Peers.FloorPostgres"), ["--durable"]),
    ("sgm-aot", "SourceGenMigrations, NativeAOT", AOT.format("Peers.SgmPostgres"), []),
]


def available(contenders):
    keep = set(A.only.split(",")) if A.only else None
    aot = os.environ.get("PEERS_AOT", "1") != "0"
    return [c for c in contenders if os.path.exists(c[2]) and (keep is None or c[0] in keep) and (aot or not c[0].endswith("-aot"))]


def run(cmd, report):
    env = dict(os.environ)
    env.pop("PEERS_REPORT_MAIN_MS", None)
    if report:
        env["PEERS_REPORT_MAIN_MS"] = "1"
    t = time.perf_counter_ns()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    ms = (time.perf_counter_ns() - t) / 1e6
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    if not report:
        return ms
    for line in r.stderr.decode().splitlines():
        if line.startswith("main-ms="):
            return float(line.split("=", 1)[1])
    raise SystemExit(f"{cmd} reported no main-ms")


def measure(database, contenders, targets):
    """targets: key -> (N -> database argument). Returns {(N, key, 'process'|'main'): [ms]}."""
    results = {}
    for n in (100, 1000):
        for key, _, prog, extra in contenders:
            arg = targets[key][n]
            run([prog, arg, str(n)] + extra, False)  # apply
            run([prog, arg, str(n)] + extra, False)  # warm-up (file cache)
        for r in range(A.runs):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for key, _, prog, extra in order:
                arg = targets[key][n]
                results.setdefault((n, key, "process"), []).append(run([prog, arg, str(n)] + extra, False))
                results.setdefault((n, key, "main"), []).append(run([prog, arg, str(n)] + extra, True))
        print(f"  {database} N={n}: " + ", ".join(f"{k} {statistics.median(results[(n, k, 'process')]):.1f}/{statistics.median(results[(n, k, 'main')]):.1f} ms"
                                                    for k, _, _, _ in contenders), flush=True)
    return results


work = tempfile.mkdtemp(prefix="sgm-cold-", dir=os.environ.get("PEERS_DB_DIR") or tempfile.gettempdir())
load_before = os.getloadavg()
started = datetime.datetime.now(datetime.timezone.utc)
all_results = {}
sqlite = available(SQLITE)
all_results["SQLite"] = (sqlite, measure("SQLite", sqlite, {k: {n: os.path.join(work, f"{k}-{n}.db") for n in (100, 1000)} for k, _, _, _ in sqlite}))
if PG:
    if not shutil.which("psql"):
        raise SystemExit("PEERS_PG_CONNECTION_STRING is set but psql is missing")
    postgres = available(POSTGRES)
    targets = {k: {n: pg_database(f"sgm_cold_{k.replace('-', '_')}_{n}") for n in (100, 1000)} for k, _, _, _ in postgres}
    all_results["PostgreSQL"] = (postgres, measure("PostgreSQL", postgres, targets))
    for k in targets:
        for n in (100, 1000):
            psql(f"DROP DATABASE IF EXISTS sgm_cold_{k.replace('-', '_')}_{n} WITH (FORCE)")
shutil.rmtree(work, ignore_errors=True)
load_after = os.getloadavg()

os.makedirs(A.out, exist_ok=True)
lines = []
w = lines.append
w(f"# Cold start with nothing to do (issue 14) — {started:%Y-%m-%d %H:%M} UTC")
w("")
w(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; load average {load_before[0]:.1f} before, "
  f"{load_after[0]:.1f} after. {A.runs} interleaved rounds (rotated order); each round starts every contender twice: start to exit "
  "(whole process) and Main to end (in process, reported by the program). JIT contenders as `dotnet build` leaves them, "
  "no ReadyToRun of their own code. Median (min–max), ms.")


def cell(v):
    return f"{statistics.median(v):.1f} ({min(v):.1f}–{max(v):.1f})" if v else "–"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


verdicts = []
for database, (contenders, results) in all_results.items():
    for n in (1000, 100):
        w("")
        w(f"## {database}, no-op, N = {n:,}")
        w("")
        w("| contender | whole process | in process (Main to end) |")
        w("|---|---:|---:|")
        for key, label, _, _ in contenders:
            w(f"| {label} | {cell(results.get((n, key, 'process'), []))} | {cell(results.get((n, key, 'main'), []))} |")
        med = lambda key, where: statistics.median(results[(n, key, where)]) if (n, key, where) in results else None
        w("")
        w("| ratio (medians) | whole process | in process |")
        w("|---|---:|---:|")
        for peer, name in (("fm", "FluentMigrator"), ("dbup", "DbUp"), ("ef", "EF Core")):
            w(f"| {name} / SourceGenMigrations (> 1: faster than {name}) | {ratio(med(peer, 'process'), med('sgm', 'process'))} | {ratio(med(peer, 'main'), med('sgm', 'main'))} |")
        w(f"| SourceGenMigrations / floor (target ≤ 1.3) | {ratio(med('sgm', 'process'), med('floor', 'process'))} | {ratio(med('sgm', 'main'), med('floor', 'main'))} |")
        w(f"| SourceGenMigrations / floor of our locked run's statements | {ratio(med('sgm', 'process'), med('floor-sql', 'process'))} | {ratio(med('sgm', 'main'), med('floor-sql', 'main'))} |")
        if med("sgm-aot", "process"):
            w(f"| SourceGenMigrations NativeAOT / floor NativeAOT, whole process | {ratio(med('sgm-aot', 'process'), med('floor-aot', 'process'))} | – |")
        for where in ("process", "main"):
            s = med("sgm", where)
            if s is None:
                continue
            faster = all(med(p, where) is None or med(p, where) > s for p in ("fm", "dbup", "ef"))
            floor = med("floor", where)
            verdicts.append((database, n, "whole process" if where == "process" else "in process", faster, s / floor if floor else None))

w("")
w("## Targets (issue 14: faster than FluentMigrator, DbUp and EF Core, and within 1.3× the raw floor)")
w("")
w("| database | N | measured | faster than every peer | SourceGenMigrations / floor |")
w("|---|---:|---|---|---:|")
for database, n, where, faster, floor_ratio in verdicts:
    fr = f"{floor_ratio:.2f}× — {'met' if floor_ratio <= 1.3 else 'missed'}" if floor_ratio else "–"
    w(f"| {database} | {n:,} | {where} | {'met' if faster else 'missed'} | {fr} |")

with open(os.path.join(A.out, "cold-start.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
with open(os.path.join(A.out, "cold-start.json"), "w") as f:
    json.dump({db: {f"{n}/{k}/{where}": v for (n, k, where), v in res.items()} for db, (_, res) in all_results.items()}, f, indent=1)
print("\n".join(lines))
