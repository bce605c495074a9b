"""`cityos reservations remind`, run as a real process, e-mails tomorrow's bookings once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from uuid import uuid4

from cityos.core.text import TOKYO
from cityos.db import Database, upgrade_schema
from cityos.reservations.models import Booking
from cityos.residents import service as residents
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import PASSWORD
from tests.test_cli import cityos, env_for


def test_remind_mails_tomorrows_bookings_once(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    # The SMTP server lives for the whole run: addresses of this test alone.
    hanako_email = f"hanako-{uuid4().hex[:8]}@example.jp"
    taro_email = f"taro-{uuid4().hex[:8]}@example.jp"
    db = Database(database_url)
    try:
        upgrade_schema(db.engine)
        tomorrow = datetime.now(TOKYO).date() + timedelta(days=1)
        with db.session() as session:
            hanako = residents.sign_up(session, hanako_email, PASSWORD)
            taro = residents.sign_up(session, taro_email, PASSWORD)
            session.flush()
            at_ten = datetime.combine(tomorrow, time(10, 0), TOKYO)
            session.add_all(
                [
                    Booking(counter_id="kosodate", resident_id=hanako.id, slot_start=at_ten, seat=1),
                    # Not tomorrow, and a cancelled one: neither is reminded.
                    Booking(
                        counter_id="kosodate", resident_id=taro.id,
                        slot_start=at_ten + timedelta(days=1), seat=1,
                    ),
                    Booking(
                        counter_id="kosodate", resident_id=taro.id, slot_start=at_ten,
                        seat=None, status="cancelled",
                    ),
                ]
            )  # fmt: skip
        env = {
            **env_for(database_url, tmp_path / "data"),
            "CITYOS_SMTP_HOST": "127.0.0.1",
            "CITYOS_SMTP_PORT": str(smtp_server.port),
        }
        first = cityos(env, "reservations", "remind")
        assert first.returncode == 0, first.stderr
        assert "1 reminders sent" in first.stdout
        second = cityos(env, "reservations", "remind")
        assert second.returncode == 0, second.stderr
        assert "0 reminders sent" in second.stdout
        (message,) = smtp_server.messages(hanako_email)
        body = message.get_content()
        assert f"{tomorrow:%Y年%m月%d日} 10:00" in body
        assert "子育て支援課" in body
        assert "/my/reservations/" in body
        assert smtp_server.messages(taro_email) == []
    finally:
        db.dispose()


def test_remind_gives_the_claim_back_when_the_relay_is_down(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        upgrade_schema(db.engine)
        tomorrow = datetime.now(TOKYO).date() + timedelta(days=1)
        with db.session() as session:
            hanako = residents.sign_up(session, "down@example.jp", PASSWORD)
            session.flush()
            at_ten = datetime.combine(tomorrow, time(10, 0), TOKYO)
            session.add(
                Booking(counter_id="kosodate", resident_id=hanako.id, slot_start=at_ten, seat=1)
            )
        with socket_closed() as port:
            env = {
                **env_for(database_url, tmp_path / "data"),
                "CITYOS_SMTP_HOST": "127.0.0.1",
                "CITYOS_SMTP_PORT": str(port),
            }
            failed = cityos(env, "reservations", "remind")
        assert failed.returncode == 1
        assert "0 reminders sent, 1 failed" in failed.stdout
        with db.session() as session:
            booking = session.query(Booking).one()
            assert booking.reminded_at is None
    finally:
        db.dispose()


class socket_closed:  # noqa: N801  (used as a context manager)
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        from tests.conftest import free_port

        return free_port()

    def __exit__(self, *_exc: object) -> None:
        return None
