"""Tables of the reservations domain: counters (窓口) and residents' bookings.

A booking holds one *seat* of its slot: seat numbers run from 1 to the counter's capacity
and ``(counter_id, slot_start, seat)`` is unique, so the database itself refuses a booking
past capacity however many requests arrive at once. A cancelled booking gives its seat up
(``seat`` becomes NULL, which the unique constraint does not count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

WEEKDAYS: tuple[tuple[str, str], ...] = (
    ("月", "Mon"),
    ("火", "Tue"),
    ("水", "Wed"),
    ("木", "Thu"),
    ("金", "Fri"),
    ("土", "Sat"),
    ("日", "Sun"),
)

# booked → arrived (受付済) → serving (対応中) → done; or no_show, or cancelled by the resident.
STATUSES: dict[str, tuple[str, str]] = {
    "booked": ("予約済み", "Booked"),
    "arrived": ("来庁・お待ちください", "Arrived, waiting"),
    "serving": ("対応中", "Being served"),
    "done": ("完了", "Done"),
    "no_show": ("来庁なし", "No-show"),
    "cancelled": ("取り消し", "Cancelled"),
}
ACTIVE = ("booked", "arrived", "serving")


class Counter(Base):
    """A counter (窓口) residents book: its hours, slot length and staff per slot."""

    __tablename__ = "reservation_counters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    place_ja: Mapped[str] = mapped_column(String(200), default="")
    place_en: Mapped[str] = mapped_column(String(200), default="")
    slot_minutes: Mapped[int] = mapped_column(default=30)
    # Staff serving at once: the bookings one slot takes.
    capacity: Mapped[int] = mapped_column(default=1)
    # Weekday (0 = Monday) → ["08:30", "17:00"]; a weekday that is missing is closed.
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Extra closed days (ISO dates); public holidays and 12/29–1/3 are always closed.
    closed_dates: Mapped[list[Any]] = mapped_column(default=list)
    # Procedures of the catalog handled here (a booking may name one of them).
    procedure_ids: Mapped[list[Any]] = mapped_column(default=list)
    # Demo data, labelled as such on every page.
    sample: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class Booking(Base):
    """One resident's booking of one slot of one counter."""

    __tablename__ = "reservation_bookings"
    __table_args__ = (
        UniqueConstraint("counter_id", "slot_start", "seat", name="uq_reservation_bookings_seat"),
        Index("ix_reservation_bookings_resident", "resident_id", "slot_start"),
        # One seat per resident and slot, even when the form is sent twice at once.
        Index(
            "uq_reservation_bookings_resident_slot",
            "resident_id",
            "counter_id",
            "slot_start",
            unique=True,
            sqlite_where=text("seat IS NOT NULL"),
            postgresql_where=text("seat IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[str] = mapped_column(
        ForeignKey("reservation_counters.id", ondelete="CASCADE")
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    slot_start: Mapped[datetime]
    seat: Mapped[int | None] = mapped_column(default=None)
    procedure_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)

    counter: Mapped[Counter] = relationship(lazy="joined")
