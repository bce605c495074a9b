"""Benchmark — disaster serving: the snapshot documents under load, and the nearest shelters.

In a disaster every resident's phone asks for the same two documents at once. The app
answers ``/api/disaster/status`` and ``/api/disaster/shelters`` from the static snapshot
(``cityos.disaster.fastpath``); the peer is Debian's nginx serving THE SAME FILES from disk,
with the configuration the product prints (``cityos.disaster.nginx.standalone_config``).

Set-up, not timed: a fresh data folder, ``cityos demo`` (the demo datasets: ~140 shelters),
then a realistic scenario through the real HTTP API of a running ``cityos serve`` — disaster
mode on for a flood, ``--open`` shelters opened with people counts, one level-4 alert. Both
servers must answer 200 with bytes identical to the snapshot file before any load. Then
``wrk -c 256`` loads one server and one document at a time (a warm-up first).

The second part, in this process: ``service.nearest_open_shelters`` for ``--points`` random
points in Mitaka (seeded), against a naive baseline measured in the same run (one SQL query
of the open shelters per call, sorted by distance in Python); both must give the same answer.

    .venv/bin/python benchmarks/disaster_serving.py                       # 15 s runs, 10,000 points
    .venv/bin/python benchmarks/disaster_serving.py --duration 3 --warmup 1 --points 2000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
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
    group_processes,
    latency_ms,
    load_average,
    machine_line,
    median_run,
    package_version,
    run_load,
    step,
    wait_for_http,
    wrk_version,
)

GOAL_RATIO = 0.30  # the app's throughput as a share of nginx's, with 0 errors
GOAL_NEAREST_P99_MS = 10.0
NGINX = "/usr/sbin/nginx"
# The two documents under load: (name, path, file in the snapshot folder).
DOCUMENTS = (
    ("status", "/api/disaster/status", "api/disaster/status.json"),
    ("shelters", "/api/disaster/shelters", "api/disaster/shelters.json"),
)
# Mitaka's bounding box; random points for the nearest-shelter queries fall in it.
LAT_RANGE = (35.655, 35.715)
LON_RANGE = (139.515, 139.600)
NEAREST_LIMIT = 5
NEAREST_WARMUP = 200
HAZARD = "flood"
ALERT_TOWNS = ["大沢", "野崎"]
EARTH_RADIUS_M = 6_371_008.8


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="disaster status and shelter list: cityos vs nginx on the same snapshot "
        "files under wrk; nearest open shelters for random points"
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument(
        "--threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="wrk threads (-t; default: the CPUs, at most 4)",
    )
    parser.add_argument("--connections", type=int, default=256, help="wrk connections (-c)")
    parser.add_argument(
        "--wrk-timeout", type=int, default=10, help="wrk --timeout in s (wrk's default is 2)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="cityos serve --workers (default: one per CPU, as nginx's worker_processes auto)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="measured runs per server, alternating order"
    )
    parser.add_argument(
        "--points", type=int, default=10_000, help="random points for the nearest-shelter part"
    )
    parser.add_argument("--open", type=int, default=25, help="shelters opened in the scenario")
    parser.add_argument("--seed", type=int, default=132047)
    parser.add_argument("--nginx", default=NGINX, help="the nginx binary (Debian's)")
    parser.add_argument("--cityos", default="", help="path of the cityos command")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    for name in ("duration", "threads", "connections", "workers", "rounds", "points", "open"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections (wrk needs a connection each)")
    return args


# --- HTTP with headers, for the scenario and the checks ------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str, url: str, *, token: str = "", body: Any = None, timeout: float = 60.0
) -> Answer:
    """One request to 127.0.0.1; HTTP errors are answers, not exceptions."""
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"benchmarks talk to 127.0.0.1 only, not {url}")
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _headers(exc.headers), exc.read())


def _headers(message: Any) -> dict[str, str]:
    """Header names in lower case (uvicorn sends them so, nginx capitalised)."""
    return {name.lower(): value for name, value in message.items()}


def call_ok(method: str, url: str, token: str, body: Any, expect: int) -> Any:
    answer = call(method, url, token=token, body=body)
    if answer.status != expect:
        raise BenchError(
            f"{method} {url} answered {answer.status}, not {expect}: {answer.body[:800]!r}"
        )
    return answer.json()


# --- set-up: data, scenario, servers -------------------------------------------------------


@dataclass
class Scenario:
    shelters: int
    opened: int
    people: int
    alert_id: str
    version: int
    alert_lag_ms: float  # from the alert's 201 to the status document showing it


def prepare_data(ws: Workspace, cityos: list[str]) -> dict[str, str]:
    """A fresh data folder with the demo datasets and a staff account; its CITYOS_* env."""
    data_dir = ws.path / "cityos-data"
    data_dir.mkdir()
    env = child_env(
        CITYOS_DATA_DIR=str(data_dir),
        CITYOS_DATABASE_URL=f"sqlite:///{data_dir / 'cityos.db'}",
    )
    with step("cityos user add, address build and demo (not timed)"):
        add_staff_account(ws, cityos, env)
        done = ws.run_timed([*cityos, "demo"], env=env, name="cityos-demo")
        if done.returncode != 0 or "OK:" not in done.stdout:
            raise BenchError(f"cityos demo failed:\n{done.stdout}\n{done.stderr}")
    return env


def issue_token(ws: Workspace, cityos: list[str], env: dict[str, str]) -> str:
    """``cityos user token bench`` prints the new token alone on its last line."""
    done = ws.run_timed([*cityos, "user", "token", "bench"], env=env, name="cityos-token")
    lines = done.stdout.strip().splitlines()
    token = lines[-1].strip() if lines else ""
    if done.returncode != 0 or not token.startswith("cityos_"):
        raise BenchError(f"cityos user token failed:\n{done.stdout}\n{done.stderr}")
    return token


def start_app(
    ws: Workspace, args: argparse.Namespace, cityos: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = ws.path / "cityos-serve.log"
    command = [*cityos, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    with step(f"starting the app: cityos serve --port {port} --workers {args.workers}"):
        with log.open("wb") as out:
            process = ws.spawn(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/api/disaster/status", process, log)
    return process, base, log


def make_scenario(base: str, token: str, args: argparse.Namespace) -> Scenario:
    """Disaster mode, open shelters with people, one alert: through the real HTTP API."""
    rng = random.Random(args.seed)
    listed = call_ok("GET", f"{base}/api/disaster/shelters", "", None, 200)["shelters"]
    if len(listed) < args.open:
        raise BenchError(
            f"the demo gave {len(listed)} shelters, fewer than --open {args.open}: "
            "are the demo's shelter datasets loaded?"
        )
    with step(f"scenario: disaster mode ({HAZARD}), {args.open} shelters open, one alert"):
        call_ok(
            "PUT",
            f"{base}/api/disaster/mode",
            token,
            {
                "active": True,
                "hazard": HAZARD,
                "towns": [],
                "message_ja": "市内全域に災害モードを発令しました。最新の避難情報を確認してください。",
                "message_en": "Disaster mode is on for the whole city. Check the latest alerts.",
            },
            200,
        )
        # The city opens the places designated for floods first, then others, as staff would.
        suited = [s for s in listed if HAZARD in s["hazards"] and s["kind"]["shelter"]]
        others = [s for s in listed if s not in suited]
        rng.shuffle(suited)
        rng.shuffle(others)
        people = 0
        for shelter in (suited + others)[: args.open]:
            capacity = shelter["capacity"] or rng.randrange(150, 1200, 10)
            # Most have room, a few are crowded or full: every crowding label appears.
            share = rng.choice((0.1, 0.3, 0.5, 0.6, 0.85, 1.0))
            count_here = capacity if share >= 1 else int(capacity * share * rng.uniform(0.9, 1))
            people += count_here
            call_ok(
                "PATCH",
                f"{base}/api/disaster/shelters/{shelter['id']}/status",
                token,
                {"is_open": True, "people": count_here, "capacity": capacity},
                200,
            )
        alert = call_ok(
            "POST",
            f"{base}/api/disaster/alerts",
            token,
            {
                "level": 4,
                "hazard": HAZARD,
                "towns": ALERT_TOWNS,
                "headline_ja": "【警戒レベル4】避難指示（洪水）大沢・野崎",
                "text_ja": "野川の水位が氾濫危険水位に達しました。大沢・野崎にお住まいの方は、"
                "直ちに開設済みの避難所へ避難してください。",
                "text_en": "The Nogawa river has reached the flood danger level. Residents of "
                "Osawa and Nozaki: evacuate now to an open shelter.",
            },
            201,
        )
    # The app answers a change before it commits it and rewrites the snapshot, so the new
    # alert reaches /api/disaster/status a moment after the 201: wait for it (bounded).
    answered = time.perf_counter()
    deadline = answered + 30
    while True:
        status = call_ok("GET", f"{base}/api/disaster/status", "", None, 200)
        if [a["id"] for a in status["active_alerts"]] == [alert["id"]]:
            break
        if time.perf_counter() > deadline:
            raise BenchError(
                f"the snapshot does not show the alert published 30 s ago: {status['active_alerts']}"
            )
        time.sleep(0.01)
    lag_ms = 1000 * (time.perf_counter() - answered)
    if not status["disaster_mode"]["active"] or status["open_shelter_count"] != args.open:
        raise BenchError(
            "the snapshot does not show the scenario: mode "
            f"{status['disaster_mode']['active']}, {status['open_shelter_count']} open shelters"
        )
    return Scenario(len(listed), args.open, people, alert["id"], int(status["version"]), lag_ms)


def nginx_version(nginx: str) -> str:
    done = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ") or "nginx ?"


def group_members(leader: int) -> int:
    """How many live processes the process group ``leader`` has."""
    return sum(1 for _ in group_processes(leader))


def start_nginx(
    ws: Workspace, nginx: str, snapshot_dir: Path, upstream: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    from cityos.disaster.nginx import standalone_config

    port = free_port()
    work = ws.path / "nginx"
    work.mkdir()
    conf = work / "nginx.conf"
    conf.write_text(standalone_config(snapshot_dir, f"127.0.0.1:{port}", upstream, work))
    log = work / "stdout.log"
    # -e: nginx opens its compiled-in error log before it reads the configuration.
    command = [nginx, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")]
    with step(f"starting the peer: nginx -c {conf.name} (listen 127.0.0.1:{port})"):
        with log.open("wb") as out:
            process = ws.spawn(command, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}{DOCUMENTS[0][1]}", process, log, timeout_s=30)
        except BenchError as exc:
            raise BenchError(f"{exc}\nerror.log:\n{_tail(work / 'error.log')}") from None
    return process, base, log


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(none)"


@dataclass
class Document:
    name: str
    path: str
    size: int
    app: Server
    nginx: Server


def verify_documents(
    snapshot_dir: Path,
    app: tuple[subprocess.Popen[bytes], str, Path],
    peer: tuple[subprocess.Popen[bytes], str, Path],
    nginx_what: str,
    app_what: str,
) -> list[Document]:
    """Both servers answer 200 with exactly the snapshot file's bytes, for each document.

    The app rewrites the snapshot every minute (and on every change), so a mismatch is read
    again a few times before it counts: the three reads must come from the same file.
    """
    documents = []
    for name, path, relative in DOCUMENTS:
        for _attempt in range(5):
            on_disk = (snapshot_dir / relative).read_bytes()
            ours = call("GET", f"{app[1]}{path}")
            theirs = call("GET", f"{peer[1]}{path}")
            if ours.status != 200 or theirs.status != 200:
                raise BenchError(
                    f"{path}: the app answered {ours.status}, nginx {theirs.status}:\n"
                    f"{ours.body[:300]!r}\n{theirs.body[:300]!r}"
                )
            if ours.body == theirs.body == on_disk:
                break
            time.sleep(0.5)
        else:
            raise BenchError(
                f"{path}: the app ({len(ours.body)} bytes) and nginx ({len(theirs.body)} bytes) "
                f"do not both send the snapshot file ({len(on_disk)} bytes)"
            )
        for who, answer in (("app", ours), ("nginx", theirs)):
            media = answer.headers.get("content-type", "")
            if not media.startswith("application/json"):
                raise BenchError(f"{path}: {who} sends Content-Type {media!r}")
        documents.append(
            Document(
                name,
                path,
                len(on_disk),
                Server(f"app-{name}", app[0], f"{app[1]}{path}", app[2], app_what),
                Server(f"nginx-{name}", peer[0], f"{peer[1]}{path}", peer[2], nginx_what),
            )
        )
    return documents


# --- load ----------------------------------------------------------------------------------


def measure(
    ws: Workspace, args: argparse.Namespace, wrk: str, documents: list[Document]
) -> dict[str, list[WrkResult]]:
    """Each document: both servers warmed up, then measured one at a time (order alternates)."""
    results: dict[str, list[WrkResult]] = {}
    for document in documents:
        servers = [document.app, document.nginx]
        for server in servers:
            results[server.name] = []
            if args.warmup:
                run_load(ws, args, wrk, server, args.warmup, "warm-up")
        for round_number in range(args.rounds):
            order = servers if round_number % 2 == 0 else list(reversed(servers))
            for server in order:
                label = f"round {round_number + 1}" if args.rounds > 1 else "measured"
                results[server.name].append(run_load(ws, args, wrk, server, args.duration, label))
    return results


# --- nearest open shelters, in this process ------------------------------------------------


# One shelter of an answer: its id, the distance in m and how crowded it is.
Found = tuple[str, float, str]


@dataclass
class NearestRun:
    timings_s: list[float]
    answers: list[list[Found]]
    first_s: float
    via_network: bool = False

    def percentile_ms(self, share: float, only: Sequence[bool] | None = None) -> float:
        """The nearest-rank percentile in ms, of every query or of those ``only`` marks."""
        chosen = (
            self.timings_s
            if only is None
            else [t for t, keep in zip(self.timings_s, only, strict=True) if keep]
        )
        ordered = sorted(chosen)
        return 1000 * ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]

    @property
    def per_s(self) -> float:
        total = sum(self.timings_s)
        return len(self.timings_s) / total if total else 0.0


def random_points(points: int, seed: int) -> list[tuple[float, float, str | None]]:
    """Uniform points in the bounding box; every other one asks for flood-designated places."""
    rng = random.Random(seed)
    return [
        (rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE), HAZARD if i % 2 else None)
        for i in range(points)
    ]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def baseline_suits(hazards: Sequence[str], is_shelter: bool, hazard: str | None) -> bool:
    """The product's rule, written out: designated for the hazard (flood and inland flooding
    stand in for each other); places without hazard data only for earthquake and fire."""
    if hazard is None or hazard in hazards:
        return True
    if not hazards:
        return is_shelter and hazard in ("earthquake", "fire")
    return {hazard, *hazards} <= {"flood", "inland_flood"}


def baseline_crowding(people: int, capacity: int | None) -> str:
    """How full an open shelter is: staff's capacity figure, else the designated one."""
    if not capacity:
        return "unknown"
    if people >= capacity:
        return "full"
    return "crowded" if people >= 0.8 * capacity else "vacant"


