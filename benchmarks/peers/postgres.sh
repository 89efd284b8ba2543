# Sourced by the benchmark scripts after their `cleanup` array and EXIT trap: PostgreSQL is the server named by
# PEERS_PG_CONNECTION_STRING, else a throwaway cluster from the Debian binaries (loopback, a free port, trust auth,
# stopped and removed at exit), else none; PEERS_POSTGRES=0 turns PostgreSQL off.
# peers_postgres NAME: NAME labels the cluster's temp directory.
peers_postgres() {
  if [[ "${PEERS_POSTGRES:-1}" != "0" && -z "${PEERS_PG_CONNECTION_STRING:-}" ]] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    source .ci/postgres.sh
    pg_dir=$(mktemp -d "/tmp/sgm-$1-pg-XXXXXX")
    start_postgres "$pg_dir"
    cleanup+=('$PG_STOP >/dev/null 2>&1 || true; rm -rf "$pg_dir"')
    export PEERS_PG_CONNECTION_STRING="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
    echo "== PostgreSQL: throwaway cluster on port $PG_PORT"
  fi
  if [[ "${PEERS_POSTGRES:-1}" == "0" ]]; then unset PEERS_PG_CONNECTION_STRING; fi
}
