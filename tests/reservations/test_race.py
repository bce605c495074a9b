"""Never more bookings than capacity: many residents at once, through real HTTP."""

from __future__ import annotations

import threading

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from cityos.db import Database
from cityos.reservations.models import Booking
from tests.conftest import LiveServer, csrf_of
from tests.reservations.conftest import book, open_slots
from tests.residents.conftest import PASSWORD

CLIENTS = 16


def signed_in(url: str, number: int) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    token = csrf_of(client.get("/residents/signup").text)
    answer = client.post(
        "/residents/signup",
        data={"email": f"r{number}@example.jp", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text
    return client


def test_concurrent_bookings_fill_a_slot_exactly_to_capacity(app: FastAPI, db: Database) -> None:
    # Many residents sign up from one loopback address in this test.
    app.state.settings = app.state.settings.model_copy(update={"resident_logins_per_minute": 1000})
    with LiveServer(app) as server:
        clients = [signed_in(server.url, n) for n in range(CLIENTS)]
        slot = open_slots(clients[0], "shimin-ido")[0]["start"]  # capacity 3
        tokens = [csrf_of(c.get("/reservations/shimin-ido").text) for c in clients]
        start = threading.Barrier(CLIENTS)
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def attempt(client: httpx.Client, token: str) -> None:
            start.wait()
            answer = client.post(
                "/reservations/shimin-ido", data={"slot": slot, "csrf_token": token}
            )
            with lock:
                answers.append(answer)

        threads = [
            threading.Thread(target=attempt, args=(c, t))
            for c, t in zip(clients, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [303] * 3 + [409] * (CLIENTS - 3)
        assert all("満員" in a.text for a in answers if a.status_code == 409)
        # The slot is full for everyone, including a late-comer.
        late = book(clients[0], "shimin-ido", slot)
        assert late.status_code in (409,)
        for client in clients:
            client.close()
    with db.session() as session:
        seats = session.scalars(select(Booking.seat).order_by(Booking.seat)).all()
        total = session.scalar(select(func.count()).select_from(Booking))
    assert seats == [1, 2, 3]
    assert total == 3


def test_a_form_sent_twice_at_once_books_one_seat(app: FastAPI, db: Database) -> None:
    with LiveServer(app) as server:
        first = signed_in(server.url, 0)
        slot = open_slots(first, "shimin-ido")[0]["start"]  # capacity 3
        token = csrf_of(first.get("/reservations/shimin-ido").text)
        twins = [
            httpx.Client(base_url=server.url, cookies=first.cookies, timeout=60) for _ in range(6)
        ]
        start = threading.Barrier(len(twins))
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def attempt(client: httpx.Client) -> None:
            start.wait()
            answer = client.post(
                "/reservations/shimin-ido", data={"slot": slot, "csrf_token": token}
            )
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=attempt, args=(c,)) for c in twins]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for client in [first, *twins]:
            client.close()
    assert sorted(a.status_code for a in answers) == [303] + [409] * 5
    assert all("すでに予約しています" in a.text for a in answers if a.status_code == 409)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