def timed_points(
    db: Any,
    points: list[tuple[float, float, str | None]],
    ask: Callable[[Any, float, float, str | None], list[Found]],
) -> NearestRun:
    """Each point in a session of its own (as one API request has), timed with the session."""
    started = time.perf_counter()
    with db.session() as session:
        ask(session, *points[0])
    first = time.perf_counter() - started
    for lat, lon, hazard in points[:NEAREST_WARMUP]:
        with db.session() as session:
            ask(session, lat, lon, hazard)
    timings: list[float] = []
    answers: list[list[Found]] = []
    for lat, lon, hazard in points:
        started = time.perf_counter()
        with db.session() as session:
            answer = ask(session, lat, lon, hazard)
        timings.append(time.perf_counter() - started)
        answers.append(answer)
    return NearestRun(timings, answers, first)


def measure_nearest(env: dict[str, str], args: argparse.Namespace) -> tuple[NearestRun, NearestRun]:
    """Ours (the product's function, router installed as the app does) and the baseline."""
    for name in [k for k in os.environ if k.startswith("CITYOS_")]:
        del os.environ[name]
    os.environ["CITYOS_DATA_DIR"] = env["CITYOS_DATA_DIR"]
    os.environ["CITYOS_DATABASE_URL"] = env["CITYOS_DATABASE_URL"]
    from sqlalchemy import func, select

    from cityos.db import Database
    from cityos.disaster import service
    from cityos.disaster.models import Shelter, ShelterStatus
    from cityos.mobility import service as mobility
    from cityos.settings import Settings

    settings = Settings()
    db = Database(settings.resolved_database_url)
    service.set_router(mobility.disaster_router)  # what wiring.connect does in the app
    points = random_points(args.points, args.seed)
    via_network = False

    def ours(session: Any, lat: float, lon: float, hazard: str | None) -> list[Found]:
        nonlocal via_network
        found, routed = service.nearest_open_shelters(
            session, lat, lon, hazard=hazard, limit=NEAREST_LIMIT
        )
        via_network = via_network or routed
        return [(c.id, c.distance_m, c.crowding) for c in found]

    open_query = (
        select(
            Shelter.id,
            Shelter.lat,
            Shelter.lon,
            Shelter.hazards,
            Shelter.is_shelter,
            Shelter.accepts,
            ShelterStatus.people,
            # staff's own figure first, else the designated capacity (as the product does)
            func.coalesce(func.nullif(ShelterStatus.capacity, 0), Shelter.capacity).label(
                "capacity"
            ),
        )
        .join(ShelterStatus, ShelterStatus.shelter_id == Shelter.id)
        .where(
            Shelter.active,
            ShelterStatus.is_open,
            Shelter.lat.is_not(None),
            Shelter.lon.is_not(None),
        )
    )

    def baseline(session: Any, lat: float, lon: float, hazard: str | None) -> list[Found]:
        ranked = sorted(
            (haversine_m(lat, lon, row.lat, row.lon), row.id, row.people, row.capacity)
            for row in session.execute(open_query)
            if not row.accepts and baseline_suits(row.hazards or [], row.is_shelter, hazard)
        )
        return [
            (shelter_id, distance, baseline_crowding(people, capacity))
            for distance, shelter_id, people, capacity in ranked[:NEAREST_LIMIT]
        ]

    try:
        with step(f"nearest open shelters, ours: {args.points:,} points (in this process)"):
            run_ours = timed_points(db, points, ours)
            run_ours.via_network = via_network
        with step(f"nearest open shelters, baseline: {args.points:,} points"):
            run_base = timed_points(db, points, baseline)
    finally:
        service.set_router(None)
        db.dispose()
    compare_answers(points, run_ours, run_base)
    return run_ours, run_base


