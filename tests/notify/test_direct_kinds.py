"""Direct e-mail (to one address) is stopped per kind: the link in a report update stops
report updates only; the page's second button stops every kind; an address stopped before
kinds existed stays stopped for all of them. Real HTTP, a real SMTP server process."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.events import ApplicationStatusChanged, ReportStatusChanged
from cityos.core.text import TOKYO
from cityos.db import Database
from cityos.notify import links, service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, Subscription
from cityos.reservations import service as reservations
from cityos.reservations.models import Booking
from cityos.residents import service as residents
from cityos.residents.models import Resident
from tests.conftest import csrf_of, login
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import PASSWORD
from tests.test_cli import cityos, env_for

SECRET = "direct-kinds-test-secret"
SITE = "https://city.example"


def new_address() -> str:  # one SMTP server for the whole run: an address of this test alone
    return f"hanako.{uuid.uuid4().hex[:10]}@example.jp"


def report_update(db: Database, email: str, number: int, state: str = "対応中") -> int:
    event = ReportStatusChanged(
        request_id=number, service_ja="道路の損傷", service_en="Road damage",
        from_state="open", to_state="in_progress", state_ja=state, state_en="In progress",
        note="", url=f"{SITE}/reports/{number}", recipients=(email,),
    )  # fmt: skip
    return len(service.on_report_status_changed(db, event))


def application_update(db: Database, email: str, number: int) -> bool:
    event = ApplicationStatusChanged(
        submission_id=number, form_ja="転入届", form_en="Moving-in notice",
        from_status="submitted", to_status="reviewing", status_ja="審査中",
        status_en="Under review", comment="", url=f"{SITE}/my/applications/{number}",
        email=email,
    )  # fmt: skip
    return service.on_application_status_changed(db, event) is not None


def booked_for_tomorrow(db: Database, email: str) -> None:
    """A resident with a confirmed address and a counter booking tomorrow at ten."""
    at_ten = datetime.combine(datetime.now(TOKYO).date() + timedelta(days=1), time(10), TOKYO)
    with db.session() as session:
        resident: Resident = residents.sign_up(session, email, PASSWORD)
        token = residents.confirmation_token(SECRET, resident, email)
        resident = residents.confirm_email(session, SECRET, token)
        session.flush()
        session.add(
            Booking(counter_id="kosodate", resident_id=resident.id, slot_start=at_ten, seat=1)
        )


def unsubscribe_path(message: EmailMessage) -> str:
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith("http://testserver/notify/unsubscribe/")
    return link.removeprefix("http://testserver")


def test_the_link_in_a_report_update_stops_report_updates_only(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = new_address()
    assert report_update(db, email, 101) == 1
    assert service.deliver_due(db, config).sent == 1
    (update,) = smtp_server.messages(email)
    body = update.get_content()
    assert "配信停止 / Unsubscribe" in body
    assert "このリンクで止まるのは「ご報告の状況のお知らせメール」だけです" in body
    assert "This link stops updates on your reports only" in body

    # The page names the kind in both languages and offers to stop every kind.
    path = unsubscribe_path(update)
    page = client.get(path)
    assert page.status_code == 200
    assert "ご報告の状況のお知らせメール" in page.text
    assert "updates on your reports" in page.text
    assert "「ご報告の状況のお知らせメール」を止める" in page.text
    assert "このアドレスへの市からのメールをすべて止める" in page.text
    assert "窓口のご予約の前日のお知らせメール" in page.text  # still sent: named as such
    stopped = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert stopped.status_code == 200
    assert "「ご報告の状況のお知らせメール」はもう届きません" in stopped.text

    # The next report update is not even queued ...
    assert report_update(db, email, 101, "完了") == 0
    # ... but tomorrow's reservation reminder and an application update are, and sent.
    booked_for_tomorrow(db, email)
    assert reservations.queue_reminders(db, SITE).queued == 1
    assert application_update(db, email, 7) is True
    assert service.deliver_due(db, config).sent == 2
    messages = smtp_server.messages(email)
    assert len(messages) == 3
    subjects = [str(m["subject"]) for m in messages[1:]]
    assert any("窓口のご予約" in s for s in subjects)
    assert any("申請 7 番" in s for s in subjects)
    assert not any("完了" in str(m["subject"]) for m in messages)

    # The same link, opened again, says report updates are stopped and still offers the rest.
    again = client.get(path)
    assert "「ご報告の状況のお知らせメール」は、すでに止まっています" in again.text
    assert "このアドレスへの市からのメールをすべて止める" in again.text


def test_stop_all_stops_every_kind_and_cancels_what_was_queued(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer,
    admin: object, database_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    email = new_address()
    assert application_update(db, email, 8) is True
    assert service.deliver_due(db, config).sent == 1
    (first,) = smtp_server.messages(email)
    assert "申請 8 番" in str(first["subject"])
    assert report_update(db, email, 202) == 1  # queued, not sent yet

    path = unsubscribe_path(first)
    page = client.get(path)
    assert "電子申請の状況のお知らせメール" in page.text
    assert "updates on your online applications" in page.text
    done = client.post(path, data={"csrf_token": csrf_of(page.text), "scope": "all"})
    assert done.status_code == 200
    assert "もう届きません" in done.text
    assert "ご報告の状況のお知らせメール" in done.text

    with db.session() as session:
        cancelled = session.scalars(select(Delivery).where(Delivery.status == "cancelled")).all()
        assert len(cancelled) == 1  # the report update queued before the click
    assert report_update(db, email, 202, "完了") == 0
    assert application_update(db, email, 8) is False
    booked_for_tomorrow(db, email)
    assert reservations.queue_reminders(db, SITE).stopped == 1
    with db.session() as session:
        ja = service.queue_direct_email(session, email, "件名", "本文", kind="notices")
        assert ja is None
        confirmation = service.queue_direct_email(
            session, email, "確認", "本文", kind="confirmation"
        )
        assert confirmation is None
    assert service.deliver_due(db, config).claimed == 0
    assert len(smtp_server.messages(email)) == 1

    # The link in any of its e-mails now says everything is stopped.
    assert "すでにすべて止まっています" in client.get(path).text

    # Staff see it counted by kind, apart from notice subscriptions.
    with db.session() as session:
        summary = service.subscription_summary(session)
    assert summary.direct["all"]["stopped"] == 1
    assert summary.direct["applications"]["stopped"] == 1
    assert summary.direct["reports"]["stopped"] == 1
    assert summary.by_channel["email"]["unsubscribed"] == 0
    login(client)
    staff = client.get("/staff/notify")
    assert staff.status_code == 200
    assert "個別メール（1つのアドレスあて）の種類ごと" in staff.text
    env = env_for(database_url, tmp_path / "data")
    status = cityos(env, "notify", "status")
    assert status.returncode == 0, status.stderr
    assert "applications" in status.stdout
    assert "stopped" in status.stdout

    # Asked by phone, staff turn reservation reminders back on (only them) from the command line.
    shown = cityos(env, "notify", "direct-email", email)
    assert shown.returncode == 0, shown.stderr
    assert "reservations │ no" in shown.stdout
    resumed = cityos(env, "notify", "direct-email", email, "--receive", "reservations")
    assert resumed.returncode == 0, resumed.stderr
    assert "reservations │ yes" in resumed.stdout
    assert "reports      │ no" in resumed.stdout
    with db.session() as session:
        assert service.direct_preferences(session, email)["reservations"] is True
        assert service.queue_direct_email(session, email, "件名", "本文", kind="reports") is None
        reminder = service.queue_direct_email(session, email, "明日", "本文", kind="reservations")
        assert reminder is not None
    wrong = cityos(env, "notify", "direct-email", email, "--receive", "spam")
    assert wrong.returncode == 2
    assert "unknown kind of e-mail: spam" in wrong.stderr


def legacy_direct(db: Database, email: str, address: str, status: str) -> str:
    """The single direct subscription of versions before kinds existed; its id."""
    with db.session() as session:
        legacy = Subscription(
            channel="email", address_key="direct-" + service.address_key("email", email),
            address=address, status=status, topics=[], towns=[],
        )  # fmt: skip
        session.add(legacy)
        session.flush()
        return legacy.id


def test_an_address_unsubscribed_before_kinds_existed_gets_nothing_of_any_kind(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = new_address()
    # What the single direct subscription of earlier versions left after its link was used.
    legacy_direct(db, email, "", "unsubscribed")
    assert report_update(db, email, 303) == 0
    assert application_update(db, email, 9) is False
    booked_for_tomorrow(db, email)
    assert reservations.queue_reminders(db, SITE).stopped == 1
    with db.session() as session:
        for kind in service.DIRECT_KINDS:
            assert service.queue_direct_email(session, email, "件名", "本文", kind=kind) is None
        assert session.scalars(select(Delivery)).all() == []
    assert smtp_server.messages(email) == []


def test_a_link_in_an_email_sent_before_kinds_existed_stops_every_kind(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = new_address()
    legacy_id = legacy_direct(db, email, email, service.DIRECT_STATUS)
    assert report_update(db, email, 404) == 1  # on the report kind's own subscription
    path = links.unsubscribe_url("", config.secret_key, legacy_id)
    page = client.get(path)
    assert "市からこのアドレスあての個別のメールすべて" in page.text
    assert "every e-mail the city writes to this address alone" in page.text
    # A mail client's one-click POST on the old link: it stopped everything then, and does now.
    assert (
        TestClient(client.app).post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    )
    assert service.deliver_due(db, config).claimed == 0
    assert application_update(db, email, 10) is False
    assert smtp_server.messages(email) == []
