#!/usr/bin/env bash
# A private PostgreSQL server for the tests and benchmarks: loopback only, in a temporary folder.
#   scripts/postgres.sh start   -> starts it and prints `export CITYOS_TEST_POSTGRES_URL=...`
#   scripts/postgres.sh stop    -> stops it and removes its folder
# PostgreSQL is installed from Debian's packages when missing.
set -euo pipefail

state="${CITYOS_PG_STATE:-${TMPDIR:-/tmp}/cityos-postgres-$(id -u)}"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_installed() {
  if [ -z "$(pg_bin || true)" ]; then
    echo "PostgreSQL is missing: installing it from Debian's packages" >&2
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
  fi
}

# initdb refuses to run as root; root runs the server as the 'postgres' user instead.
run_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  ensure_installed
  local bin port
  bin=$(pg_bin)
  stop_quietly
  mkdir -p "$state"
  chmod 755 "$state"
  if [ "$(id -u)" = 0 ]; then chown postgres "$state"; fi
  run_pg "$bin/initdb" -D "$state/data" -U cityos --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; exit 1; }
  port=$(free_port)
  run_pg "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$state/server.log" >&2; exit 1; }
  echo "$port" >"$state/port"
  echo "export CITYOS_TEST_POSTGRES_URL=postgresql+psycopg://cityos@127.0.0.1:$port/postgres"
}

stop_quietly() {
  local bin
  bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -f "$state/data/postmaster.pid" ]; then
    run_pg "$bin/pg_ctl" -D "$state/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop_quietly ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
