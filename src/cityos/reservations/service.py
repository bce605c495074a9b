"""Counter reservations (窓口予約): open slots, booking, the day's queue, waiting times.

Capacity is kept by the database, not by a count read beforehand: each booking takes a seat
number 1..capacity of its slot inside a savepoint, and the unique constraint on
``(counter_id, slot_start, seat)`` refuses a seat another request took first (on PostgreSQL
the second insert waits for the first to commit, then fails and tries the next seat; SQLite
serializes writers). A slot is full when every seat number was refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import jpholiday
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.errors import ConflictProblem, NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.text import TOKYO
from cityos.db import Database, utcnow
from cityos.notify import service as notify
from cityos.procedures import service as procedures
from cityos.reservations.models import ACTIVE, Booking, Counter
from cityos.residents import service as residents
from cityos.residents.models import Resident

BOOKABLE_DAYS = 28  # how far ahead residents may book
MAX_ACTIVE_PER_RESIDENT = 5  # upcoming bookings one account may hold at once
MAX_CAPACITY = 20
RECENT_SERVICES = 10  # done visits the average service time is taken from
_COUNTER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")

SLOT_FIELD = "slot"


def now_utc() -> datetime:
    return utcnow()


# --- calendar ------------------------------------------------------------------------------------


def year_end_closed(day: date) -> bool:
    """年末年始: 12/29 to 1/3 the city offices are closed."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def closed_reason(counter: Counter, day: date) -> str:
    """Why the counter is closed on ``day`` ("" when it is open), Japanese / English."""
    if year_end_closed(day):
        return "年末年始の休み / closed for the New Year holidays (12/29–1/3)"
    holiday = jpholiday.is_holiday_name(day)
    if holiday:
        return f"祝日（{holiday}）のため休み / closed on a public holiday"
    if day.isoformat() in counter.closed_dates:
        return "臨時の休み / closed on this day"
    if str(day.weekday()) not in counter.hours:
        return "この曜日は休み / closed on this day of the week"
    return ""


def slot_starts(counter: Counter, day: date) -> list[datetime]:
    """The start of every slot of ``day`` (Tokyo time); none on a closed day."""
    if closed_reason(counter, day):
        return []
    opens, closes = counter.hours[str(day.weekday())]
    start = datetime.combine(day, time.fromisoformat(opens), TOKYO)
    end = datetime.combine(day, time.fromisoformat(closes), TOKYO)
    step = timedelta(minutes=counter.slot_minutes)
    starts = []
    while start + step <= end:
        starts.append(start)
        start += step
    return starts


@dataclass
class Slot:
    start: datetime  # Tokyo time
    free: int
    past: bool

    @property
    def key(self) -> str:
        """The slot as forms and the API name it: 2026-12-01T09:00."""
        return self.start.strftime("%Y-%m-%dT%H:%M")


@dataclass
class Day:
    day: date
    closed: str
    slots: list[Slot] = field(default_factory=list)


