# Sourced: start_mariadb DIR starts a throwaway MariaDB server in DIR from the Debian binaries (mariadb-install-db,
# /usr/sbin/mariadbd; loopback only, a free port, root without a password), as the mysql user when running as root. It
# sets MARIADB_PORT, and MARIADB_STOP, the command that stops it (the caller's exit trap runs it).
start_mariadb() {
  local dir=$1 as=() i
  command -v mariadb-install-db >/dev/null 2>&1 && [ -x /usr/sbin/mariadbd ] || { echo "MariaDB binaries not found (Debian package mariadb-server)"; return 1; }
  MARIADB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir/data"
  if [ "$(id -u)" -eq 0 ]; then chmod o+x "$(dirname "$dir")"; chown -R mysql:mysql "$dir"; as=(--user=mysql); fi
  mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal --skip-test-db "${as[@]}" >/dev/null
  /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/sock" --port="$MARIADB_PORT" \
    --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/server.log" --skip-name-resolve "${as[@]}" \
    </dev/null >/dev/null 2>&1 &
  MARIADB_STOP="kill $!"
  for i in $(seq 1 600); do
    if mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u root -e "SELECT 1" >/dev/null 2>&1; then
      export MARIADB_PORT; return 0
    fi
    sleep 0.1
  done
  echo "MariaDB did not start:"; tail -n 20 "$dir/server.log"; return 1
}
