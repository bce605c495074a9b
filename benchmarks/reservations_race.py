"""Counter reservations under a rush: 200 residents booking the same 10 slots at once.

Each of 200 clients (its own resident account, cookie and CSRF token) posts the booking form
for one of 10 slots of capacity 1, all at the same moment, through real HTTP on loopback to
``cityos`` served by uvicorn (one process). Ours must give exactly 10 bookings and tell the
other 190 clearly (409 「満員」); the figure is the wall time of the whole rush.

The reference in the same run is the naive way — count the slot's bookings, then insert when
the count is below capacity (``service.naive_book``, mounted on the same app at a benchmark-
only path) — which lets requests pass the count together and overbook.

Runs on SQLite and on PostgreSQL (CITYOS_TEST_POSTGRES_URL's server, else a private one from
scripts/postgres.sh). Servers listen on 127.0.0.1 only.

    python benchmarks/reservations_race.py [--clients 200] [--slots 10] [--backend both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter as Tally
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from benchlib import (
    BenchError,
    Workspace,
    child_env,
    figure_lines,
    free_port,
    machine_line,
    postgres_database,
    step,
    wait_for_http,
)
from cityos.core.errors import ProblemError
from cityos.core.web import SessionDep, check_csrf
from cityos.reservations import service
from cityos.residents import sessions

PASSWORD = "bench-resident-password"  # noqa: S105  (accounts of a throwaway database)
COUNTER = "kokuho-nenkin"  # capacity 1 in the sample counters
CSRF_MARK = 'name="csrf_token" value="'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--naive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.slots <= 50 and args.slots <= args.clients <= 2000):
        parser.error("--slots 1..50, --clients from --slots to 2000")
    return args


# --- the server (a child process: python reservations_race.py --serve) ------------------------


def naive_book(
    request: Request,
    session: SessionDep,
    counter_id: str,
    slot: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The reference: the same form and login, then count-then-insert."""
    check_csrf(request, csrf_token)
    resident = sessions.current_resident(request, session)
    if resident is None:
        return Response("login", status_code=401)
    try:
        booking = service.naive_book(session, resident, counter_id, slot, service.now_utc())
    except ProblemError as problem:
        return Response(problem.detail, status_code=problem.status)
    return RedirectResponse(f"/my/reservations/{booking.id}", status_code=303)


def serve(port: int, naive: bool) -> None:
    import uvicorn

    from cityos.app import create_app

    app = create_app()
    app.state.db.upgrade()
    if naive:
        app.add_api_route("/bench/naive/{counter_id}", naive_book, methods=["POST"])
    # Clients log in a minute before the rush: keep their connections open until it starts
    # (uvicorn closes idle ones after 5 s, and a request racing that close fails to read).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=300)


# --- the driver ------------------------------------------------------------------------------


def add_residents(database_url: str, count: int) -> None:
    """The accounts of the rush, added once and untimed (one password hash for all)."""
    from sqlalchemy import insert

    from cityos.core import auth
    from cityos.db import Database, utcnow
    from cityos.residents.models import Resident

    db = Database(database_url)
    db.upgrade()
    digest = auth.hash_password(PASSWORD)
    with db.session() as session:
        session.execute(
            insert(Resident),
            [
                {"email": f"rush{n}@example.jp", "password_hash": digest, "created_at": utcnow()}
                for n in range(count)
            ],
        )
    db.dispose()


def booked_per_slot(database_url: str) -> Tally[str]:
    from sqlalchemy import select

    from cityos.core.text import TOKYO
    from cityos.db import Database
    from cityos.reservations.models import Booking

    db = Database(database_url)
    with db.session() as session:
        starts = session.scalars(select(Booking.slot_start).where(Booking.status == "booked"))
        tally = Tally(s.astimezone(TOKYO).strftime("%m-%d %H:%M") for s in starts)
    db.dispose()
    return tally


async def signed_in(base: str, n: int) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    page = await client.get("/residents/login")
    token = page.text.split(CSRF_MARK, 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/residents/login",
        data={"email": f"rush{n}@example.jp", "password": PASSWORD, "csrf_token": token},
    )
    if answer.status_code != 303:
        raise BenchError(f"login {n} failed: {answer.status_code} {answer.text[:200]}")
    return client, token


