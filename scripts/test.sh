#!/usr/bin/env bash
# The whole suite against SQLite and a private PostgreSQL server, which is stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
# A server of this run's own, so parallel runs (or a developer's server) are left alone.
CITYOS_PG_STATE="$(mktemp -d "${TMPDIR:-/tmp}/cityos-postgres-XXXXXX")"
export CITYOS_PG_STATE
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT

status=0
.venv/bin/python -m pytest -n auto "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
fi
exit "$status"
