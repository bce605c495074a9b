"""`cityos reservations remind`, run as a real process, queues tomorrow's reminders through
notify once each; `cityos notify worker` sends them over real SMTP, retrying a relay that is down."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select

from cityos.core.text import TOKYO
from cityos.db import Database, upgrade_schema
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, DeliveryAttempt
from cityos.reservations.models import Booking
from cityos.residents import service as residents
from cityos.residents.models import Resident
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import PASSWORD
from tests.test_cli import cityos, env_for

SECRET = "reservations-cli-test-secret"


def confirmed(session: object, email: str) -> Resident:
    """A resident who signed up and opened the link in their confirmation e-mail."""
    resident = residents.sign_up(session, email, PASSWORD)  # type: ignore[arg-type]
    token = residents.confirmation_token(SECRET, resident, email)
    return residents.confirm_email(session, SECRET, token)  # type: ignore[arg-type]


def tomorrow_at_ten() -> datetime:
    return datetime.combine(datetime.now(TOKYO).date() + timedelta(days=1), time(10, 0), TOKYO)


def test_remind_queues_tomorrows_bookings_once_and_the_worker_sends_them(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    # The SMTP server lives for the whole run: addresses of this test alone.
    hanako_email = f"hanako-{uuid4().hex[:8]}@example.jp"
    taro_email = f"taro-{uuid4().hex[:8]}@example.jp"
    jiro_email = f"jiro-{uuid4().hex[:8]}@example.jp"
    db = Database(database_url)
    try:
        upgrade_schema(db.engine)
        at_ten = tomorrow_at_ten()
        with db.session() as session:
            hanako = confirmed(session, hanako_email)
            taro = confirmed(session, taro_email)
            jiro = residents.sign_up(session, jiro_email, PASSWORD)  # never confirmed
            session.flush()
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
                    Booking(counter_id="kosodate", resident_id=jiro.id, slot_start=at_ten, seat=2),
                ]
            )  # fmt: skip
        env = {
            **env_for(database_url, tmp_path / "data"),
            "CITYOS_SMTP_HOST": "127.0.0.1",
            "CITYOS_SMTP_PORT": str(smtp_server.port),
            "CITYOS_SITE_URL": "https://city.example",
        }
        first = cityos(env, "reservations", "remind")
        assert first.returncode == 0, first.stderr
        assert "1 reminders queued, 1 waiting for e-mail confirmation" in first.stdout
        second = cityos(env, "reservations", "remind")
        assert second.returncode == 0, second.stderr
        assert "0 reminders queued" in second.stdout
        assert smtp_server.messages(hanako_email) == []  # queued, not sent by remind itself

        sent = cityos(env, "notify", "worker", "--until-empty")
        assert sent.returncode == 0, sent.stderr
        assert cityos(env, "reservations", "remind").returncode == 0
        assert cityos(env, "notify", "worker", "--until-empty").returncode == 0
        (message,) = smtp_server.messages(hanako_email)  # never twice
        body = message.get_content()
        assert f"{at_ten:%Y年%m月%d日} 10:00" in body
        assert "子育て支援課" in body
        assert "https://city.example/my/reservations/" in body
        assert "配信停止 / Unsubscribe" in body  # like every notify e-mail
        assert "/notify/unsubscribe/" in str(message["List-Unsubscribe"])
        assert smtp_server.messages(taro_email) == []
        assert smtp_server.messages(jiro_email) == []
        with db.session() as session:
            jiros = session.scalars(select(Booking).where(Booking.resident_id == jiro.id)).one()
            assert jiros.reminded_at is None  # reminded once the address is confirmed
    finally:
        db.dispose()


def test_a_reminder_the_relay_refused_is_retried_and_logged_not_queued_again(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, settings: object
) -> None:
    email = f"retry-{uuid4().hex[:8]}@example.jp"
    db = Database(database_url)
    try:
        upgrade_schema(db.engine)
        with db.session() as session:
            hanako = confirmed(session, email)
            session.flush()
            session.add(
                Booking(
                    counter_id="kosodate",
                    resident_id=hanako.id,
                    slot_start=tomorrow_at_ten(),
                    seat=1,
                )
            )
        with socket_closed() as port:
            env = {
                **env_for(database_url, tmp_path / "data"),
                "CITYOS_SMTP_HOST": "127.0.0.1",
                "CITYOS_SMTP_PORT": str(port),
            }
            assert "1 reminders queued" in cityos(env, "reservations", "remind").stdout
            down = cityos(env, "notify", "worker", "--once")
            assert down.returncode == 0, down.stderr
        assert "0 reminders queued" in cityos(env, "reservations", "remind").stdout
        with db.session() as session:
            (delivery,) = session.scalars(select(Delivery).where(Delivery.kind == "direct")).all()
            assert delivery.status == "queued"  # to be tried again, with backoff
            assert delivery.attempts == 1
            logged = session.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
            ).all()
            assert len(logged) == 1
            retry_at = delivery.next_attempt_at
        relay_back = NotifyConfig.from_settings(
            settings,  # type: ignore[arg-type]
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
        )
        assert notify.deliver_due(db, relay_back, now=retry_at).sent == 1
        (message,) = smtp_server.messages(email)
        assert "窓口のご予約" in str(message["subject"])
    finally:
        db.dispose()


class socket_closed:  # noqa: N801  (used as a context manager)
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        from tests.conftest import free_port

        return free_port()

    def __exit__(self, *_exc: object) -> None:
        return None
