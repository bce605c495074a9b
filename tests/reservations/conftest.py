"""Helpers for the reservations tests: residents through the real forms, open slots as the
public API lists them, bookings through the real booking form."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import jpholiday
from fastapi.testclient import TestClient

from cityos.core.text import TOKYO
from tests.conftest import csrf_of
from tests.residents.conftest import sign_up


def resident(client: TestClient, email: str = "hanako@example.jp") -> TestClient:
    answer = sign_up(client, email)
    assert answer.status_code == 303, answer.text
    return client


# A slot that starts sooner is left out: a test that books it a few seconds later would find
# it passed when it runs just before the slot's time (12:59:58 lists 13:00, 13:00:01 books).
SLOT_MARGIN = timedelta(minutes=10)


def open_slots(client: TestClient | httpx.Client, counter_id: str) -> list[dict[str, Any]]:
    """Every future slot with room, as the public API lists them, from SLOT_MARGIN on."""
    days = client.get(f"/api/reservations/counters/{counter_id}").json()["days"]
    soonest = datetime.now(TOKYO) + SLOT_MARGIN
    return [
        slot
        for day in days
        for slot in day["slots"]
        if slot["free"] > 0 and datetime.fromisoformat(slot["start"]) > soonest
    ]


def book(
    client: TestClient | httpx.Client, counter_id: str, slot: str, **extra: str
) -> httpx.Response:
    token = csrf_of(client.get(f"/reservations/{counter_id}").text)
    return client.post(
        f"/reservations/{counter_id}",
        data={"slot": slot, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def booking_id(answer: httpx.Response) -> int:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/my/reservations/"), location
    return int(location.split("/")[-1].split("?")[0])


def slot_key(start: datetime) -> str:
    return start.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


def next_day(when: date, wanted: Any) -> date:
    """The first day from ``when`` on (within two years) that ``wanted`` accepts."""
    for n in range(730):
        day = when + timedelta(days=n)
        if wanted(day):
            return day
    raise AssertionError("no such day")


def is_weekday_holiday(day: date) -> bool:
    return day.weekday() < 5 and jpholiday.is_holiday(day) and not (day.month == 1 and day.day <= 3)


# The notify tests' SMTP server process (aiosmtpd writing a Maildir), for the reminders.
from tests.notify.conftest import smtp_server  # noqa: E402, F401
