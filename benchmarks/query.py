"""Benchmark 2 — query: the DataStore search API under load, cityos against Datasette.

One SQLite database is built with cityos (a generated AED list, ``--rows``, loaded with
``cityos opendata ingest``). THE SAME FILE is then served on 127.0.0.1 by

* ours: ``cityos serve --workers 1`` — ``/api/3/action/datastore_search`` (CKAN API);
* peer: Datasette from ``.venv-bench`` with ``--immutable`` — ``/DB/TABLE.json``.

Both answer the same realistic question — AEDs with child pads (小児対応設備あり) that can be
used every day of the week — with 100 records and the number of matches:

    ours  /api/3/action/datastore_search?resource_id=RID&filters={...}&limit=100
    peer  /cityos/RID.json?小児対応設備の有無=有&利用可能曜日=月火水木金土日&_size=100
          &_shape=objects&_nocol=_full_text

Before any load both URLs are checked: status 200, 100 records, the same total and the
very same 100 records. Then ``wrk`` loads one server at a time (a short warm-up first) and
requests/s, p99 latency and errors are read from its ``--latency`` report.

    .venv/bin/python benchmarks/query.py                         # 100,000 rows, 15 s runs
    .venv/bin/python benchmarks/query.py --rows 5000 --duration 3   # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import aed_data
from benchlib import (
    DEFAULT_BENCH_VENV,
    BenchError,
    Server,
    Workspace,
    WrkResult,
    add_staff_account,
    child_env,
    cityos_command,
    count,
    describe_errors,
    figure_lines,
    free_port,
    http_get,
    load_average,
    machine_line,
    median_run,
    package_version,
    peer_tool,
    ratio,
    run_load,
    step,
    wait_for_http,
    wrk_version,
)

GOAL = 1.0
DATASET = "bench-aed"
# The question both servers answer; neither column is indexed, so both count the matches
# by scanning the table, exactly the same SQL work on the same file.
FILTERS = {"小児対応設備の有無": "有", "利用可能曜日": "月火水木金土日"}
LIMIT = 100
# Datasette's defaults would add work that cityos does not do (facet suggestions run extra
# queries per column) or skip work under load (a count slower than 1 s is dropped).
DATASETTE_SETTINGS = {"suggest_facets": "off", "sql_time_limit_ms": "30000"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="cityos datastore_search vs Datasette table JSON under wrk (same SQLite file)"
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the AED table")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--threads", type=int, default=4, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (-c)")
    parser.add_argument(
        "--wrk-timeout", type=int, default=10, help="wrk --timeout in s (wrk's default is 2)"
    )
    parser.add_argument("--workers", type=int, default=1, help="cityos serve --workers")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measured runs per server, alternating order"
    )
    parser.add_argument("--seed", type=int, default=132047)
    parser.add_argument("--bench-venv", type=Path, default=DEFAULT_BENCH_VENV)
    parser.add_argument("--cityos", default="", help="path of the cityos command")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    for name in ("rows", "duration", "threads", "connections", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.rows < LIMIT * 20:
        parser.error(f"--rows must be at least {LIMIT * 20} so that {LIMIT} rows match")
    return args


# --- building the database -----------------------------------------------------------------


def build_database(ws: Workspace, args: argparse.Namespace, cityos: list[str]) -> dict[str, str]:
    """Generate and ingest the AED list with cityos; returns the CITYOS_* environment."""
    csv_path = ws.path / "aed_132047_bench_sjis.csv"
    with step(f"generating {args.rows:,} AED rows (Shift_JIS, CRLF) in {ws.path}"):
        aed_data.write_csv(csv_path, args.rows, args.seed)
    data_dir = ws.path / "cityos-data"
    data_dir.mkdir()
    database = data_dir / "cityos.db"
    env = child_env(CITYOS_DATA_DIR=str(data_dir), CITYOS_DATABASE_URL=f"sqlite:///{database}")
    with step("building the database with cityos opendata ingest (not timed)"):
        add_staff_account(ws, cityos, env)
        timed = ws.run_timed(
            [*cityos, "opendata", "ingest", str(csv_path), "--dataset", DATASET, "--schema", "aed"],
            env=env,
            name="cityos-ingest",
        )
    if timed.returncode != 0 or "rows loaded" not in timed.stdout:
        raise BenchError(f"cityos ingest failed:\n{timed.stdout}\n{timed.stderr}")
    csv_path.unlink()
    # Everything into the main file, so that Datasette's immutable view sees every row.
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return env


# --- the servers ---------------------------------------------------------------------------


def start_ours(
    ws: Workspace, args: argparse.Namespace, cityos: list[str], env: dict[str, str]
) -> tuple[Server, str]:
    """Start cityos serve; returns the server and the resource id found by package_show."""
    port = free_port()
    log = ws.path / "cityos-serve.log"
    command = [*cityos, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    with step(
        f"starting ours: cityos serve --host 127.0.0.1 --port {port} --workers {args.workers}"
    ):
        with log.open("wb") as out:
            process = ws.spawn(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/api/3", process, log)
    shown = http_get(f"{base}/api/3/action/package_show?id={DATASET}").json()
    resources = [r for r in shown["result"]["resources"] if r.get("datastore_active")]
    if not resources:
        raise BenchError(f"package_show?id={DATASET} lists no DataStore resource")
    resource_id = resources[0]["id"]
    filters = json.dumps(FILTERS, ensure_ascii=False, separators=(",", ":"))
    url = (
        f"{base}/api/3/action/datastore_search?resource_id={resource_id}"
        f"&filters={urllib.parse.quote(filters)}&limit={LIMIT}"
    )
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    return Server("cityos", process, url, log, f"cityos serve, {workers}"), resource_id


def start_peer(ws: Workspace, args: argparse.Namespace, database: Path, resource_id: str) -> Server:
    datasette = peer_tool(args.bench_venv, "datasette")
    port = free_port()
    log = ws.path / "datasette.log"
    command = [datasette, "serve", "--immutable", str(database), "-h", "127.0.0.1"]
    command += ["-p", str(port)]
    for name, value in DATASETTE_SETTINGS.items():
        command += ["--setting", name, value]
    with step(f"starting peer: datasette serve --immutable {database.name} -p {port}"):
        with log.open("wb") as out:
            process = ws.spawn(command, env=child_env(), stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/-/versions.json", process, log)
    query = urllib.parse.urlencode(
        {**FILTERS, "_size": LIMIT, "_shape": "objects", "_nocol": "_full_text"},
        quote_via=urllib.parse.quote,
    )
    url = f"{base}/{database.stem}/{resource_id}.json?{query}"
    return Server("peer", process, url, log, "datasette serve --immutable, 1 process")


def verify(ours: Server, peer: Server) -> int:
    """Both answer 200 with the same 100 records and the same total; returns the total."""
    answer = http_get(ours.url)
    if answer.status != 200:
        raise BenchError(f"cityos answered {answer.status}: {answer.body[:500]!r}")
    result = answer.json()["result"]
    ours_records: list[dict[str, Any]] = result["records"]
    ours_total = result.get("total")
    ours.body_bytes = len(answer.body)
    ours.returns = (
        f"CKAN envelope: result.records ({len(ours_records)} objects), result.total, "
        f"result.fields; {count(ours.body_bytes)} bytes"
    )
    answer = http_get(peer.url)
    if answer.status != 200:
        raise BenchError(f"Datasette answered {answer.status}: {answer.body[:500]!r}")
    data = answer.json()
    peer_rows: list[dict[str, Any]] = data["rows"]
    peer_total = data.get("filtered_table_rows_count")
    peer.body_bytes = len(answer.body)
    peer.returns = (
        f"rows ({len(peer_rows)} objects), filtered_table_rows_count, columns, query; "
        f"{count(peer.body_bytes)} bytes"
    )
    if len(ours_records) != LIMIT or len(peer_rows) != LIMIT:
        raise BenchError(
            f"expected {LIMIT} records, got cityos {len(ours_records)}, peer {len(peer_rows)}"
        )
    if not isinstance(ours_total, int) or ours_total != peer_total:
        raise BenchError(f"totals differ: cityos {ours_total}, peer {peer_total}")
    if ours_records != peer_rows:
        raise BenchError("the two servers return different records for the same question")
    return ours_total


# --- load ----------------------------------------------------------------------------------


def measure(
    ws: Workspace, args: argparse.Namespace, wrk: str, servers: list[Server]
) -> dict[str, list[WrkResult]]:
    results: dict[str, list[WrkResult]] = {s.name: [] for s in servers}
    for server in servers:
        run_load(ws, args, wrk, server, args.warmup, "warm-up")
    for round_number in range(args.rounds):
        order = servers if round_number % 2 == 0 else list(reversed(servers))
        for server in order:
            label = f"round {round_number + 1}" if args.rounds > 1 else "measured"
            results[server.name].append(run_load(ws, args, wrk, server, args.duration, label))
    return results


# --- the report ----------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    total: int,
    servers: list[Server],
    results: dict[str, list[WrkResult]],
    versions: str,
    load_before: str,
) -> None:
    ours, peer = (median_run(results[s.name]) for s in servers)
    filters = ", ".join(f"{k}={v}" for k, v in FILTERS.items())
    what = {
        "cityos": f"(cityos serve, {args.workers} worker{'s' if args.workers > 1 else ''}: "
        "datastore_search)",
        "peer": "(datasette --immutable, 1 process: TABLE.json)",
    }
    figures = [
        (
            name,
            what[name],
            f"{run.requests_per_s:,.1f} req/s",
            f"p99 {run.p99_ms:,.0f} ms  p50 {run.p50_ms:,.0f} ms  {describe_errors(run)}",
        )
        for name, run in (("cityos", ours), ("peer", peer))
    ]
    ok = ours.requests_per_s / peer.requests_per_s >= GOAL if peer.requests_per_s else False
    lines = [
        "",
        machine_line(),
        f"versions: {versions}; load average before/after: {load_before} / {load_average()}",
        "",
        f"query: datastore_search with 2 filters ({filters}), limit {LIMIT}, over "
        f"{args.rows:,} AED rows ({total:,} match), one SQLite file",
        f"  load    wrk -t {args.threads} -c {args.connections} -d {args.duration}s --latency "
        f"--timeout {args.wrk_timeout}s, after a {args.warmup} s warm-up, one server at a time"
        + (f", median of {args.rounds} rounds" if args.rounds > 1 else ""),
        *figure_lines(figures),
        f"  ratio   {ratio(ours.requests_per_s, peer.requests_per_s)}  (goal >= {GOAL:.1f}x, "
        f"throughput)  {'OK / 達成' if ok else 'BELOW GOAL / 未達'}",
        f"  returns cityos: {servers[0].returns}",
        f"          peer:   {servers[1].returns}",
        f"          both: the same {LIMIT} records (checked before the load) and the total "
        f"{total:,}; Datasette settings: "
        + ", ".join(f"{k}={v}" for k, v in DATASETTE_SETTINGS.items())
        + ", _nocol=_full_text",
        f"  cpu     server CPU per second of load: cityos {ours.server_cpu_s / ours.seconds:.2f}, "
        f"peer {peer.server_cpu_s / peer.seconds:.2f} (of {os.cpu_count()} CPUs shared with wrk)",
    ]
    if args.rounds > 1:
        for s in servers:
            rates = ", ".join(f"{r.requests_per_s:,.1f}" for r in results[s.name])
            spread = statistics.pstdev(r.requests_per_s for r in results[s.name])
            lines.append(f"  rounds  {s.name}: {rates} req/s (stdev {spread:,.1f})")
    if args.workers > 1:
        lines.append(
            "  note    cityos runs several worker processes, Datasette has no such option: "
            "not like for like / 条件が異なります"
        )
    print("\n".join(lines), flush=True)


def main() -> int:
    args = parse_args()
    load_before = load_average()
    cityos = cityos_command(args.cityos)
    peer_tool(args.bench_venv, "datasette")
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk がありません / wrk is missing: apt-get install wrk", file=sys.stderr)
        return 1
    bench_python = str(args.bench_venv / "bin" / "python")
    versions = (
        f"cityos {package_version(sys.executable, 'cityos')} "
        f"(uvicorn {package_version(sys.executable, 'uvicorn')}), "
        f"datasette {package_version(bench_python, 'datasette')} "
        f"(uvicorn {package_version(bench_python, 'uvicorn')}, "
        f"uvloop {package_version(bench_python, 'uvloop')}), " + wrk_version(wrk)
    )
    try:
        with Workspace(keep=args.keep, parent=args.tmpdir) as ws:
            env = build_database(ws, args, cityos)
            database = Path(env["CITYOS_DATA_DIR"]) / "cityos.db"
            ours, resource_id = start_ours(ws, args, cityos, env)
            peer = start_peer(ws, args, database, resource_id)
            with step("checking both answers (200, 100 records, same total, same records)"):
                total = verify(ours, peer)
            results = measure(ws, args, wrk, [ours, peer])
            report(args, total, [ours, peer], results, versions, load_before)
    except BenchError as exc:
        print(f"query benchmark failed / 失敗: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted / 中断しました (servers stopped, files removed)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