def today(now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(TOKYO).date()


def _taken(session: Session, counter: Counter, first: datetime, last: datetime) -> dict[Any, int]:
    rows = session.execute(
        select(Booking.slot_start, func.count())
        .where(
            Booking.counter_id == counter.id,
            Booking.seat.is_not(None),
            Booking.slot_start >= first,
            Booking.slot_start <= last,
        )
        .group_by(Booking.slot_start)
    )
    return {start.astimezone(UTC): count for start, count in rows}


def calendar(
    session: Session, counter: Counter, first_day: date, days: int, now: datetime | None = None
) -> list[Day]:
    """Each day from ``first_day``: closed (and why) or its slots with free places."""
    now = now or now_utc()
    days_list = [first_day + timedelta(days=n) for n in range(days)]
    first = datetime.combine(first_day, time.min, TOKYO)
    last = datetime.combine(days_list[-1], time.max, TOKYO)
    taken = _taken(session, counter, first, last)
    result = []
    for day in days_list:
        starts = slot_starts(counter, day)
        result.append(
            Day(
                day,
                closed_reason(counter, day),
                [
                    Slot(
                        start,
                        max(0, counter.capacity - taken.get(start.astimezone(UTC), 0)),
                        start <= now,
                    )
                    for start in starts
                ],
            )
        )
    return result


# --- counters --------------------------------------------------------------------------------


def counters(session: Session) -> list[Counter]:
    return list(session.scalars(select(Counter).order_by(Counter.position, Counter.id)))


def get_counter(session: Session, counter_id: str) -> Counter:
    counter = session.get(Counter, counter_id) if _COUNTER_ID.fullmatch(counter_id or "") else None
    if counter is None:
        raise NotFoundProblem(f"窓口 {counter_id!r} は見つかりません / no counter {counter_id!r}")
    return counter


def _int_field(
    fields: dict[str, Any], name: str, low: int, high: int, errors: dict[str, list[str]]
) -> int:
    text = str(fields.get(name, "")).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[name] = [
            f"{low}〜{high} の整数で入力してください / enter a whole number {low}–{high}"
        ]
        return low
    return int(text)


def _parse_hours(fields: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[str]]:
    hours: dict[str, list[str]] = {}
    for weekday in range(7):
        opens = str(fields.get(f"open_{weekday}", "")).strip()
        closes = str(fields.get(f"close_{weekday}", "")).strip()
        if not opens and not closes:
            continue
        if not (_HHMM.fullmatch(opens) and _HHMM.fullmatch(closes)) or opens >= closes:
            errors[f"open_{weekday}"] = [
                "開始と終了を 08:30 と 17:00 のように、開始を先に入力してください / "
                "enter opening and closing times such as 08:30 and 17:00, opening first"
            ]
            continue
        hours[str(weekday)] = [opens, closes]
    return hours


def _parse_dates(text: str, errors: dict[str, list[str]]) -> list[str]:
    dates = []
    for word in re.split(r"[\s,、]+", text.strip()):
        if not word:
            continue
        try:
            dates.append(date.fromisoformat(word).isoformat())
        except ValueError:
            errors["closed_dates"] = [
                f"{word[:20]!r} は日付ではありません。2026-12-28 の形で書いてください / "
                "not a date: write dates as 2026-12-28"
            ]
    return sorted(set(dates))


def update_counter(session: Session, user: User, counter_id: str, fields: dict[str, Any]) -> None:
    """Staff edit a counter. Every field is checked before any is written; audited."""
    counter = get_counter(session, counter_id)
    errors: dict[str, list[str]] = {}
    texts = {}
    for name, limit in (("name_ja", 200), ("name_en", 200), ("place_ja", 200), ("place_en", 200)):
        value = str(fields.get(name, "")).strip()
        if (name == "name_ja" and not value) or len(value) > limit:
            errors[name] = [f"1〜{limit}文字で入力してください / enter 1–{limit} characters"]
        texts[name] = value
    slot_minutes = _int_field(fields, "slot_minutes", 5, 240, errors)
    capacity = _int_field(fields, "capacity", 1, MAX_CAPACITY, errors)
    hours = _parse_hours(fields, errors)
    closed = _parse_dates(str(fields.get("closed_dates", "")), errors)
    if errors:
        raise ValidationProblem(
            "入力内容に誤りがあります / some fields are not valid", errors=errors
        )
    before = {"slot_minutes": counter.slot_minutes, "capacity": counter.capacity}
    for name, value in texts.items():
        setattr(counter, name, value)
    counter.slot_minutes = slot_minutes
    counter.capacity = capacity
    counter.hours = hours
    counter.closed_dates = closed
    counter.updated_at = now_utc()
    counter.updated_by = user.name
    audit.record(
        session, user, "reservations.counter.update", "reservation_counter", counter.id,
        summary=counter.name_ja,
        detail={"before": before, "slot_minutes": slot_minutes, "capacity": capacity,
                "hours": hours, "closed_dates": closed},
    )  # fmt: skip


# --- booking -------------------------------------------------------------------------------------


def _slot_problem(message: str, status: int = 422) -> ValidationProblem:
    return ValidationProblem(message, errors={SLOT_FIELD: [message]}, status=status)


def check_slot(counter: Counter, slot_text: str, now: datetime) -> datetime:
    """The slot a form names, if it is a real, future, open slot of the counter (UTC)."""
    try:
        start = datetime.fromisoformat(slot_text.strip())
    except ValueError:
        raise _slot_problem("時間枠を選んでください / choose a time slot") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=TOKYO)
    local = start.astimezone(TOKYO)
    reason = closed_reason(counter, local.date())
    if reason:
        raise _slot_problem(f"{local:%Y-%m-%d} は{reason}")
    if local not in slot_starts(counter, local.date()):
        raise _slot_problem(
            "その時刻は予約できる時間枠ではありません / that time is not one of the counter's slots"
        )
    if local <= now:
        raise _slot_problem(
            "過ぎた時間枠は予約できません / the slot has already passed; choose a later one"
        )
    if local.date() > today(now) + timedelta(days=BOOKABLE_DAYS):
        raise _slot_problem(
            f"予約できるのは {BOOKABLE_DAYS} 日先までです / "
            f"slots can be booked up to {BOOKABLE_DAYS} days ahead"
        )
    return start.astimezone(UTC)