def compare_answers(
    points: list[tuple[float, float, str | None]], ours: NearestRun, base: NearestRun
) -> None:
    """The same shelters at the same distances (ours rounds to whole metres; ties may swap)."""
    if ours.via_network:
        return  # distances along streets differ from straight lines by design
    for (lat, lon, hazard), mine, theirs in zip(points, ours.answers, base.answers, strict=True):
        if not _same_answer(mine, theirs):
            raise BenchError(
                f"nearest shelters differ at ({lat:.5f}, {lon:.5f}, hazard {hazard}):\n"
                f"  ours     {mine}\n  baseline {theirs}"
            )


def _same_answer(mine: list[Found], theirs: list[Found]) -> bool:
    """Same length, the same distances place by place (within the 1 m of ours' rounding),
    the same shelters but for one tied with the last distance, each as crowded."""
    if len(mine) != len(theirs):
        return False
    if any(abs(a[1] - b[1]) > 1.0 for a, b in zip(mine, theirs, strict=True)):
        return False
    theirs_by_id = {shelter_id: crowded for shelter_id, _d, crowded in theirs}
    cutoff = theirs[-1][1] if theirs else 0.0
    return all(
        theirs_by_id[i] == crowded if i in theirs_by_id else abs(d - cutoff) <= 1.0
        for i, d, crowded in mine
    )


