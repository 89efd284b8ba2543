"""Helpers shared by the peer timing scripts (time_peers.py, cold_start.py): SQLite files, and the PostgreSQL server
of PEERS_PG_CONNECTION_STRING reached with psql."""
import os
import subprocess

PG = os.environ.get("PEERS_PG_CONNECTION_STRING", "")


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


def remove(db):
    """Deletes an SQLite database file and its companions (WAL, shared memory, rollback journal)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(db + suffix)
        except FileNotFoundError:
            pass
