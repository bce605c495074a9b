"""Reminder runs that overlap (cron started twice, a slow run still going) queue each
reminder once, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

from sqlalchemy import func, select

from cityos.db import Database
from cityos.notify.models import Delivery
from cityos.reservations import service
from cityos.reservations.models import Booking
from tests.reservations.test_cli import confirmed, tomorrow_at_ten


def test_overlapping_runs_queue_each_reminder_once(db: Database) -> None:
    with db.session() as session:
        for n in range(3):
            resident = confirmed(session, f"overlap-{n}-{uuid4().hex[:6]}@example.jp")
            session.flush()
            session.add(
                Booking(
                    counter_id="kosodate", resident_id=resident.id,
                    slot_start=tomorrow_at_ten(), seat=n + 1,
                )
            )  # fmt: skip
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(
            pool.map(lambda _: service.queue_reminders(db, "https://city.example"), range(4))
        )
    assert sum(run.queued for run in runs) == 3
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 3
        assert (
            session.scalar(
                select(func.count()).select_from(Booking).where(Booking.reminded_at.is_(None))
            )
            == 0
        )