# --- the report ----------------------------------------------------------------------------


def load_figure(name: str, what: str, run: WrkResult) -> tuple[str, str, str, str]:
    return (
        name,
        what,
        f"{run.requests_per_s:,.1f} req/s",
        f"p99 {run.p99_ms:,.1f} ms  p50 {run.p50_ms:,.1f} ms  {describe_errors(run)}",
    )


def nearest_figure(name: str, what: str, run: NearestRun) -> tuple[str, str, str, str]:
    return (
        name,
        what,
        f"p50 {run.percentile_ms(0.50):.2f} ms",
        f"p99 {run.percentile_ms(0.99):.2f} ms  max {1000 * max(run.timings_s):.1f} ms  "
        f"{run.per_s:,.0f} queries/s",
    )


def verdict(ok: bool) -> str:
    return "OK / 達成" if ok else "BELOW GOAL / 未達"


def report(
    args: argparse.Namespace,
    scenario: Scenario,
    documents: list[Document],
    results: dict[str, list[WrkResult]],
    nearest: tuple[NearestRun, NearestRun],
    versions: str,
    load_before: str,
    nginx_workers: int,
) -> None:
    medians = {name: median_run(runs) for name, runs in results.items()}
    figures = [
        load_figure(f"{d.name:<8} {who}", server.description, medians[server.name])
        for d in documents
        for who, server in (("app", d.app), ("nginx", d.nginx))
    ]
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    lines = [
        "",
        machine_line(),
        f"versions: {versions}; load average before/after: {load_before} / {load_average()}",
        "",
        f"scenario: disaster mode on ({HAZARD}, whole city), {scenario.opened} of "
        f"{scenario.shelters} shelters open ({scenario.people:,} people), 1 alert in force "
        f"(level 4, {HAZARD}, {'・'.join(ALERT_TOWNS)}); set through the app's HTTP API, "
        "snapshot written by the app",
        f"  freshness the alert was in /api/disaster/status {scenario.alert_lag_ms:,.0f} ms after "
        "its 201 (the app commits and rewrites the snapshot before it answers)",
        "",
        "serving: the status JSON and the shelter list, the app's fast path vs nginx on the "
        "same snapshot files",
        f"  load      wrk -t {args.threads} -c {args.connections} -d {args.duration}s --latency "
        f"--timeout {args.wrk_timeout}s on 127.0.0.1, after a {args.warmup} s warm-up, one "
        "server and one document at a time"
        + (f", median of {args.rounds} rounds" if args.rounds > 1 else ""),
        *figure_lines(figures),
    ]
    for document in documents:
        app, peer = medians[document.app.name], medians[document.nginx.name]
        share = app.requests_per_s / peer.requests_per_s if peer.requests_per_s else 0.0
        ok = share >= GOAL_RATIO and app.errors == 0
        lines.append(
            f"  ratio     {document.name:<8} app/nginx {share:.2f}x  (goal >= {GOAL_RATIO:.2f}x "
            f"with 0 errors)  {verdict(ok)}"
        )
    sizes = ", ".join(f"{d.path} {count(d.size)} bytes" for d in documents)
    lines += [
        f"  returns   {sizes}: the same bytes from both, 200, equal to the snapshot files "
        "(checked before the load)",
        "  cpu       server CPU per second of load: "
        + ", ".join(f"{name} {run.server_cpu_s / run.seconds:.2f}" for name, run in medians.items())
        + f" (of {os.cpu_count()} CPUs, shared with wrk)",
        "  latency   50/75/90/99 % in ms: "
        + "; ".join(
            f"{name} "
            + "/".join(f"{latency_ms(run.raw, q):,.1f}" for q in ("50", "75", "90", "99"))
            for name, run in medians.items()
        ),
    ]
    if args.rounds > 1:
        for name, runs in results.items():
            rates = ", ".join(f"{r.requests_per_s:,.1f}" for r in runs)
            spread = statistics.pstdev(r.requests_per_s for r in runs)
            lines.append(f"  rounds    {name}: {rates} req/s (stdev {spread:,.1f})")
    lines.append(
        f"  note      the app runs {workers}, nginx {nginx_workers} worker processes "
        "(worker_processes auto, as the product's config says); wrk and both servers share "
        f"the machine's {os.cpu_count()} CPUs; the app also looks for snapshot changes every minute"
    )
    ours, base = nearest
    p99 = ours.percentile_ms(0.99)
    hazards = [hazard for _lat, _lon, hazard in random_points(args.points, args.seed)]
    split = {
        label: ours.percentile_ms(0.99, [h == wanted for h in hazards])
        for label, wanted in (("none", None), (HAZARD, HAZARD))
    }
    distances = "along streets" if ours.via_network else "straight-line (no pedestrian network set)"
    lines += [
        "",
        f"nearest open shelters: {args.points:,} random points in Mitaka (lat "
        f"{LAT_RANGE[0]:.3f}-{LAT_RANGE[1]:.3f}, lon {LON_RANGE[0]:.3f}-{LON_RANGE[1]:.3f}, "
        f"seed {args.seed}), "
        f"limit {NEAREST_LIMIT}, hazard none and {HAZARD} alternating, among "
        f"{scenario.opened} open shelters; distances {distances}",
        f"  how       one thread in this process, each query in a session of its own (timed with "
        f"it, as an API request has one); after {NEAREST_WARMUP} warm-up queries",
        *figure_lines(
            [
                nearest_figure("ours", "(service.nearest_open_shelters, cached pool)", ours),
                nearest_figure("baseline", "(baseline: per-query SQL + sort, same run)", base),
            ]
        ),
        "  split     ours p99 "
        + ", ".join(f"hazard {k} {v:.2f} ms" for k, v in split.items())
        + f"; first query {1000 * ours.first_s:.1f} ms (fills the pool), baseline's "
        f"{1000 * base.first_s:.1f} ms",
        f"  goal      p99 < {GOAL_NEAREST_P99_MS:.0f} ms: ours {p99:.2f} ms  "
        f"{verdict(p99 < GOAL_NEAREST_P99_MS)}   (ours/baseline p99 "
        f"{p99 / base.percentile_ms(0.99):.2f}x)",
        "  checked   both give the same shelters at the same distances, each as crowded, "
        "for every point",
    ]
    print("\n".join(lines), flush=True)