@dataclass
class Rush:
    wall_s: float
    answers: Tally[int]
    per_slot: Tally[str]
    told_full: int


async def rush(base: str, clients: int, slots: int, path: str, database_url: str) -> Rush:
    accounts = []
    for start in range(0, clients, 20):  # log in 20 at a time (argon2 takes its time)
        accounts += await asyncio.gather(
            *(signed_in(base, n) for n in range(start, min(clients, start + 20)))
        )
    listed = (await accounts[0][0].get(f"/api/reservations/counters/{COUNTER}")).json()
    starts = [s["start"] for d in listed["days"] for s in d["slots"] if s["free"] > 0][:slots]
    if len(starts) < slots:
        raise BenchError(f"only {len(starts)} free slots at {COUNTER}")

    async def book(n: int) -> httpx.Response:
        client, token = accounts[n]
        return await client.post(path, data={"slot": starts[n % slots], "csrf_token": token})

    started = time.perf_counter()
    answers = await asyncio.gather(*(book(n) for n in range(clients)))
    wall = time.perf_counter() - started
    for client, _token in accounts:
        await client.aclose()
    told_full = sum(1 for a in answers if a.status_code == 409 and "この時間枠は満員です" in a.text)
    return Rush(
        wall, Tally(a.status_code for a in answers), booked_per_slot(database_url), told_full
    )


def run_one(ws: Workspace, backend: str, naive: bool, args: argparse.Namespace) -> Rush:
    name = f"{backend}-{'naive' if naive else 'ours'}"
    data_dir = ws.path / name
    data_dir.mkdir()
    database = (
        postgres_database(ws) if backend == "postgresql" else f"sqlite:///{data_dir / 'c.db'}"
    )
    add_residents(database, args.clients)
    port = free_port()
    env = child_env(
        CITYOS_DATA_DIR=str(data_dir),
        CITYOS_DATABASE_URL=database,
        CITYOS_SECRET_KEY="bench-secret-key-that-is-long-enough-0123",  # noqa: S106
        CITYOS_RESIDENT_LOGINS_PER_MINUTE="100000",
        CITYOS_NOTIFY_WORKER_IN_APP="false",
        CITYOS_CACHE_DIR=os.environ.get("CITYOS_CACHE_DIR", str(data_dir / "cache")),
    )
    log = data_dir / "server.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(port)]
    with log.open("wb") as out:
        process = ws.spawn(
            [*command, *(["--naive"] if naive else [])], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/api/reservations/waiting", process, log)
    path = f"/bench/naive/{COUNTER}" if naive else f"/reservations/{COUNTER}"
    with step(f"{name}: {args.clients} clients, {args.slots} slots of capacity 1"):
        result = asyncio.run(rush(base, args.clients, args.slots, path, database))
    ws.stop(process)
    return result


def describe(rush_: Rush, slots: int) -> tuple[str, str]:
    booked = sum(rush_.per_slot.values())
    over = sum(max(0, c - 1) for c in rush_.per_slot.values())
    statuses = " ".join(f"{code}×{n}" for code, n in sorted(rush_.answers.items()))
    return (
        f"{booked} bookings for {slots} seats ({over} over capacity)",
        f"{rush_.wall_s:.2f} s; answers {statuses}; told 満員 {rush_.told_full}",
    )


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(args.port, args.naive)
        return 0
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    figures: list[tuple[str, str, str, str]] = []
    exact = True
    with Workspace() as ws:
        for backend in backends:
            for naive in (False, True):
                result = run_one(ws, backend, naive, args)
                what, extra = describe(result, args.slots)
                label = "naive count-then-insert" if naive else "cityos (seat + unique)"
                figures.append((f"{backend:<10} {label}", "", what, extra))
                if not naive:
                    exact = exact and (
                        sum(result.per_slot.values()) == args.slots
                        and max(result.per_slot.values()) == 1
                        and result.answers[303] == args.slots
                        and result.told_full == args.clients - args.slots
                    )
    print()
    print(f"reservations race: {args.clients} concurrent clients, {args.slots} slots of capacity 1")
    print(machine_line())
    for line in figure_lines(figures):
        print(line)
    print(f"ours exact (10 of 10, the rest told 満員): {'yes' if exact else 'NO'}")
    return 0 if exact else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        print(f"benchmark failed: {exc!r}", file=sys.stderr)
        raise
