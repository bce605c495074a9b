"""Residents book, change and cancel counter slots; bad slots get a clear message."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.text import TOKYO
from cityos.db import Database
from cityos.reservations.models import Booking, Counter
from tests.conftest import csrf_of
from tests.reservations.conftest import (
    book,
    booking_id,
    is_weekday_holiday,
    next_day,
    open_slots,
    resident,
)
from tests.residents.conftest import PASSWORD


def bookings(db: Database) -> list[Booking]:
    with db.session() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def set_capacity(db: Database, counter_id: str, capacity: int) -> None:
    with db.session() as session:
        counter = session.get(Counter, counter_id)
        assert counter is not None
        counter.capacity = capacity


def free_of(client: TestClient, counter_id: str, start: str) -> int:
    days = client.get(f"/api/reservations/counters/{counter_id}").json()["days"]
    return next(s["free"] for d in days for s in d["slots"] if s["start"] == start)


def test_a_resident_books_changes_and_cancels(client: TestClient, db: Database) -> None:
    resident(client)
    first, second = open_slots(client, "shimin-ido")[3:5]
    answer = book(client, "shimin-ido", first["start"], procedure_id="tennyu")
    number = booking_id(answer)
    page = client.get(f"/my/reservations/{number}?booked=1")
    when = datetime.fromisoformat(first["start"]).strftime("%Y-%m-%d %H:%M")
    assert "予約しました" in page.text
    assert when in page.text
    assert "転入届" in page.text
    assert free_of(client, "shimin-ido", first["start"]) == 2
    my_page = client.get("/my")
    assert when in my_page.text
    assert f"/my/reservations/{number}" in my_page.text

    token = csrf_of(page.text)
    changed = client.post(
        f"/my/reservations/{number}/change",
        data={"slot": second["start"], "csrf_token": token},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    page = client.get(changed.headers["location"])
    assert "予約を変更しました" in page.text
    assert datetime.fromisoformat(second["start"]).strftime("%Y-%m-%d %H:%M") in page.text
    # The old seat is free again; the new one is taken.
    assert free_of(client, "shimin-ido", first["start"]) == 3
    assert free_of(client, "shimin-ido", second["start"]) == 2

    cancelled = client.post(
        f"/my/reservations/{number}/cancel", data={"csrf_token": token}, follow_redirects=False
    )
    assert cancelled.status_code == 303
    assert free_of(client, "shimin-ido", second["start"]) == 3
    assert "取り消し" in client.get("/my").text
    assert [b.status for b in bookings(db)] == ["cancelled"]
    exported = client.get("/my/export.json").json()
    assert exported["reservations"][0]["status"] == "cancelled"


def _past_open_slot() -> str:
    day = next_day(
        date.today() - timedelta(days=40),
        lambda d: d.weekday() < 5 and not is_weekday_holiday(d) and not (
            (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)
        ),
    )  # fmt: skip
    return f"{day.isoformat()}T09:00"


def test_bad_slots_are_refused_next_to_the_field(client: TestClient, db: Database) -> None:
    resident(client)
    today = datetime.now(TOKYO).date()
    sunday = next_day(today, lambda d: d.weekday() == 6)
    holiday = next_day(today + timedelta(days=1), is_weekday_holiday)
    year_end = date(today.year, 12, 30) if today < date(today.year, 12, 30) else None
    year_end = year_end or date(today.year + 1, 12, 30)
    cases = [
        (_past_open_slot(), "過ぎた時間枠は予約できません"),
        (f"{sunday.isoformat()}T10:00", "この曜日は休み"),
        (f"{holiday.isoformat()}T10:00", "祝日"),
        (f"{year_end.isoformat()}T10:00", "年末年始"),
        ("next tuesday", "時間枠を選んでください"),
        ("", "時間枠を選んでください"),
    ]
    future = open_slots(client, "shimin-ido")[0]["start"]
    cases.append((future[:14] + "10" + future[16:], "予約できる時間枠ではありません"))
    for slot, message in cases:
        answer = book(client, "shimin-ido", slot)
        assert answer.status_code == 422, (slot, answer.status_code)
        assert message in answer.text, slot
        assert 'id="slot-error"' in answer.text, slot
        assert 'aria-describedby="slot-error"' in answer.text
    wrong = book(client, "shimin-ido", future, procedure_id="inu_toroku")
    assert wrong.status_code == 422
    assert 'id="procedure_id-error"' in wrong.text
    assert bookings(db) == []


def test_a_full_slot_and_a_double_booking_are_refused(client: TestClient, db: Database) -> None:
    set_capacity(db, "kokuho-nenkin", 1)
    resident(client, "first@example.jp")
    slot = open_slots(client, "kokuho-nenkin")[0]["start"]
    booking_id(book(client, "kokuho-nenkin", slot))
    again = book(client, "kokuho-nenkin", slot)
    assert again.status_code == 409
    assert "すでに予約しています" in again.text
    client.cookies.clear()
    resident(client, "second@example.jp")
    full = book(client, "kokuho-nenkin", slot)
    assert full.status_code == 409
    assert "満員" in full.text
    assert 'id="slot-error"' in full.text
    assert len(bookings(db)) == 1
    # The public list shows it full, and the picker offers it no more.
    assert slot not in [s["start"] for s in open_slots(client, "kokuho-nenkin")]


def test_a_resident_holds_at_most_five_upcoming_bookings(client: TestClient, db: Database) -> None:
    resident(client)
    slots = open_slots(client, "shimin-shomei")
    for slot in slots[:5]:
        booking_id(book(client, "shimin-shomei", slot["start"]))
    sixth = book(client, "shimin-shomei", slots[5]["start"])
    assert sixth.status_code == 409
    assert "5 件まで" in sixth.text
    assert len(bookings(db)) == 5


def test_another_residents_booking_is_not_found(client: TestClient, db: Database) -> None:
    resident(client, "owner@example.jp")
    slots = open_slots(client, "kosodate")
    number = booking_id(book(client, "kosodate", slots[0]["start"]))
    client.cookies.clear()
    resident(client, "other@example.jp")
    token = csrf_of(client.get("/my").text)
    assert client.get(f"/my/reservations/{number}").status_code == 404
    for action, data in (("change", {"slot": slots[1]["start"]}), ("cancel", {})):
        answer = client.post(
            f"/my/reservations/{number}/{action}",
            data={**data, "csrf_token": token},
            follow_redirects=False,
        )
        assert answer.status_code == 404, action
    [kept] = bookings(db)
    assert kept.status == "booked"
    assert kept.slot_start == datetime.fromisoformat(slots[0]["start"])


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient, db: Database) -> None:
    resident(client)
    slot = open_slots(client, "shimin-ido")[0]["start"]
    answer = client.post("/reservations/shimin-ido", data={"slot": slot}, follow_redirects=False)
    assert answer.status_code == 403
    assert "有効期限" in answer.text
    assert bookings(db) == []


def test_booking_needs_a_resident_login(client: TestClient, db: Database) -> None:
    page = client.get("/reservations/shimin-ido")
    assert "予約するにはログインが必要です" in page.text
    slot = open_slots(client, "shimin-ido")[0]["start"]
    answer = client.post(
        "/reservations/shimin-ido",
        data={"slot": slot, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/residents/login?next=")
    assert bookings(db) == []
    assert client.get("/my/reservations/1", follow_redirects=False).status_code == 303
    assert client.get("/reservations/no-such-counter").status_code == 404


def test_the_booking_page_shows_closed_days_and_the_sample_label(client: TestClient) -> None:
    page = client.get("/reservations/shimin-ido?week=1")
    assert page.status_code == 200
    assert "この曜日は休み" in page.text
    assert "見本（デモ用のデータ）" in page.text
    assert client.get("/reservations/shimin-ido?week=99").status_code == 200


def test_deleting_the_account_deletes_its_bookings_and_frees_the_seat(
    client: TestClient, db: Database
) -> None:
    resident(client)
    set_capacity(db, "kokuho-nenkin", 1)
    slot = open_slots(client, "kokuho-nenkin")[0]["start"]
    booking_id(book(client, "kokuho-nenkin", slot))
    assert free_of(client, "kokuho-nenkin", slot) == 0
    token = csrf_of(client.get("/my/delete").text)
    deleted = client.post(
        "/my/delete", data={"password": PASSWORD, "confirm": "yes", "csrf_token": token}
    )
    assert deleted.status_code == 200
    assert bookings(db) == []
    assert free_of(client, "kokuho-nenkin", slot) == 1
