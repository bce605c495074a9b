#!/usr/bin/env bash
# The whole suite against SQLite and a private PostgreSQL server, which is stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
fi
exit "$status"
