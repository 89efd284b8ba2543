#!/usr/bin/env python3
"""Whole-process timings of the peer contenders, then the table (with the BenchmarkDotNet in-process figures).

Each case: a database file prepared for the scenario (fresh: no file; no-op: applied once before timing), then
the program started and waited for, timed with time.perf_counter_ns around subprocess.run (start to exit).
Reports median, min and max of the repeats. Used by benchmarks/run-peers.sh.

Cases (PEERS_CASES): "original" (no-op and fresh, N = 100 and 1,000, default mode plus the rollback-journal variants),
"durable" (fresh 1,000 with durable commits, issue 13: (a) SQLite rollback journal + synchronous=FULL, (b) SQLite WAL +
synchronous=FULL, (c) PostgreSQL defaults; the floor commits once per migration; the repeats interleaved round by
round, each round in a rotated contender order, after one untimed run per contender that checks its durability:
fsync/fdatasync calls counted with strace on SQLite, commits and WAL flushes from pg_stat_database / pg_stat_wal on
PostgreSQL), or "all" (default).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time

from peers_common import pg_database, psql, remove

P = argparse.ArgumentParser()
P.add_argument("--root", required=True)
P.add_argument("--out", required=True)
P.add_argument("--noop-runs", type=int, default=int(os.environ.get("PEERS_NOOP_RUNS", "15")))
P.add_argument("--fresh-runs", type=int, default=int(os.environ.get("PEERS_FRESH_RUNS", "5")))
P.add_argument("--durable-runs", type=int, default=int(os.environ.get("PEERS_DURABLE_RUNS", "7")))
P.add_argument("--only", default=os.environ.get("PEERS_ONLY", ""), help="comma-separated contender keys")
P.add_argument("--cases", default=os.environ.get("PEERS_CASES") or "all", choices=("all", "original", "durable"))
A = P.parse_args()
ORIGINAL = A.cases in ("all", "original")
DURABLE = A.cases in ("all", "durable")
load_before = os.getloadavg()

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


proc = {}  # (scenario, N, key) -> list of ms; PostgreSQL keys are prefixed "pg-"
for n in ((100, 1000) if ORIGINAL else ()):
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
if PG and not shutil.which("psql"):
    raise SystemExit("PEERS_PG_CONNECTION_STRING is set but psql is missing (apt-get install postgresql-client)")
if PG and ORIGINAL:
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

# Fresh runs of 1,000 with durable commits (issue 13). Case -> (label, SQLite journal mode or None for PostgreSQL).
DURABLE_CASES = {
    "a": ("(a) SQLite, rollback journal (DELETE), synchronous=FULL", "delete"),
    "b": ("(b) SQLite, WAL, synchronous=FULL", "wal"),
    "c": ("(c) PostgreSQL, server defaults (fsync=on, synchronous_commit=on)", None),
}
# key, label, SQLite program, PostgreSQL program, whether the program takes the case's flag (--durable=… / --durable)
DURABLE_CONTENDERS = [
    ("floor", "floor (one commit per migration), JIT", JIT.format("Peers.Floor"), JIT.format("Peers.FloorPostgres"), True),
    ("floor-aot", "floor (one commit per migration), NativeAOT", AOT.format("Peers.Floor"), AOT.format("Peers.FloorPostgres"), True),
    ("sgm", "SourceGenMigrations, JIT", JIT.format("Peers.Sgm"), JIT.format("Peers.SgmPostgres"), True),
    ("sgm-aot", "SourceGenMigrations, NativeAOT", AOT.format("Peers.Sgm"), AOT.format("Peers.SgmPostgres"), True),
    ("fm", "FluentMigrator 8.0.1, JIT", JIT.format("Peers.FluentMigrator"), JIT.format("Peers.FluentMigrator"), False),
    ("dbup", "DbUp 6.1.1 (dbup-sqlite 6.0.4, dbup-postgresql 7.0.1), JIT", JIT.format("Peers.DbUp"), JIT.format("Peers.DbUp"), False),
]
if A.only:
    DURABLE_CONTENDERS = [c for c in DURABLE_CONTENDERS if c[0] in keep]
DURABLE_N = 1000
durable_rounds = {}  # (case, key) -> list of ms, index = round
durable_checks = {}  # (case, key) -> text: what the untimed checking run saw
pg_durability = ""


def durable_command(case, contender, target):
    key, _, sqlite_prog, pg_prog, takes_flag = contender
    journal = DURABLE_CASES[case][1]
    flags = ([f"--durable={journal}"] if journal else ["--durable"] if key.startswith("floor") else []) if takes_flag else []
    return [pg_prog if journal is None else sqlite_prog, target, str(DURABLE_N)] + flags


def durable_target(case, key):
    """Makes the case's empty database (SQLite: no file, or an empty file already in WAL mode; PostgreSQL: a new database)."""
    if DURABLE_CASES[case][1] is None:
        return pg_database(f"sgm_peers_durable_{key.replace('-', '_')}")
    db = os.path.join(work, f"durable-{case}-{key}.db")
    remove(db)
    if DURABLE_CASES[case][1] == "wal":
        con = sqlite3.connect(db)
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        con.close()
        if mode != "wal":
            raise SystemExit(f"could not put {db} in WAL mode ({mode})")
    return db


