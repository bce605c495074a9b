#!/usr/bin/env bash
# A private Redis server for the SNS stream tests and benchmarks: loopback only, no disk
# persistence, in a temporary folder.
#   scripts/redis.sh start   -> starts it and prints `export CITYOS_TEST_REDIS_URL=...`
#   scripts/redis.sh stop    -> stops it and removes its folder
# Redis is installed from Debian's packages when missing.
set -euo pipefail

state="${CITYOS_REDIS_STATE:-${TMPDIR:-/tmp}/cityos-redis-$(id -u)}"

ensure_installed() {
  if [ ! -x /usr/bin/redis-server ]; then
    echo "Redis is missing: installing it from Debian's packages" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  ensure_installed
  stop_quietly
  mkdir -p "$state"
  local port
  port=$(free_port)
  /usr/bin/redis-server --bind 127.0.0.1 --port "$port" --dir "$state" --save "" --appendonly no \
    --daemonize yes --pidfile "$state/redis.pid" --logfile "$state/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    if /usr/bin/redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
      echo "$port" >"$state/port"
      echo "export CITYOS_TEST_REDIS_URL=redis://127.0.0.1:$port/0"
      return 0
    fi
    sleep 0.1
  done
  cat "$state/redis.log" >&2
  exit 1
}

stop_quietly() {
  if [ -f "$state/redis.pid" ]; then
    local pid
    pid=$(cat "$state/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop_quietly ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
