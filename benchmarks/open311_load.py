"""Benchmark — Open311 under load: GET requests with filters and POST without a photo, 64
concurrent clients on loopback, cityos against a plain Starlette/uvicorn JSON endpoint.

There is no other Open311 server to install here, so the reference ("peer") is the least a
server can do for the same answers: a plain Starlette app under the same uvicorn, reading
THE SAME ROWS from THE SAME SQLite file with one SQL query and writing them as JSON (GET),
or inserting a row with one INSERT and no checks at all (POST). The gap between the two is
what our checks, the Open311 document, the ORM, the api_key, the rate limit and the
flood check cost.

* GET: ``/open311/v2/requests.json?service_code=road_damage,graffiti&status=open
  &start_date=...&end_date=...`` (up to 1000 of the rows); the peer answers
  ``/requests.json`` with the same filters and the same rows (checked before the load).
* POST: form-encoded reports with an api_key, each with its own description (wrk's Lua
  numbers them: identical texts would rightly be refused as a flood); the rate limit per
  client is raised for the run.

    .venv/bin/python benchmarks/open311_load.py                     # 5000 reports, 10 s runs
    .venv/bin/python benchmarks/open311_load.py --rows 500 --duration 3   # smoke test
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

from benchlib import (
    ROOT,
    BenchError,
    Server,
    Workspace,
    WrkResult,
    child_env,
    cityos_command,
    describe_errors,
    free_port,
    http_get,
    load_average,
    machine_line,
    median_run,
    ratio,
    run_wrk,
    step,
    tail,
    wait_for_http,
    wrk_version,
)

CONNECTIONS = 64
START, END = "2026-01-01T00:00:00+09:00", "2026-12-31T23:59:59+09:00"
FILTERS = {
    "service_code": "road_damage,graffiti",
    "status": "open",
    "start_date": START,
    "end_date": END,
}

# Written into the workspace and run by the product's Python (Starlette and uvicorn are
# already there): the same rows, plain SQL, plain JSON.
PEER_APP = textwrap.dedent(
    """
    import os, sqlite3, secrets
    from datetime import datetime, timezone
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    DB = os.environ["PEER_DB"]

    def connect():
        conn = sqlite3.connect(DB, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def when(text):
        return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    async def requests_json(request):
        q = request.query_params
        codes = q["service_code"].split(",")
        marks = ",".join("?" for _ in codes)
        conn = connect()
        try:
            rows = conn.execute(
                "SELECT id, status, status_notes, service_code, description, requested_at, "
                "updated_at, address_string, lat, lon, media_url FROM reports_requests "
                f"WHERE service_code IN ({marks}) AND status = ? AND requested_at >= ? "
                "AND requested_at <= ? ORDER BY requested_at DESC, id DESC LIMIT 1000",
                [*codes, q["status"], when(q["start_date"]), when(q["end_date"])],
            ).fetchall()
        finally:
            conn.close()
        keys = ("service_request_id", "status", "status_notes", "service_code", "description",
                "requested_datetime", "updated_datetime", "address", "lat", "long", "media_url")
        return JSONResponse([dict(zip(keys, (str(r[0]), *r[1:]))) for r in rows])

    async def post_request(request):
        form = await request.form()
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn = connect()
        try:
            with conn:
                cur = conn.execute(
                    "INSERT INTO reports_requests (service_code, state, status, status_notes, "
                    "department_ja, department_en, lat, lon, town, address_string, address_id, "
                    "description, media_url, attributes, requested_at, updated_at, token, email, "
                    "phone, first_name, last_name, device_id, account_id, submitted_via, client) "
                    "VALUES (?, 'received', 'open', '', '', '', ?, ?, '', '', '', ?, '', '{}', "
                    "?, ?, ?, '', '', '', '', '', '', 'peer', '')",
                    (form["service_code"], float(form["lat"]), float(form["long"]),
                     form.get("description", ""), now, now, secrets.token_urlsafe(18)),
                )
        finally:
            conn.close()
        return JSONResponse([{"service_request_id": str(cur.lastrowid)}], status_code=201)

    app = Starlette(routes=[
        Route("/requests.json", requests_json),
        Route("/requests.json", post_request, methods=["POST"]),
    ])
    """
)

POST_LUA = textwrap.dedent(
    """
    -- Every report has its own text: the thread, the second and a counter.
    local threads = 0
    function setup(thread)
      threads = threads + 1
      thread:set("tid", threads)
    end
    counter = 0
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    function request()
      counter = counter + 1
      local body = "api_key=%s&service_code=graffiti&lat=35.6830&long=139.5597"
        .. "&description=bench-" .. tostring(tid) .. "-" .. os.time() .. "-" .. counter
      return wrk.format(nil, nil, nil, body)
    end
    """
)

SEED = textwrap.dedent(
    """
    import random, sys
    from datetime import datetime, timedelta, timezone
    from cityos.settings import Settings
    from cityos.db import Database
    from cityos.reports import catalog, service

    rows = int(sys.argv[1])
    settings = Settings()
    db = Database(settings.resolved_database_url)
    db.upgrade()
    rng = random.Random(7)
    codes = list(catalog.SERVICE_CODES)
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with db.session() as session:
        key = service.issue_api_key(session, "bench")
        for number in range(rows):
            code = codes[number % len(codes)]
            new = service.NewRequest(
                service_code=code,
                lat=f"{rng.uniform(35.667, 35.700):.6f}",
                long=f"{rng.uniform(139.535, 139.585):.6f}",
                description=f"ベンチマーク用の報告 {number}",
            )
            for attribute in service.get_service(session, code).attributes:
                if attribute.get("required"):
                    new.attributes[attribute["code"]] = [attribute["values"][0]["key"]]
            when = start + timedelta(minutes=number * 37 % (300 * 24 * 60))
            created = service.submit_request(
                session, new, city=settings.city_name_ja, submitted_via="bench", now=when
            )
            if number % 3 == 0:
                created.status = "closed"
                created.state = "done"
    print(key)
    """
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="reports in the database")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up")
    parser.add_argument("--runs", type=int, default=3, help="measured runs (the median is shown)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--keep", action="store_true", help="keep the workspace")
    return parser.parse_args()


def start(
    ws: Workspace, name: str, command: list[str], env: dict[str, str], probe: str
) -> tuple[subprocess.Popen[bytes], Path]:
    log = ws.path / f"{name}.log"
    with step(f"starting {name}: {' '.join(command[-6:])}"):
        with log.open("wb") as out:
            process = ws.spawn(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for_http(probe, process, log)
    return process, log


def load(
    ws: Workspace, args: argparse.Namespace, wrk: str, server: Server, lua: Path | None
) -> WrkResult:
    command_wrk = wrk
    runs = []
    extra = [] if lua is None else ["-s", str(lua)]
    wrapped = Server(server.name, server.process, server.url, server.log, server.description)

    def once(seconds: int, label: str) -> WrkResult:
        if not extra:
            return run_wrk(ws, command_wrk, wrapped, seconds, label, threads=args.threads,
                           connections=CONNECTIONS, timeout_s=10)  # fmt: skip
        # run_wrk has no script option: a wrapper passes -s through.
        shim = ws.path / "wrk-with-script"
        shim.write_text(f'#!/bin/sh\nexec {wrk} {" ".join(extra)} "$@"\n')
        shim.chmod(0o755)
        return run_wrk(ws, str(shim), wrapped, seconds, label, threads=args.threads,
                       connections=CONNECTIONS, timeout_s=10)  # fmt: skip

    once(args.warmup, "warm-up")
    for number in range(args.runs):
        runs.append(once(args.duration, f"run {number + 1}"))
    return median_run(runs)


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk が見つかりません / wrk not found (apt-get install wrk)")
    cityos = cityos_command()
    python = sys.executable
    with Workspace(keep=args.keep) as ws:
        data = ws.path / "data"
        data.mkdir()
        db_file = data / "cityos.db"
        env = child_env(
            CITYOS_DATA_DIR=str(data),
            CITYOS_DATABASE_URL=f"sqlite:///{db_file}",
            CITYOS_REPORTS_PER_MINUTE="1000000000",
            CITYOS_NOTIFY_WORKER_IN_APP="false",
            # This checkout's code, whatever the venv's editable install points at.
            PYTHONPATH=str(ROOT / "src"),
        )
        with step(f"seeding {args.rows:,} reports (not timed)"):
            seed = ws.path / "seed.py"
            seed.write_text(SEED)
            done = ws.run_timed([python, str(seed), str(args.rows)], env=env, name="seed")
            if done.returncode != 0:
                raise BenchError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
            api_key = done.stdout.strip().splitlines()[-1]
        ours_port, peer_port = free_port(), free_port()
        ours, ours_log = start(
            ws, "cityos",
            [*cityos, "serve", "--host", "127.0.0.1", "--port", str(ours_port), "--workers", "1"],
            env, f"http://127.0.0.1:{ours_port}/open311/v2/discovery.json",
        )  # fmt: skip
        peer_file = ws.path / "peer_app.py"
        peer_file.write_text(PEER_APP)
        peer_env = child_env(PEER_DB=str(db_file), PYTHONPATH=str(ws.path))
        peer, peer_log = start(
            ws, "peer",
            [python, "-m", "uvicorn", "peer_app:app", "--host", "127.0.0.1", "--port",
             str(peer_port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
            peer_env, f"http://127.0.0.1:{peer_port}/requests.json?service_code=other&status=open"
            f"&start_date={urllib.parse.quote(START)}&end_date={urllib.parse.quote(END)}",
        )  # fmt: skip
        query = urllib.parse.urlencode(FILTERS)
        ours_get = f"http://127.0.0.1:{ours_port}/open311/v2/requests.json?{query}"
        peer_get = f"http://127.0.0.1:{peer_port}/requests.json?{query}"
        with step("checking both answer the same rows"):
            mine = json.loads(http_get(ours_get).body)
            theirs = json.loads(http_get(peer_get).body)
            if [r["service_request_id"] for r in mine] != [r["service_request_id"] for r in theirs]:
                raise BenchError("the two servers answer different rows")
            if not mine:
                raise BenchError("no rows match the filters")
        lua = ws.path / "post.lua"
        lua.write_text(POST_LUA.replace("%s", api_key))
        results: dict[str, WrkResult] = {}
        for name, process, log, url, script in (
            ("ours GET", ours, ours_log, ours_get, None),
            ("peer GET", peer, peer_log, peer_get, None),
            ("ours POST", ours, ours_log, f"http://127.0.0.1:{ours_port}/open311/v2/requests.json", lua),
            ("peer POST", peer, peer_log, f"http://127.0.0.1:{peer_port}/requests.json", lua),
        ):  # fmt: skip
            results[name] = load(ws, args, wrk, Server(name, process, url, log, name), script)
        if any(r.errors for r in results.values()):
            print(tail(ours_log), file=sys.stderr)

    print()
    print(
        f"Open311 under {CONNECTIONS} concurrent clients ({wrk_version(wrk)}, -t {args.threads}),"
    )
    print(
        f"{args.rows:,} reports in SQLite; GET answers {len(mine)} rows; median of {args.runs} x {args.duration} s"
    )
    print(machine_line())
    print(f"load average before: {load_average()}")
    print()
    print(f"{'':12} {'requests/s':>12} {'p99 ms':>9} {'p50 ms':>9}  errors")
    for name, run in results.items():
        print(
            f"{name:12} {run.requests_per_s:12,.0f} {run.p99_ms:9.1f} {run.p50_ms:9.1f}  {describe_errors(run)}"
        )
    print()
    print(
        f"GET : cityos {ratio(results['ours GET'].requests_per_s, results['peer GET'].requests_per_s)} the plain Starlette endpoint's rate"
    )
    print(
        f"POST: cityos {ratio(results['ours POST'].requests_per_s, results['peer POST'].requests_per_s)} the plain Starlette INSERT's rate"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
