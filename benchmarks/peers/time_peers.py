#!/usr/bin/env python3
"""Whole-process timings of the peer contenders, then the table (with the BenchmarkDotNet in-process figures).

Each case: a database file prepared for the scenario (fresh: no file; no-op: applied once before timing), then
the program started and waited for, timed with time.perf_counter_ns around subprocess.run (start to exit).
Reports median, min and max of the repeats. Used by benchmarks/run-peers.sh.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time

P = argparse.ArgumentParser()
P.add_argument("--root", required=True)
P.add_argument("--out", required=True)
P.add_argument("--noop-runs", type=int, default=int(os.environ.get("PEERS_NOOP_RUNS", "15")))
P.add_argument("--fresh-runs", type=int, default=int(os.environ.get("PEERS_FRESH_RUNS", "5")))
P.add_argument("--only", default=os.environ.get("PEERS_ONLY", ""), help="comma-separated contender keys")
A = P.parse_args()

JIT = os.path.join(A.root, "benchmarks/peers/{0}/bin/Release/net10.0/{0}")
AOT = os.path.join(A.out, "aot/{0}/{0}")

# key, label, command prefix (the program, then <db> <N> and flags)
CONTENDERS = [
    ("floor", "floor (raw SQL), JIT", [JIT.format("Peers.Floor")], []),
    ("floor-aot", "floor (raw SQL), NativeAOT", [AOT.format("Peers.Floor")], []),
    ("sgm", "SourceGenMigrations, JIT", [JIT.format("Peers.Sgm")], []),
    ("sgm-aot", "SourceGenMigrations, NativeAOT", [AOT.format("Peers.Sgm")], []),
    ("fm", "FluentMigrator 8.0.1, JIT", [JIT.format("Peers.FluentMigrator")], []),
    ("dbup", "DbUp 6.1.1, JIT", [JIT.format("Peers.DbUp")], []),
    ("floor-nowal", "floor, rollback journal, JIT", [JIT.format("Peers.Floor")], ["--no-wal"]),
    ("sgm-nowal", "SourceGenMigrations, rollback journal, JIT", [JIT.format("Peers.Sgm")], ["--no-wal"]),
]
if A.only:
    keep = set(A.only.split(","))
    CONTENDERS = [c for c in CONTENDERS if c[0] in keep]

db_root = os.environ.get("PEERS_DB_DIR") or tempfile.gettempdir()
work = tempfile.mkdtemp(prefix="sgm-peers-proc-", dir=db_root)


def remove(db):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(db + suffix)
        except FileNotFoundError:
            pass


def run(cmd):
    t = time.perf_counter_ns()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ns = time.perf_counter_ns() - t
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return ns / 1e6


PG = os.environ.get("PEERS_PG_CONNECTION_STRING", "")
# On PostgreSQL: the floor and SourceGenMigrations are programs of their own (no binary carries both drivers).
PG_CONTENDERS = [
    ("floor", "floor (raw SQL), JIT", [JIT.format("Peers.FloorPostgres")], []),
    ("floor-aot", "floor (raw SQL), NativeAOT", [AOT.format("Peers.FloorPostgres")], []),
    ("sgm", "SourceGenMigrations, JIT", [JIT.format("Peers.SgmPostgres")], []),
    ("sgm-aot", "SourceGenMigrations, NativeAOT", [AOT.format("Peers.SgmPostgres")], []),
    ("fm", "FluentMigrator 8.0.1, JIT", [JIT.format("Peers.FluentMigrator")], []),
    ("dbup", "DbUp 6.1.1 (dbup-postgresql 7.0.1), JIT", [JIT.format("Peers.DbUp")], []),
]
if A.only:
    PG_CONTENDERS = [c for c in PG_CONTENDERS if c[0] in keep]


def pg_settings(cs):
    return {k.strip().lower(): v.strip() for k, v in (p.split("=", 1) for p in cs.split(";") if "=" in p)}


def psql(sql):
    """Runs sql on the server of PEERS_PG_CONNECTION_STRING; returns its output (unaligned, tuples only)."""
    o = pg_settings(PG)
    env = dict(os.environ, PGPASSWORD=o.get("password", ""))
    r = subprocess.run(["psql", "-q", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", o.get("host", "127.0.0.1"), "-p", o.get("port", "5432"),
                        "-U", o.get("username", "postgres"), "-d", o.get("database", "postgres"), "-c", sql],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"psql failed: {r.stderr.decode()[-2000:]}")
    return r.stdout.decode().strip()


def pg_database(name):
    """A new, empty database; returns its connection string."""
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    parts = [p for p in PG.split(";") if p and not p.strip().lower().startswith("database=")]
    return ";".join(parts + [f"Database={name}"])


proc = {}  # (scenario, N, key) -> list of ms; PostgreSQL keys are prefixed "pg-"
for n in (100, 1000):
    for key, label, prog, flags in CONTENDERS:
        db = os.path.join(work, f"{key}-{n}.db")
        cmd = lambda: prog + [db, str(n)] + flags
        # no-op: apply once (untimed), one untimed warm-up start (file cache), then the timed starts.
        remove(db)
        run(cmd())
        run(cmd())
        proc[("no-op", n, key)] = [run(cmd()) for _ in range(A.noop_runs)]
        times = []
        for _ in range(A.fresh_runs):
            remove(db)
            times.append(run(cmd()))
        proc[("fresh", n, key)] = times
        remove(db)
        s = lambda v: f"{statistics.median(v):.1f} ms"
        print(f"  N={n:<5} {label:45} no-op {s(proc[('no-op', n, key)]):>12}   fresh {s(proc[('fresh', n, key)]):>12}", flush=True)
if PG:
    if not shutil.which("psql"):
        raise SystemExit("PEERS_PG_CONNECTION_STRING is set but psql is missing (apt-get install postgresql-client)")
    for n in (100, 1000):
        for key, label, prog, flags in PG_CONTENDERS:
            name = f"sgm_peers_proc_{key.replace('-', '_')}_{n}"
            db = pg_database(name)
            cmd = lambda: prog + [db, str(n)]
            run(cmd())
            run(cmd())
            proc[("no-op", n, "pg-" + key)] = [run(cmd()) for _ in range(A.noop_runs)]
            times = []
            for _ in range(A.fresh_runs):
                db = pg_database(name)
                times.append(run(cmd()))
            proc[("fresh", n, "pg-" + key)] = times
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            s = lambda v: f"{statistics.median(v):.1f} ms"
            print(f"  PostgreSQL N={n:<5} {label:34} no-op {s(proc[('no-op', n, 'pg-' + key)]):>12}   fresh {s(proc[('fresh', n, 'pg-' + key)]):>12}", flush=True)

shutil.rmtree(work, ignore_errors=True)

# In-process figures from BenchmarkDotNet (Workload/Result measurements, overhead subtracted), per operation: a no-op
# iteration makes as many runs as fill 250 ms, a fresh iteration one.
BDN_KEYS = {"Floor": "floor", "Sgm": "sgm", "FluentMigrator": "fm", "DbUp": "dbup",
            "FloorNoWal": "floor-nowal", "SgmNoWal": "sgm-nowal"}
inproc = {}
host = {}
for f in glob.glob(os.path.join(A.out, "bdn/results/*-report-full-compressed.json")):
    d = json.load(open(f))
    host = d["HostEnvironmentInfo"]
    for b in d["Benchmarks"]:
        params = dict(p.split("=", 1) for p in b["Parameters"].split("&"))
        scenario = "no-op" if b["Method"] == "NoOp" else "fresh"
        prefix = "pg-" if "Postgres" in b["Type"] else ""
        vals = [m["Nanoseconds"] / m["Operations"] / 1e6 for m in b["Measurements"]
                if m["IterationMode"] == "Workload" and m["IterationStage"] == "Result"]
        if params["Contender"] not in BDN_KEYS:
            print(f"  (skipping an unknown BenchmarkDotNet contender {params['Contender']!r} in {os.path.basename(f)})")
            continue
        inproc[(scenario, int(params["N"]), prefix + BDN_KEYS[params["Contender"]])] = vals


def cell(v):
    if not v:
        return "–"
    med = statistics.median(v)
    fmt = (lambda x: f"{x:.2f}") if med < 10 else (lambda x: f"{x:.1f}") if med < 100 else (lambda x: f"{x:.0f}")
    return f"{fmt(med)} ({fmt(min(v))}–{fmt(max(v))})"


def med(table, scenario, n, key):
    v = table.get((scenario, n, key))
    return statistics.median(v) if v else None


def ratio(a, b):
    if not (a and b):
        return "–"
    return f"{a / b:.1f}×" if a / b >= 1 else f"{a / b:.2f}×"


host_pg_version = "PostgreSQL " + psql("SHOW server_version") if PG else ""

lines = []
w = lines.append
w(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
  f"{host.get('ProcessorName', platform.processor()).strip()}, {os.cpu_count()} logical cores; "
  f"{host.get('OsVersion', platform.platform())}; .NET {host.get('RuntimeVersion', '?')}; "
  f"{host.get('BenchmarkDotNetCaption', 'BenchmarkDotNet')} {host.get('BenchmarkDotNetVersion', '')}.")
w("")
w("Milliseconds, median (min–max). In process: BenchmarkDotNet, per run (no-op: steady state, 20 iterations of "
  "~250 ms after 10 warm-ups; fresh: one run per iteration, 5 after 1). Whole process: start to exit, "
  f"{A.noop_runs} runs (no-op) / {A.fresh_runs} runs (fresh).")
w("")
labels = {c[0]: c[1] for c in CONTENDERS}
for scenario in ("no-op", "fresh"):
    for n in (1000, 100):
        w(f"**{scenario}, N = {n:,}, SQLite file**")
        w("")
        w("| contender | in process | whole process |")
        w("|---|---:|---:|")
        for key, label, _, _ in CONTENDERS:
            w(f"| {label} | {cell(inproc.get((scenario, n, key)))} | {cell(proc.get((scenario, n, key)))} |")
        w("")
if any(k[2].startswith("pg-") for k in list(inproc) + list(proc)):
    w("**PostgreSQL** (" + (host_pg_version or "server") + "; a new database per fresh run; default durability: every commit waits for fsync)")
    w("")
    for n in (1000, 100):
        w(f"| PostgreSQL, N = {n:,} | no-op in process | no-op whole process | fresh in process | fresh whole process |")
        w("|---|---:|---:|---:|---:|")
        for key, label, _, _ in PG_CONTENDERS:
            k = "pg-" + key
            w(f"| {label} | {cell(inproc.get(('no-op', n, k)))} | {cell(proc.get(('no-op', n, k)))} | {cell(inproc.get(('fresh', n, k)))} | {cell(proc.get(('fresh', n, k)))} |")
        w("")
    w("| PostgreSQL ratios (medians) | FluentMigrator / SGM | DbUp / SGM | SGM / floor |")
    w("|---|---:|---:|---:|")
    for scenario in ("no-op", "fresh"):
        for n in (1000, 100):
            m = lambda k: med(inproc, scenario, n, "pg-" + k)
            w(f"| {scenario} {n:,}, in process | {ratio(m('fm'), m('sgm'))} | {ratio(m('dbup'), m('sgm'))} | {ratio(m('sgm'), m('floor'))} |")
            m = lambda k: med(proc, scenario, n, "pg-" + k)
            w(f"| {scenario} {n:,}, whole process, SGM NativeAOT | {ratio(m('fm'), m('sgm-aot'))} | {ratio(m('dbup'), m('sgm-aot'))} | {ratio(m('sgm-aot'), m('floor-aot'))} (AOT floor) |")
    w("")
w("**Ratios (medians, SQLite).** \"peer / SGM\": how many times faster SourceGenMigrations is; \"SGM / floor\": its cost over the floor.")
w("")
w("| case | FluentMigrator / SGM | DbUp / SGM | SGM / floor | SGM rollback journal: FluentMigrator / SGM | SGM / floor (both rollback journal) |")
w("|---|---:|---:|---:|---:|---:|")
for scenario in ("no-op", "fresh"):
    for n in (1000, 100):
        for where, table in (("in process", inproc), ("whole process, JIT", proc)):
            m = lambda k: med(table, scenario, n, k)
            w(f"| {scenario} {n:,}, {where} | {ratio(m('fm'), m('sgm'))} | {ratio(m('dbup'), m('sgm'))} | {ratio(m('sgm'), m('floor'))} "
              f"| {ratio(m('fm'), m('sgm-nowal'))} | {ratio(m('sgm-nowal'), m('floor-nowal'))} |")
        m = lambda k: med(proc, scenario, n, k)
        w(f"| {scenario} {n:,}, whole process, SGM NativeAOT | {ratio(m('fm'), m('sgm-aot'))} | {ratio(m('dbup'), m('sgm-aot'))} "
          f"| {ratio(m('sgm-aot'), m('floor-aot'))} (AOT floor) | – | – |")
w("")


def target(desc, value, ok):
    w(f"| {desc} | {value} | {'met' if ok else '**missed**'} |")


w("| target (issue 7; SQLite, the embedded default) | measured | |")
w("|---|---:|---|")
i = lambda s, k: med(inproc, s, 1000, k)
p = lambda s, k: med(proc, s, 1000, k)
if i("no-op", "fm") and i("no-op", "sgm") and i("no-op", "floor"):
    target("no-op 1,000 in process: ≥ 10× faster than FluentMigrator", ratio(i("no-op", "fm"), i("no-op", "sgm")), i("no-op", "fm") / i("no-op", "sgm") >= 10)
    target("no-op 1,000 in process: ≤ 2× the floor", ratio(i("no-op", "sgm"), i("no-op", "floor")), i("no-op", "sgm") / i("no-op", "floor") <= 2)
if i("fresh", "fm") and i("fresh", "sgm") and i("fresh", "floor"):
    target("fresh 1,000 in process: ≥ 3× faster than FluentMigrator", ratio(i("fresh", "fm"), i("fresh", "sgm")), i("fresh", "fm") / i("fresh", "sgm") >= 3)
    target("fresh 1,000 in process: ≤ 1.5× the floor", ratio(i("fresh", "sgm"), i("fresh", "floor")), i("fresh", "sgm") / i("fresh", "floor") <= 1.5)
if p("no-op", "fm") and p("no-op", "sgm-aot"):
    target("no-op 1,000, NativeAOT process vs FluentMigrator's process: ≥ 10× faster", ratio(p("no-op", "fm"), p("no-op", "sgm-aot")), p("no-op", "fm") / p("no-op", "sgm-aot") >= 10)
if p("no-op", "sgm-aot"):
    target("DESIGN.md: no-op 1,000, NativeAOT process ≤ 50 ms", f"{p('no-op', 'sgm-aot'):.1f} ms", p("no-op", "sgm-aot") <= 50)
if i("no-op", "sgm"):
    target("DESIGN.md: no-op 1,000 in process ≤ 5 ms", f"{i('no-op', 'sgm'):.2f} ms", i("no-op", "sgm") <= 5)
if i("fresh", "sgm"):
    target("DESIGN.md: fresh 1,000 in process ≤ 1 s", f"{i('fresh', 'sgm'):.0f} ms", i("fresh", "sgm") <= 1000)

text = "\n".join(lines) + "\n"
open(os.path.join(A.out, "peers-table.md"), "w").write(text)
json.dump({"process": {f"{s}|{n}|{k}": v for (s, n, k), v in proc.items()},
           "inprocess": {f"{s}|{n}|{k}": v for (s, n, k), v in inproc.items()}},
          open(os.path.join(A.out, "peers-results.json"), "w"), indent=1)
print()
print(text)
print(f"(written to {os.path.join(A.out, 'peers-table.md')})")
