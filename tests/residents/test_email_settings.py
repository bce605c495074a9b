"""Which e-mails a resident receives, chosen on their own page: a kind stopped with the link in
an e-mail (or every kind) is turned back on there, for the confirmed address only. Real HTTP,
the notify queue and a real SMTP server process, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.db import Database
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from cityos.notify.kinds import DIRECT_KINDS
from cityos.notify.models import Subscription
from tests.conftest import csrf_of
from tests.notify.conftest import SmtpServer
from tests.notify.test_direct_kinds import application_update, report_update
from tests.residents.conftest import confirm_by_email, sign_up

SITE = "http://testserver"
PAGE = "/my/email-settings"
EVERY_KIND = set(DIRECT_KINDS)


def unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.jp"  # one SMTP server for the whole run


def confirmed_resident(
    client: TestClient, db: Database, config: NotifyConfig, smtp: SmtpServer
) -> str:
    email = unique("hanako")
    assert sign_up(client, email).status_code == 303
    confirm_by_email(client, db, config, smtp, email)
    return email


def unsubscribe_path(message: EmailMessage) -> str:
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"{SITE}/notify/unsubscribe/")
    return link.removeprefix(SITE)


def use_link(client: TestClient, path: str, **extra: str) -> str:
    """Open an e-mail's unsubscribe link and press the page's button."""
    page = client.get(path)
    done = client.post(path, data={"csrf_token": csrf_of(page.text), **extra})
    assert done.status_code == 200, done.text
    return done.text


def boxes(html: str) -> dict[str, bool]:
    """Kind → whether its checkbox is ticked, for every checkbox on the page."""
    found = re.findall(
        r'<input type="checkbox" id="kind-(\w+)" name="kind" value="\w+"( checked)?', html
    )
    return {kind: bool(ticked) for kind, ticked in found}


def save(client: TestClient, kinds: set[str], token: str | None = None) -> object:
    data: dict[str, object] = {"kind": sorted(kinds)}
    data["csrf_token"] = token if token is not None else csrf_of(client.get(PAGE).text)
    return client.post(PAGE, data=data, follow_redirects=False)


def direct_rows(db: Database, email: str) -> dict[str, tuple[str, str]]:
    """address key → (status, address) of the address's direct subscriptions."""
    key = notify.address_key("email", email)
    with db.session() as session:
        rows = session.scalars(
            select(Subscription).where(Subscription.address_key.like(f"direct-%{key}"))
        ).all()
        return {str(r.address_key): (r.status, r.address) for r in rows}