def main() -> int:
    args = parse_args()
    load_before = load_average()
    cityos = cityos_command(args.cityos)
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk がありません / wrk is missing: apt-get install wrk", file=sys.stderr)
        return 1
    if not (Path(args.nginx).is_file() and os.access(args.nginx, os.X_OK)):
        print(
            f"nginx がありません / {args.nginx} is missing: apt-get install nginx-light",
            file=sys.stderr,
        )
        return 1
    nginx_ver = nginx_version(args.nginx)
    versions = (
        f"cityos {package_version(sys.executable, 'cityos')} "
        f"(uvicorn {package_version(sys.executable, 'uvicorn')}), {nginx_ver} (Debian), "
        + wrk_version(wrk)
    )
    try:
        with Workspace(keep=args.keep, parent=args.tmpdir) as ws:
            env = prepare_data(ws, cityos)
            token = issue_token(ws, cityos, env)
            snapshot_dir = Path(env["CITYOS_DATA_DIR"]) / "public"
            app = start_app(ws, args, cityos, env)
            scenario = make_scenario(app[1], token, args)
            peer = start_nginx(ws, args.nginx, snapshot_dir, app[1].removeprefix("http://"))
            nginx_workers = max(group_members(peer[0].pid) - 1, 0)
            with step("checking both answers (200, byte-identical to the snapshot files)"):
                documents = verify_documents(
                    snapshot_dir,
                    app,
                    peer,
                    nginx_what=f"({nginx_ver}, {nginx_workers} workers: the snapshot file)",
                    app_what=f"(cityos serve, {args.workers} "
                    f"worker{'s' if args.workers > 1 else ''}: snapshot fast path)",
                )
            results = measure(ws, args, wrk, documents)
            # The servers are idle from here; stop them so that they take nothing from the
            # in-process part (the app would rewrite the snapshot once a minute).
            ws.stop(peer[0])
            ws.stop(app[0])
            nearest = measure_nearest(env, args)
            report(
                args, scenario, documents, results, nearest, versions, load_before, nginx_workers
            )
    except BenchError as exc:
        print(f"disaster serving benchmark failed / 失敗: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted / 中断しました (servers stopped, files removed)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