def _full() -> ConflictProblem:
    message = (
        "この時間枠は満員です。ほかの時間を選んでください / "
        "this slot is full; please choose another time"
    )
    return ConflictProblem(message, errors={SLOT_FIELD: [message]})


def _check_procedure(session: Session, counter: Counter, procedure_id: str) -> str | None:
    procedure_id = procedure_id.strip()
    if not procedure_id:
        return None
    if procedure_id not in counter.procedure_ids:
        message = "この窓口で扱う手続きから選んでください / choose a procedure this counter handles"
        raise ValidationProblem(message, errors={"procedure_id": [message]})
    procedures.get(session, procedure_id)
    return procedure_id


def _taken_seats(session: Session, counter: Counter, start: datetime) -> set[int]:
    seats = session.scalars(
        select(Booking.seat).where(
            Booking.counter_id == counter.id,
            Booking.slot_start == start,
            Booking.seat.is_not(None),
        )
    )
    return {seat for seat in seats if seat is not None}


def _seat_order(session: Session, counter: Counter, start: datetime) -> list[int]:
    # Free-looking seats first (usually the first try wins), then the rest: what looked
    # taken may have been given up meanwhile, and the constraint has the last word.
    taken = _taken_seats(session, counter, start)
    seats = range(1, counter.capacity + 1)
    return [s for s in seats if s not in taken] + [s for s in seats if s in taken]


def _holds_slot(session: Session, resident: Resident, counter: Counter, start: datetime) -> bool:
    found = session.scalar(
        select(Booking.id).where(
            Booking.resident_id == resident.id,
            Booking.counter_id == counter.id,
            Booking.slot_start == start,
            Booking.seat.is_not(None),
        )
    )
    return found is not None


def _already_booked() -> ConflictProblem:
    message = "この時間枠はすでに予約しています / you have already booked this slot"
    return ConflictProblem(message, errors={SLOT_FIELD: [message]})