def test_report_updates_stopped_with_a_link_are_turned_back_on_from_my_page(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = confirmed_resident(client, db, mail_settings, smtp_server)
    assert report_update(db, email, 501) == 1
    assert notify.deliver_due(db, mail_settings).sent == 1
    update = smtp_server.take(email, "ご報告 501 番")

    # The link stops report updates; the page after it says how to turn them back on.
    stopped = use_link(client, unsubscribe_path(update))
    assert "「ご報告の状況のお知らせメール」はもう届きません" in stopped
    assert "また受け取るには" in stopped
    assert 'href="/my/email-settings"' in stopped
    assert 'href="/residents/signup"' in stopped  # confirmation links still reach the address
    assert report_update(db, email, 501, "完了") == 0

    my = client.get("/my").text
    assert "メールの受け取り" in my
    assert 'href="/my/email-settings"' in my
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "<fieldset" in page.text
    assert "<legend>受け取るメール</legend>" in page.text
    assert '<label for="kind-reports">' in page.text
    assert email in page.text
    ticked = boxes(page.text)
    assert ticked == {kind: kind != "reports" for kind in DIRECT_KINDS}
    english = client.get(PAGE + "?lang=en").text
    client.cookies.delete("lang")
    assert "E-mails you receive" in english
    assert "updates on your reports" in english

    saved = save(client, EVERY_KIND)
    assert saved.status_code == 303  # type: ignore[attr-defined]
    after = client.get(saved.headers["location"]).text  # type: ignore[attr-defined]
    assert 'role="status"' in after
    assert "保存しました" in after
    assert boxes(after) == dict.fromkeys(DIRECT_KINDS, True)

    # The next report update is queued and sent again.
    assert report_update(db, email, 501, "完了") == 1
    assert notify.deliver_due(db, mail_settings).sent == 1
    assert "完了" in str(smtp_server.take(email, "ご報告 501 番")["subject"])


def test_after_stop_all_only_the_kind_turned_on_flows(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = confirmed_resident(client, db, mail_settings, smtp_server)
    assert application_update(db, email, 31) is True
    assert notify.deliver_due(db, mail_settings).sent == 1
    path = unsubscribe_path(smtp_server.take(email, "申請 31 番"))
    stopped = use_link(client, path, scope="all")
    assert "もう届きません" in stopped
    assert 'href="/my/email-settings"' in stopped
    # Confirmation links are stopped too: signing up anew would not help; the city can.
    assert 'href="/residents/signup"' not in stopped
    assert "三鷹市にお問い合わせください" in stopped

    assert boxes(client.get(PAGE).text) == dict.fromkeys(DIRECT_KINDS, False)
    assert save(client, {"reports"}).status_code == 303  # type: ignore[attr-defined]
    assert boxes(client.get(PAGE).text) == {kind: kind == "reports" for kind in DIRECT_KINDS}

    # The stop for every kind is lifted (kept, back to receiving); the others stay stopped.
    key = notify.address_key("email", email)
    rows = direct_rows(db, email)
    assert rows[f"direct-{key}"] == (notify.DIRECT_STATUS, "")
    assert rows[f"direct-reports-{key}"] == (notify.DIRECT_STATUS, email)
    for kind in EVERY_KIND - {"reports"}:
        assert rows[f"direct-{kind}-{key}"] == ("unsubscribed", "")

    assert report_update(db, email, 502) == 1
    assert application_update(db, email, 31) is False
    with db.session() as session:
        for kind in EVERY_KIND - {"reports"}:
            assert notify.queue_direct_email(session, email, "件名", "本文", kind=kind) is None
    assert notify.deliver_due(db, mail_settings).sent == 1
    smtp_server.take(email, "ご報告 502 番")
    assert smtp_server.messages(email) == []  # nothing of any other kind

    # The old link still stops everything again.
    use_link(client, path, scope="all")
    assert report_update(db, email, 502, "完了") == 0


def test_an_unconfirmed_resident_is_asked_to_confirm_first(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = unique("jiro")
    assert sign_up(client, email).status_code == 303
    my = client.get("/my").text
    assert "受け取るメールを選ぶには、先にメールアドレスを確認してください" in my
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "先にメールアドレスを確認してください" in page.text
    assert 'href="/my#email-confirm"' in page.text
    assert boxes(page.text) == {}

    refused = save(client, {"reports"}, token=csrf_of(my))  # a page without the form
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "先にメールアドレスを確認してください" in refused.text  # type: ignore[attr-defined]
    assert "confirm your e-mail address first" in refused.text  # type: ignore[attr-defined]
    key = notify.address_key("email", email)
    assert set(direct_rows(db, email)) == {f"direct-confirmation-{key}"}  # from the sign-up


def test_a_bad_save_changes_nothing(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = confirmed_resident(client, db, mail_settings, smtp_server)
    before = direct_rows(db, email)

    unknown = save(client, {"reports", "spam"})
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    assert "メールの種類が正しくありません: spam" in unknown.text  # type: ignore[attr-defined]
    assert 'role="alert"' in unknown.text  # type: ignore[attr-defined]

    # Without the form's token (a page elsewhere posting to it), nothing is stopped.
    forged = save(client, set(), token="")
    assert forged.status_code == 403  # type: ignore[attr-defined]
    assert "CSRF" in forged.text  # type: ignore[attr-defined]

    assert direct_rows(db, email) == before
    assert boxes(client.get(PAGE).text) == dict.fromkeys(DIRECT_KINDS, True)
    assert report_update(db, email, 503) == 1

    # Not signed in: the login page, not the settings.
    with TestClient(client.app) as stranger:  # type: ignore[arg-type]
        answer = stranger.get(PAGE, follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "/residents/login" in answer.headers["location"]
