"""Staff see the day's queue, mark arrivals, and edit counters; the public waiting time follows."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.models import AuditEntry, User
from cityos.core.text import TOKYO
from cityos.db import Database
from cityos.reservations.models import Booking, Counter
from cityos.residents.models import Resident
from tests.conftest import csrf_of, login
from tests.reservations.conftest import book, booking_id, open_slots, resident


def todays_bookings(db: Database, counter_id: str, count: int) -> list[int]:
    """Bookings of today at the counter by ``count`` residents (as if made earlier)."""
    now = datetime.now(TOKYO).replace(second=0, microsecond=0)
    with db.session() as session:
        owners = [
            Resident(email=f"visitor{n}@example.jp", password_hash="-") for n in range(1, count + 1)
        ]
        session.add_all(owners)
        session.flush()
        rows = [
            Booking(
                counter_id=counter_id,
                resident_id=owner.id,
                slot_start=now,
                seat=seat,
                created_at=now - timedelta(days=1),
                updated_at=now - timedelta(days=1),
            )
            for seat, owner in enumerate(owners, start=1)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def mark(client: TestClient, booking: int, action: str, token: str) -> int:
    answer = client.post(
        f"/staff/reservations/bookings/{booking}",
        data={"action": action, "csrf_token": token},
        follow_redirects=False,
    )
    return answer.status_code


def waiting(client: TestClient, counter_id: str) -> dict[str, object]:
    body = client.get("/api/reservations/waiting").json()
    assert "待ち時間の目安" in body["explanation"]
    found: dict[str, object] = next(c for c in body["counters"] if c["counter"] == counter_id)
    return found


def test_staff_mark_arrivals_and_the_waiting_time_follows(
    client: TestClient, db: Database, admin: User
) -> None:
    resident(client)
    ids = todays_bookings(db, "shimin-ido", 4)
    assert waiting(client, "shimin-ido")["estimated_wait_minutes"] == 0
    client.cookies.clear()
    login(client)
    day = datetime.now(TOKYO).date().isoformat()
    queue = client.get(f"/staff/reservations/shimin-ido?day={day}")
    assert queue.status_code == 200
    for number in ids:
        assert f'id="booking-{number}"' in queue.text
    token = csrf_of(queue.text)
    for number in ids:
        assert mark(client, number, "arrived", token) == 303
    # 4 waiting, 3 staff: two rounds of the slot length (30 minutes) until visits are measured.
    now = waiting(client, "shimin-ido")
    assert (now["waiting"], now["staff"], now["estimated_wait_minutes"]) == (4, 3, 60)
    public = client.get("/reservations")
    assert "待ち時間の目安" in public.text
    assert '<span class="minutes">60</span>' in public.text

    assert mark(client, ids[0], "serving", token) == 303
    assert mark(client, ids[0], "done", token) == 303
    after = waiting(client, "shimin-ido")
    assert (after["waiting"], after["service_minutes_from_visits"]) == (3, 1)
    # A visit that took (almost) no time: the estimate follows the measured service time.
    assert after["estimated_wait_minutes"] == 0
    # Marks that make no sense now are refused clearly, and nothing changes.
    assert mark(client, ids[0], "arrived", token) == 409
    assert mark(client, ids[1], "no_show", token) == 409
    assert mark(client, ids[1], "vanish", token) == 422
    assert mark(client, 999999, "arrived", token) == 404
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
        done = session.get(Booking, ids[0])
        assert done is not None
        assert done.status == "done"
        assert done.done_at is not None
    assert actions.count("reservations.booking.arrived") == 4
    assert "reservations.queue.read" in actions


def test_the_queue_is_for_staff_only(client: TestClient, db: Database) -> None:
    resident(client)
    slot = open_slots(client, "shimin-ido")[0]["start"]
    number = booking_id(book(client, "shimin-ido", slot))
    page = client.get("/staff/reservations/shimin-ido", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    token = csrf_of(client.get("/reservations/shimin-ido").text)
    assert mark(client, number, "arrived", token) == 401
    with db.session() as session:
        kept = session.get(Booking, number)
        assert kept is not None
        assert kept.status == "booked"


def test_staff_edit_a_counter(client: TestClient, db: Database, admin: User) -> None:
    login(client)
    form = client.get("/staff/reservations/kokuho-nenkin/edit")
    assert form.status_code == 200
    token = csrf_of(form.text)
    values = {
        "name_ja": "保険課・国民年金係",
        "name_en": "Health Insurance and National Pension",
        "place_ja": "本庁舎 1階",
        "place_en": "Main building, 1st floor",
        "slot_minutes": "20",
        "capacity": "0",
        "open_0": "08:30",
        "close_0": "17:00",
        "open_1": "17:00",
        "close_1": "09:00",
        "closed_dates": "2026-12-28\nlater",
        "csrf_token": token,
    }
    refused = client.post("/staff/reservations/kokuho-nenkin/edit", data=values)
    assert refused.status_code == 422
    for field in ("capacity", "open_1", "closed_dates"):
        assert f'id="{field}-error"' in refused.text
    with db.session() as session:
        counter = session.get(Counter, "kokuho-nenkin")
        assert counter is not None
        assert (counter.capacity, len(counter.hours)) == (1, 5)

    values.update(capacity="2", open_1="", close_1="", closed_dates="2026-12-28")
    saved = client.post(
        "/staff/reservations/kokuho-nenkin/edit", data=values, follow_redirects=False
    )
    assert saved.status_code == 303
    assert "保存しました" in client.get(saved.headers["location"]).text
    with db.session() as session:
        counter = session.get(Counter, "kokuho-nenkin")
        assert counter is not None
        assert (counter.capacity, sorted(counter.hours), counter.closed_dates) == (
            2, ["0"], ["2026-12-28"]
        )  # fmt: skip
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "reservations.counter.update")
        ).one()
        assert entry.actor_name == "admin"
    # Only Mondays are open now.
    days = client.get("/api/reservations/counters/kokuho-nenkin").json()["days"]
    for day in days:
        weekday = datetime.fromisoformat(day["date"]).weekday()
        assert bool(day["slots"]) <= (weekday == 0)
        if weekday != 0:
            assert day["closed"]
    assert all(s["free"] == 2 for d in days for s in d["slots"])