def book(
    session: Session,
    resident: Resident,
    counter_id: str,
    slot_text: str,
    procedure_id: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book one seat of a slot, or raise a clear problem (past, closed, full, twice)."""
    now = now or now_utc()
    counter = get_counter(session, counter_id)
    start = check_slot(counter, slot_text, now)
    chosen = _check_procedure(session, counter, procedure_id)
    if _holds_slot(session, resident, counter, start):
        raise _already_booked()
    upcoming = session.scalar(
        select(func.count()).where(
            Booking.resident_id == resident.id, Booking.seat.is_not(None), Booking.slot_start > now
        )
    )
    if (upcoming or 0) >= MAX_ACTIVE_PER_RESIDENT:
        message = (
            f"予約は同時に {MAX_ACTIVE_PER_RESIDENT} 件までです。不要な予約を取り消してください / "
            f"at most {MAX_ACTIVE_PER_RESIDENT} upcoming bookings; cancel one first"
        )
        raise ConflictProblem(message, errors={SLOT_FIELD: [message]})
    for seat in _seat_order(session, counter, start):
        try:
            with session.begin_nested():
                booking_id = session.scalar(
                    insert(Booking)
                    .values(
                        counter_id=counter.id,
                        resident_id=resident.id,
                        slot_start=start,
                        seat=seat,
                        procedure_id=chosen,
                        status="booked",
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(Booking.id)
                )
        except IntegrityError:
            continue
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking
    # Every seat was refused: by others' bookings, or by this resident's own twin request.
    if _holds_slot(session, resident, counter, start):
        raise _already_booked()
    raise _full()


def naive_book(
    session: Session, resident: Resident, counter_id: str, slot_text: str, now: datetime
) -> Booking:
    """The reference the race benchmark compares with: count, then insert (no seat).

    Between the count and the insert another request can do the same, so this overbooks under
    concurrency. Never used by the app; benchmarks/reservations_race.py calls it.
    """
    counter = get_counter(session, counter_id)
    start = check_slot(counter, slot_text, now)
    taken = session.scalar(
        select(func.count()).where(
            Booking.counter_id == counter.id,
            Booking.slot_start == start,
            Booking.status.in_(ACTIVE),
        )
    )
    if (taken or 0) >= counter.capacity:
        raise _full()
    booking = Booking(
        counter_id=counter.id, resident_id=resident.id, slot_start=start, seat=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(booking)
    session.flush()
    return booking


def booking_of(session: Session, resident: Resident, booking_id: int) -> Booking:
    """The resident's own booking; another resident's id is simply not found (404)."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.resident_id != resident.id:
        raise NotFoundProblem("予約が見つかりません / no such booking")
    return booking


def _changeable(booking: Booking, now: datetime) -> None:
    if booking.status != "booked" or booking.seat is None:
        raise ConflictProblem(
            "この予約は変更・取り消しできません（受付済み・完了・取り消し済み） / "
            "this booking can no longer be changed or cancelled"
        )
    if booking.slot_start <= now:
        raise ConflictProblem(
            "過ぎた予約は変更・取り消しできません / a past booking cannot be changed or cancelled"
        )


def change(
    session: Session,
    resident: Resident,
    booking_id: int,
    slot_text: str,
    now: datetime | None = None,
) -> Booking:
    """Move a booking to another slot of its counter; the old seat is given up only then."""
    now = now or now_utc()
    booking = booking_of(session, resident, booking_id)
    _changeable(booking, now)
    counter = booking.counter
    start = check_slot(counter, slot_text, now)
    if start == booking.slot_start:
        return booking
    if _holds_slot(session, resident, counter, start):
        raise _already_booked()
    for seat in _seat_order(session, counter, start):
        try:
            with session.begin_nested():
                session.execute(
                    update(Booking)
                    .where(Booking.id == booking.id)
                    .values(slot_start=start, seat=seat, updated_at=now, reminded_at=None)
                )
        except IntegrityError:
            continue
        session.refresh(booking)
        return booking
    if _holds_slot(session, resident, counter, start):
        raise _already_booked()
    raise _full()


def cancel(
    session: Session, resident: Resident, booking_id: int, now: datetime | None = None
) -> Booking:
    now = now or now_utc()
    booking = booking_of(session, resident, booking_id)
    _changeable(booking, now)
    booking.status = "cancelled"
    booking.seat = None
    booking.updated_at = now
    session.flush()
    return booking


def bookings_of(session: Session, resident: Resident) -> list[Booking]:
    """The resident's bookings, the next first, then past and cancelled ones (latest 20)."""
    rows = session.scalars(
        select(Booking)
        .where(Booking.resident_id == resident.id)
        .order_by(Booking.slot_start.desc())
        .limit(40)
    )
    bookings = list(rows)
    now = now_utc()
    upcoming = sorted(
        (b for b in bookings if b.status in ACTIVE and b.slot_start >= now - timedelta(hours=2)),
        key=lambda b: b.slot_start,
    )
    rest = [b for b in bookings if b not in upcoming][:20]
    return upcoming + rest


def export_of(session: Session, resident: Resident) -> list[dict[str, Any]]:
    return [
        {
            "counter": b.counter_id,
            "slot_start": b.slot_start.astimezone(TOKYO).isoformat(),
            "procedure": b.procedure_id,
            "status": b.status,
        }
        for b in bookings_of(session, resident)
    ]


# --- the day's queue (staff) ------------------------------------------------------------------

MARKS = {
    "arrived": ("booked",),
    "serving": ("arrived", "booked"),
    "done": ("serving", "arrived"),
    "no_show": ("booked",),
}


def day_queue(session: Session, user: User, counter_id: str, day: date) -> list[Booking]:
    """The day's bookings of a counter, in slot order (a staff read of personal data: audited)."""
    counter = get_counter(session, counter_id)
    first = datetime.combine(day, time.min, TOKYO)
    last = datetime.combine(day, time.max, TOKYO)
    rows = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.counter_id == counter.id,
                Booking.slot_start >= first,
                Booking.slot_start <= last,
                Booking.status != "cancelled",
            )
            .order_by(Booking.slot_start, Booking.seat, Booking.id)
        )
    )
    audit.record(
        session, user, "reservations.queue.read", "reservation_counter", counter.id,
        summary=f"{day.isoformat()} ({len(rows)})",
    )  # fmt: skip
    return rows