def file_journal(db):
    """The file's persistent journal mode (header bytes 18-19: 1 rollback, 2 WAL) and what the run left beside it."""
    with open(db, "rb") as f:
        header = f.read(20)
    mode = {(1, 1): "rollback journal", (2, 2): "WAL"}.get((header[18], header[19]), f"header {header[18]}/{header[19]}")
    left = [suffix for suffix in ("-journal", "-wal") if os.path.exists(db + suffix)]
    return mode + (f", {'/'.join(left)} left" if left else ", no journal file left")


def fsyncs(cmd):
    """Runs cmd under strace (all threads) and returns its fsync + fdatasync calls."""
    trace = os.path.join(work, "strace.txt")
    run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", trace] + cmd)
    calls = 0
    for line in open(trace):
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            calls += int(parts[3])
    return calls


def pg_counters(name):
    v = psql("SELECT (SELECT coalesce(xact_commit, 0) FROM pg_stat_database WHERE datname = '" + name + "'), "
             "(SELECT wal_sync FROM pg_stat_wal)")
    commits, syncs = v.split("|")
    return int(commits or 0), int(syncs or 0)


if DURABLE:
    cases = [c for c in DURABLE_CASES if DURABLE_CASES[c][1] is not None or PG]
    print(f"== durable fresh, N = {DURABLE_N:,}: checking run per contender, then {A.durable_runs} interleaved rounds", flush=True)
    if PG:
        pg_durability = ", ".join(f"{s}={psql('SHOW ' + s)}" for s in ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")) \
            + f"; per-database/role overrides: {psql('SELECT count(*) FROM pg_db_role_setting')}"
    for case in cases:
        for c in DURABLE_CONTENDERS:
            key = c[0]
            target = durable_target(case, key)
            if DURABLE_CASES[case][1] is None:
                name = f"sgm_peers_durable_{key.replace('-', '_')}"
                before = pg_counters(name)
                run(durable_command(case, c, target))
                time.sleep(1.5)  # the contender's backends exit and flush their statistics
                after = pg_counters(name)
                durable_checks[(case, key)] = (f"{(after[0] - before[0]) / DURABLE_N:.2f} commits and "
                                               f"{(after[1] - before[1]) / DURABLE_N:.2f} WAL flushes per migration")
            elif shutil.which("strace"):
                calls = fsyncs(durable_command(case, c, target))
                durable_checks[(case, key)] = f"{calls / DURABLE_N:.2f} fsync+fdatasync per migration; {file_journal(target)}"
            else:
                run(durable_command(case, c, target))
                durable_checks[(case, key)] = f"(strace missing: fsyncs not counted); {file_journal(target)}"
            print(f"  check {case} {key:10} {durable_checks[(case, key)]}", flush=True)
    for r in range(A.durable_runs):
        for case in cases:
            order = DURABLE_CONTENDERS[r % len(DURABLE_CONTENDERS):] + DURABLE_CONTENDERS[:r % len(DURABLE_CONTENDERS)]
            for c in order:
                target = durable_target(case, c[0])
                durable_rounds.setdefault((case, c[0]), []).append(run(durable_command(case, c, target)))
        print(f"  round {r + 1}/{A.durable_runs}: " + "; ".join(
            f"{case} " + " ".join(f"{c[0]} {durable_rounds[(case, c[0])][-1]:.0f}" for c in DURABLE_CONTENDERS) for case in cases), flush=True)
    for (case, key), v in durable_rounds.items():
        proc[("durable", case, key)] = v
    if PG:
        for c in DURABLE_CONTENDERS:
            psql(f"DROP DATABASE IF EXISTS sgm_peers_durable_{c[0].replace('-', '_')} WITH (FORCE)")
load_after = os.getloadavg()

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
        vals = [m["Nanoseconds"] / m["Operations"] / 1e6 for m in b["Measurements"]
                if m["IterationMode"] == "Workload" and m["IterationStage"] == "Result"]
        if "Durable" in b["Type"]:
            case = "c" if "Postgres" in b["Type"] else {"RollbackFull": "a", "WalFull": "b"}[params["Durability"]]
            inproc[("durable", case, BDN_KEYS[params["Contender"]])] = vals
            continue
        scenario = "no-op" if b["Method"] == "NoOp" else "fresh"
        prefix = "pg-" if "Postgres" in b["Type"] else ""
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



def cpu_name():
    """The processor's name: BenchmarkDotNet's, else lscpu's "Model name"."""
    if host.get("ProcessorName"):
        return host["ProcessorName"].strip()
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        return next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name")), platform.processor())
    except OSError:
        return platform.processor()


lines = []
w = lines.append
w(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
  f"{cpu_name()}, {os.cpu_count()} logical cores; "
  f"{host.get('OsVersion', platform.platform())}; {host.get('RuntimeVersion', '.NET ?')}; "
  f"{host.get('BenchmarkDotNetCaption', 'BenchmarkDotNet')} {host.get('BenchmarkDotNetVersion', '')}; "
  f"load average (1, 5, 15 min) {' '.join(f'{x:.2f}' for x in load_before)} before the whole-process timings, "
  f"{' '.join(f'{x:.2f}' for x in load_after)} after.")
w("")


def target(desc, value, ok):
    w(f"| {desc} | {value} | {'met' if ok else '**missed**'} |")


def original_tables():
    w("Milliseconds, median (min–max). In process: BenchmarkDotNet, per run (no-op: steady state, 20 iterations of "
      "~250 ms after 10 warm-ups; fresh: one run per iteration, 5 after 1). Whole process: start to exit, "
      f"{A.noop_runs} runs (no-op) / {A.fresh_runs} runs (fresh).")
    w("")
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
    w("")


def ratio2(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def paired(case, num, den):
    """The min–max over the interleaved rounds of num's time / den's time in the same round."""
    a, b = durable_rounds.get((case, num)), durable_rounds.get((case, den))
    if not (a and b):
        return ""
    r = [x / y for x, y in zip(a, b)]
    return f" ({min(r):.2f}–{max(r):.2f})"


def durable_tables():
    cases = [c for c in DURABLE_CASES if any(k[0] == "durable" and k[1] == c for k in list(inproc) + list(proc))]
    if not cases:
        return
    w(f"**Fresh runs with durable commits, N = {DURABLE_N:,}** (issue 13). Milliseconds, median (min–max). In process: "
      "BenchmarkDotNet, one run per iteration, 5 after 1 warm-up, case after case. Whole process: start to exit, "
      f"{A.durable_runs} interleaved rounds (each round runs every case's contenders once, in an order rotated by one "
      "each round), after one untimed checking run per contender and case.")
    w("")
    for case in cases:
        w(f"- {DURABLE_CASES[case][0]}")
    w("")
    w("| contender | " + " | ".join(f"({c}) in process | ({c}) whole process" for c in cases) + " |")
    w("|---|" + "---:|---:|" * len(cases))
    for key, label, *_ in DURABLE_CONTENDERS:
        w(f"| {label} | " + " | ".join(f"{cell(inproc.get(('durable', c, key)))} | {cell(proc.get(('durable', c, key)))}" for c in cases) + " |")
    w("")
    w("Ratios of medians; whole process: in brackets the min–max of the same ratio within each interleaved round. "
      "\"SGM / floor\": SourceGenMigrations' cost over the floor; \"peer / SGM\": how many times faster SourceGenMigrations is. "
      "NativeAOT rows: SourceGenMigrations and the floor NativeAOT, the peers JIT (they have no NativeAOT build).")
    w("")
    w("| case | SGM / floor | FluentMigrator / SGM | DbUp / SGM |")
    w("|---|---:|---:|---:|")
    verdicts = []
    for case in cases:
        for where, sgm, floor, table in (("in process", "sgm", "floor", inproc), ("whole process, JIT", "sgm", "floor", proc),
                                         ("whole process, NativeAOT", "sgm-aot", "floor-aot", proc)):
            m = lambda k: med(table, "durable", case, k)
            rounds = table is proc
            w(f"| ({case}) {where} | {ratio2(m(sgm), m(floor))}{paired(case, sgm, floor) if rounds else ''} "
              f"| {ratio2(m('fm'), m(sgm))}{paired(case, 'fm', sgm) if rounds else ''} "
              f"| {ratio2(m('dbup'), m(sgm))}{paired(case, 'dbup', sgm) if rounds else ''} |")
            if m(sgm) and m(floor) and m("fm") and m("dbup"):
                verdicts.append((f"({case}) {where}", m(sgm) / m(floor), m("fm") / m(sgm), m("dbup") / m(sgm)))
    w("")
    if verdicts:
        w("| target (issue 13) | within 1.2× the floor | faster than FluentMigrator | faster than DbUp |")
        w("|---|---|---|---|")
        for where, floor_ratio, fm_ratio, dbup_ratio in verdicts:
            ok = lambda good, value: f"{value:.2f}×" + (" met" if good else " **missed**")
            w(f"| {where} | {ok(floor_ratio <= 1.2, floor_ratio)} | {ok(fm_ratio > 1, fm_ratio)} | {ok(dbup_ratio > 1, dbup_ratio)} |")
        w("")
    checked = os.path.join(A.out, "durability-inprocess.json")
    inproc_check = {}
    if os.path.exists(checked):
        d = json.load(open(checked))
        names = {"Floor": "floor", "Sgm": "sgm", "FluentMigrator": "fm", "DbUp": "dbup"}
        for row in d["rows"]:
            case = {"RollbackFull": "a", "WalFull": "b"}.get(row["case"])
            if case and row["contender"] in names:
                inproc_check[(case, names[row["contender"]])] = (
                    f"in process, {row['writing_connections']} own connection(s): {row['seen'] or 'none found'}")
        control = [r for r in d["rows"] if r["case"] == "Control"]
        w(f"**Durability as run.** SQLite {d['sqlite_version']} (Microsoft.Data.Sqlite's bundled e_sqlite3, every SQLite "
          f"contender), compiled with {', '.join(d['compile_options'])}. In process (`--verify-durability`): after one fresh "
          "run, `PRAGMA synchronous` and `PRAGMA journal_mode` on each pooled connection the contender wrote with"
          + (f"; control: SourceGenMigrations with its default options shows {control[0]['seen']} there, so the check "
             "reads the contender's own setting, not only SQLite's default." if control else "."))
    else:
        w("**Durability as run.**")
    w("Whole process: one untimed run per contender and case before the timings; SQLite: fsync + fdatasync calls of the "
      "process and its threads (`strace -f -c`), the file's journal mode after the run (header bytes 18–19) and what was "
      "left beside it; PostgreSQL: the database's commits (`pg_stat_database.xact_commit`) and the server's WAL flushes "
      f"(`pg_stat_wal.wal_sync`) during the run{' (' + pg_durability + ')' if pg_durability else ''}.")
    w("")
    w("| contender | " + " | ".join(f"({c})" for c in cases) + " |")
    w("|---|" + "---|" * len(cases))
    for key, label, *_ in DURABLE_CONTENDERS:
        cells = []
        for c in cases:
            parts = [x for x in (inproc_check.get((c, key)), durable_checks.get((c, key))) if x]
            cells.append("; ".join(parts) or "–")
        w(f"| {label} | " + " | ".join(cells) + " |")
    w("")


if ORIGINAL:
    original_tables()
if DURABLE:
    durable_tables()

text = "\n".join(lines) + "\n"
open(os.path.join(A.out, "peers-table.md"), "w").write(text)
json.dump({"process": {f"{s}|{n}|{k}": v for (s, n, k), v in proc.items()},
           "inprocess": {f"{s}|{n}|{k}": v for (s, n, k), v in inproc.items()}},
          open(os.path.join(A.out, "peers-results.json"), "w"), indent=1)
print()
print(text)
print(f"(written to {os.path.join(A.out, 'peers-table.md')})")
