"""Benchmark 4 — sensor ingest: readings per second through the NGSI-LD batch upsert.

A fresh data folder and SQLite database; ``cityos serve`` on 127.0.0.1 (one worker). Untimed:
a staff account and its API token, and ``--stations`` river level stations registered with
their four thresholds by one upsert. Timed: ``--threads`` client threads post prepared
``POST /ngsi-ld/v1/entityOperations/upsert`` bodies over keep-alive connections, each body
``--batch`` attribute instances (``height`` with observedAt) of the thread's own stations in
time order — what a gateway of many gauges sends. Every answer must be 204.

Afterwards the script checks that the database holds exactly the readings sent, all filed
``ok``. The reference peer, in the same run: plain ``sqlite3`` ``executemany`` of the same
readings into a similar table (same columns and index, WAL, one transaction per batch) in
this process — a lower bound of the cost of the storage alone, not a competitor: it parses
no HTTP or JSON, checks no token, files nothing and keeps no current values nor thresholds.

    .venv/bin/python benchmarks/sensor_ingest.py                     # 200 stations, 400,000 readings
    .venv/bin/python benchmarks/sensor_ingest.py --readings 50000     # quick check
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from benchlib import (
    BenchError,
    Workspace,
    add_staff_account,
    cityos_command,
    count,
    figure_lines,
    free_port,
    machine_line,
    package_version,
    ratio,
    step,
    wait_for_http,
)

GOAL = 20_000  # readings per second, set by the city
START = datetime(2026, 6, 1, tzinfo=UTC)
UPSERT = "/ngsi-ld/v1/entityOperations/upsert"
THRESHOLDS = [
    {"rank": 1, "value": 1.2},
    {"rank": 2, "value": 1.6},
    {"rank": 3, "value": 2.0},
    {"rank": 4, "value": 2.4},
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="readings/s through the NGSI-LD batch upsert of cityos serve (SQLite)"
    )
    parser.add_argument("--stations", type=int, default=200, help="river level stations")
    parser.add_argument("--readings", type=int, default=400_000, help="readings sent in all")
    parser.add_argument("--batch", type=int, default=1000, help="attribute instances a request")
    parser.add_argument("--threads", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--interval", type=int, default=60, help="seconds between readings")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after (s)")
    parser.add_argument("--cityos", default="", help="path of the cityos command")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.threads < 1 or args.stations < args.threads or args.batch < 1:
        parser.error("need --threads >= 1, --stations >= --threads and --batch >= 1")
    if args.readings < args.batch * args.threads:
        parser.error("--readings must cover at least one batch per thread")
    return args


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    env.update(COLUMNS="250", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def entity_id(station: int) -> str:
    return f"urn:ngsi-ld:WaterObserved:bench-{station:04d}"


def level(station: int, tick: int) -> float:
    """A calm river: 0.3–0.9 m, never near a threshold, never an impossible jump."""
    return round(0.6 + 0.3 * ((tick * 7 + station * 13) % 41 - 20) / 20, 3)


def stamp(tick: int, interval: int) -> str:
    return (START + timedelta(seconds=tick * interval)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Plan:
    """Prepared request bodies per thread, and the same readings as rows for the peer."""

    bodies: list[list[bytes]] = field(default_factory=list)
    rows: list[list[tuple[int, str, float, str]]] = field(default_factory=list)
    readings: int = 0


def make_plan(args: argparse.Namespace) -> Plan:
    """Each thread owns a slice of the stations and sends their readings in time order."""
    plan = Plan()
    per_thread = args.readings // args.threads
    for thread in range(args.threads):
        stations = list(range(thread, args.stations, args.threads))
        ticks_per_batch = max(1, args.batch // len(stations))
        bodies, sent, tick = [], 0, 0
        while sent < per_thread:
            entities, rows = [], []
            for station in stations:
                instances = [
                    {
                        "type": "Property",
                        "value": level(station, t),
                        "observedAt": stamp(t, args.interval),
                    }
                    for t in range(tick, tick + ticks_per_batch)
                ]
                entities.append(
                    {"id": entity_id(station), "type": "WaterObserved", "height": instances}
                )
                rows.extend(
                    (station, "height", level(station, t), stamp(t, args.interval))
                    for t in range(tick, tick + ticks_per_batch)
                )
            bodies.append(orjson.dumps(entities))
            plan.rows.append(rows)
            sent += len(rows)
            tick += ticks_per_batch
        plan.bodies.append(bodies)
        plan.readings += sent
    return plan


def register_stations(port: int, token: str, stations: int) -> None:
    entities = [
        {
            "id": entity_id(i),
            "type": "WaterObserved",
            "name": {"type": "Property", "value": f"ベンチマーク観測所 {i}（サンプル）"},
            "town": {"type": "Property", "value": "大沢四丁目"},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [139.5385, 35.6686]},
            },
            "thresholds": {"type": "Property", "value": THRESHOLDS},
        }
        for i in range(stations)
    ]
    status, body = post(
        http.client.HTTPConnection("127.0.0.1", port, timeout=120), token, orjson.dumps(entities)
    )
    if status != 201:
        raise BenchError(f"registering the stations answered {status}: {body[:500]!r}")


def post(conn: http.client.HTTPConnection, token: str, body: bytes) -> tuple[int, bytes]:
    conn.request(
        "POST",
        UPSERT,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    response = conn.getresponse()
    return response.status, response.read()


def run_clients(port: int, token: str, plan: Plan, timeout: float) -> tuple[float, list[str]]:
    """Post every body from its thread; (wall seconds, errors)."""
    errors: list[str] = []
    deadline = time.monotonic() + timeout
    ready = threading.Barrier(len(plan.bodies) + 1)
    failures: queue.Queue[str] = queue.Queue()

    def client(bodies: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        ready.wait()
        for body in bodies:
            if time.monotonic() > deadline:
                failures.put("timed out")
                return
            status, answer = post(conn, token, body)
            if status != 204:
                failures.put(f"{status}: {answer[:300]!r}")
                return
        conn.close()

    threads = [threading.Thread(target=client, args=(b,), daemon=True) for b in plan.bodies]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + 5))
    elapsed = time.perf_counter() - started
    while not failures.empty():
        errors.append(failures.get())
    return elapsed, errors


def check_database(database: Path, expected: int) -> None:
    with sqlite3.connect(database) as conn:
        stored = dict(conn.execute("SELECT flag, COUNT(*) FROM sensor_readings GROUP BY flag"))
    if stored != {"ok": expected}:
        raise BenchError(f"the database holds {stored}, expected {{'ok': {expected}}}")


def peer_inserts(path: Path, plan: Plan) -> float:
    """Plain sqlite3 executemany of the same readings, one transaction per batch (s)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE readings (id INTEGER PRIMARY KEY, station_id INTEGER NOT NULL, attribute "
        "VARCHAR(60) NOT NULL, value FLOAT NOT NULL, observed_at DATETIME NOT NULL, received_at "
        "DATETIME NOT NULL, flag VARCHAR(16) NOT NULL, note VARCHAR(300))"
    )
    conn.execute("CREATE INDEX ix_series ON readings (station_id, attribute, observed_at)")
    conn.commit()
    received = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    for rows in plan.rows:
        conn.executemany(
            "INSERT INTO readings (station_id, attribute, value, observed_at, received_at, flag)"
            " VALUES (?, ?, ?, ?, ?, 'ok')",
            [(s, a, v, at, received) for s, a, v, at in rows],
        )
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def token_for(ws: Workspace, cityos: list[str], env: dict[str, str]) -> str:
    done = ws.run_timed([*cityos, "user", "token", "bench"], env=env, name="cityos-token")
    token = done.stdout.strip().splitlines()[-1].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not token.startswith("cityos_"):
        raise BenchError(f"cityos user token failed:\n{done.stdout}\n{done.stderr}")
    return token


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def main() -> int:
    args = parse_args()
    load_before = load_average()
    cityos = cityos_command(args.cityos)
    try:
        with Workspace(keep=args.keep, parent=args.tmpdir) as ws:
            data_dir = ws.path / "cityos-data"
            data_dir.mkdir()
            database = data_dir / "cityos.db"
            env = child_env(
                CITYOS_DATA_DIR=str(data_dir), CITYOS_DATABASE_URL=f"sqlite:///{database}"
            )
            with step("staff account, address index and API token (not timed)"):
                add_staff_account(ws, cityos, env)
                token = token_for(ws, cityos, env)
            with step(f"preparing {args.readings:,} readings of {args.stations} stations"):
                plan = make_plan(args)
            port = free_port()
            log = ws.path / "cityos-serve.log"
            with step(f"starting cityos serve --host 127.0.0.1 --port {port}"):
                with log.open("wb") as out:
                    server = ws.spawn(
                        [*cityos, "serve", "--host", "127.0.0.1", "--port", str(port)],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                wait_for_http(f"http://127.0.0.1:{port}/ngsi-ld/v1/entities?limit=1", server, log)
            with step(f"registering {args.stations} stations with thresholds (not timed)"):
                register_stations(port, token, args.stations)
            with step(
                f"timed: {sum(map(len, plan.bodies)):,} upserts of {args.batch:,} instances "
                f"from {args.threads} threads"
            ):
                elapsed, errors = run_clients(port, token, plan, args.timeout)
            if errors:
                raise BenchError(f"{len(errors)} upserts failed, e.g. {errors[0]}")
            ws.stop(server)
            with step("checking the stored readings"):
                check_database(database, plan.readings)
            with step("peer: sqlite3 executemany of the same readings"):
                peer_elapsed = peer_inserts(ws.path / "peer.db", plan)
            report(args, plan, elapsed, peer_elapsed, load_before)
    except BenchError as exc:
        print(f"sensor ingest benchmark failed / 失敗: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted / 中断しました (server stopped, files removed)", file=sys.stderr)
        return 130
    return 0


def report(
    args: argparse.Namespace, plan: Plan, elapsed: float, peer_elapsed: float, load_before: str
) -> None:
    ours = plan.readings / elapsed
    peer = plan.readings / peer_elapsed
    figures = [
        (
            "cityos",
            "(cityos serve, 1 worker: NGSI-LD entityOperations/upsert over HTTP)",
            f"{count(ours)} readings/s",
            f"{elapsed:.1f} s",
        ),
        (
            "peer",
            "(sqlite3 executemany in-process, no HTTP/JSON/checks: a lower bound)",
            f"{count(peer)} readings/s",
            f"{peer_elapsed:.1f} s",
        ),
    ]
    lines = [
        "",
        machine_line(),
        f"versions: cityos {package_version(sys.executable, 'cityos')} (uvicorn "
        f"{package_version(sys.executable, 'uvicorn')}); load average before/after: "
        f"{load_before} / {load_average()}",
        "",
        f"sensor ingest: {plan.readings:,} river level readings of {args.stations} stations, "
        f"{args.batch:,} instances a request, {args.threads} client threads, one SQLite file",
        *figure_lines(figures),
        f"  goal    >= {GOAL:,} readings/s through the API: "
        + ("OK / 達成" if ours >= GOAL else "BELOW GOAL / 未達"),
        f"  ratio   {ratio(ours, peer)} of the bare-insert reference (not a competitor: it only "
        "stores rows)",
        "  checked every answer 204; the database holds exactly the readings sent, all filed ok",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