def mark(
    session: Session, user: User, booking_id: int, action: str, now: datetime | None = None
) -> Booking:
    """Staff mark a booking arrived, being served, done or a no-show; audited."""
    now = now or now_utc()
    if action not in MARKS:
        raise ValidationProblem(
            "操作が正しくありません / unknown action", errors={"action": ["unknown action"]}
        )
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFoundProblem("予約が見つかりません / no such booking")
    if booking.status not in MARKS[action]:
        raise ConflictProblem(
            f"この予約は今「{booking.status}」なので、その操作はできません / "
            f"a booking that is {booking.status} cannot be marked {action}"
        )
    if action == "arrived":
        booking.arrived_at = now
    elif action == "serving":
        booking.arrived_at = booking.arrived_at or now
        booking.started_at = now
    elif action == "done":
        booking.started_at = booking.started_at or now
        booking.done_at = now
    booking.status = action
    booking.updated_at = now
    audit.record(
        session, user, f"reservations.booking.{action}", "reservation_booking", str(booking.id),
        summary=booking.counter_id,
    )  # fmt: skip
    return booking


# --- waiting time ------------------------------------------------------------------------------


@dataclass
class Waiting:
    counter: Counter
    waiting: int  # arrived and not yet called
    serving: int
    service_minutes: float  # the average of the day's recent visits, else the slot length
    measured: int  # how many visits that average is taken from
    minutes: int  # the estimate

    def as_json(self) -> dict[str, Any]:
        return {
            "counter": self.counter.id,
            "name_ja": self.counter.name_ja,
            "name_en": self.counter.name_en,
            "waiting": self.waiting,
            "serving": self.serving,
            "staff": self.counter.capacity,
            "service_minutes": round(self.service_minutes, 1),
            "service_minutes_from_visits": self.measured,
            "estimated_wait_minutes": self.minutes,
            "sample": self.counter.sample,
        }


