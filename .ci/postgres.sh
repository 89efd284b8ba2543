# Sourced: start_postgres DIR starts a throwaway PostgreSQL cluster in DIR from the Debian binaries (loopback only,
# a free port, trust auth), as the postgres user when running as root. It sets PG_PORT, and PG_STOP, the command that
# stops it (the caller's exit trap runs it).
start_postgres() {
  local dir=$1 bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || { echo "PostgreSQL binaries not found under /usr/lib/postgresql"; return 1; }
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then chmod o+x "$(dirname "$dir")"; chown postgres "$dir"; as=(runuser -u postgres --); fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  PG_STOP="${as[*]} $bin/pg_ctl -D $dir/data -m immediate stop"
  export PG_PORT
}
