#!/usr/bin/env bash
# The whole suite against SQLite and a private PostgreSQL server, with a private Redis for the
# SNS stream; both are stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
# A server of this run's own, so parallel runs (or a developer's server) are left alone.
CITYOS_PG_STATE="$(mktemp -d "${TMPDIR:-/tmp}/cityos-postgres-XXXXXX")"
export CITYOS_PG_STATE
eval "$(scripts/postgres.sh start)"
CITYOS_REDIS_STATE="$(mktemp -d "${TMPDIR:-/tmp}/cityos-redis-XXXXXX")"
export CITYOS_REDIS_STATE
trap 'scripts/postgres.sh stop; scripts/redis.sh stop' EXIT
eval "$(scripts/redis.sh start)"

status=0
.venv/bin/python -m pytest -n auto "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
fi
exit "$status"