def waiting_times(session: Session, now: datetime | None = None) -> list[Waiting]:
    """The current wait per counter: people waiting ÷ staff (rounded up) × service time."""
    now = now or now_utc()
    first = datetime.combine(today(now), time.min, TOKYO)
    result = []
    for counter in counters(session):
        todays = list(
            session.execute(
                select(Booking.status, Booking.started_at, Booking.done_at).where(
                    Booking.counter_id == counter.id,
                    Booking.slot_start >= first,
                    Booking.slot_start < first + timedelta(days=1),
                    Booking.status.in_(("arrived", "serving", "done")),
                )
            )
        )
        waiting = sum(1 for status, _s, _d in todays if status == "arrived")
        serving = sum(1 for status, _s, _d in todays if status == "serving")
        durations = sorted(
            ((done, (done - started).total_seconds() / 60) for _st, started, done in todays
             if started is not None and done is not None),
            key=lambda item: item[0],
        )[-RECENT_SERVICES:]  # fmt: skip
        service = (
            sum(minutes for _done, minutes in durations) / len(durations)
            if durations
            else float(counter.slot_minutes)
        )
        rounds = math.ceil(waiting / max(1, counter.capacity))
        result.append(
            Waiting(counter, waiting, serving, service, len(durations), round(rounds * service))
        )
    return result


# --- reminders -----------------------------------------------------------------------------------


def due_reminders(session: Session, now: datetime) -> list[Booking]:
    """Bookings of tomorrow (Tokyo) not yet reminded."""
    tomorrow = today(now) + timedelta(days=1)
    first = datetime.combine(tomorrow, time.min, TOKYO)
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.status == "booked",
                Booking.reminded_at.is_(None),
                Booking.slot_start >= first,
                Booking.slot_start < first + timedelta(days=1),
            )
            .order_by(Booking.id)
        )
    )


def reminder_email(booking: Booking, site_url: str) -> tuple[str, str]:
    """The reminder's subject and text; notify adds the unsubscribe footer."""
    counter = booking.counter
    local = booking.slot_start.astimezone(TOKYO)
    subject = f"【三鷹市】明日 {local:%m/%d %H:%M} 窓口のご予約 / your counter booking"
    link = f"{site_url.rstrip('/')}/my/reservations/{booking.id}"
    body = (
        "【日本語】\n"
        f"明日 {local:%Y年%m月%d日 %H:%M} に {counter.name_ja} のご予約があります。\n"
        f"場所: {counter.place_ja}\n"
        f"変更・取り消し: {link}\n\n"
        "[English]\n"
        f"You have a booking tomorrow, {local:%Y-%m-%d %H:%M}, at {counter.name_en}.\n"
        f"Place: {counter.place_en}\nChange or cancel: {link}"
    )
    return subject, body


@dataclass(frozen=True)
class Reminders:
    queued: int = 0  # handed to notify's queue (it sends, retries and logs them)
    unconfirmed: int = 0  # the resident has not confirmed the address: tried again next run
    stopped: int = 0  # the resident unsubscribed from these e-mails: never sent


def queue_reminders(db: Database, site_url: str, now: datetime | None = None) -> Reminders:
    """Queue a reminder for every booking of tomorrow, once, through the notify domain.

    Each booking is claimed (``reminded_at`` set where it was empty) in the same transaction
    that queues its e-mail, so two runs at once, or a second run, never queue it twice, and
    a claim is never left without its e-mail. Notify's worker sends it, retrying a relay that
    is down. A resident whose address is not confirmed yet is skipped, unclaimed.
    """
    now = now or now_utc()
    with db.session() as session:
        due = [b.id for b in due_reminders(session, now)]
    queued = unconfirmed = stopped = 0
    for booking_id in due:
        with db.session() as session:
            booking = session.get(Booking, booking_id)
            resident = session.get(Resident, booking.resident_id) if booking else None
            if booking is None or resident is None:
                continue
            address = residents.mail_address(resident)
            if not address:
                unconfirmed += 1
                continue
            claimed = session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.reminded_at.is_(None))
                .values(reminded_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another run took it
            subject, body = reminder_email(booking, site_url)
            delivery = notify.queue_direct_email(
                session, address, subject, body, kind="reservations", now=now
            )
            if delivery is None:
                stopped += 1
                continue
            queued += 1
    return Reminders(queued, unconfirmed, stopped)
