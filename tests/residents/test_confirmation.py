"""Confirming a resident's e-mail address through HTTP, the notify queue and a real SMTP
server, on SQLite and PostgreSQL: the link after sign-up, the my-page banner and its resend
button, expired and tampered links, and a changed address that waits for its own link."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from cityos.db import Database, utcnow
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from cityos.residents import service
from cityos.residents.models import Resident
from tests.conftest import csrf_of
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import (
    CONFIRM_SUBJECT,
    PASSWORD,
    confirm_by_email,
    confirmation_link,
    log_in,
    sign_up,
)

BANNER = "メールアドレスを確認してください"


def unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.jp"  # one SMTP server for the whole run


def account(db: Database, email: str) -> Resident:
    with db.session() as session:
        found = session.scalars(select(Resident).where(Resident.email == email)).one()
        session.expunge(found)
        return found


def resend(client: TestClient) -> object:
    token = csrf_of(client.get("/my").text)
    return client.post("/my/email/confirm", data={"csrf_token": token}, follow_redirects=False)


def test_after_sign_up_the_emailed_link_confirms_the_address(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = unique("hanako")
    assert sign_up(client, email).status_code == 303
    my = client.get("/my").text
    assert BANNER in my
    assert "確認メールを送り直す" in my
    english = client.get("/my?lang=en").text
    client.cookies.delete("lang")
    assert "Please confirm your e-mail address" in english
    assert "Send the e-mail again" in english
    assert account(db, email).email_confirmed_at is None

    assert notify.deliver_due(db, mail_settings).sent == 1  # through the notify queue
    [message] = smtp_server.messages(email)
    assert CONFIRM_SUBJECT in str(message["subject"])
    assert "Please confirm your e-mail address" in str(message["subject"])
    body = message.get_content()
    assert body.index("【日本語】") < body.index("[English]")
    assert "3日間有効" in body
    assert "配信停止 / Unsubscribe" in body
    link = confirmation_link(message)

    with TestClient(client.app) as elsewhere:  # type: ignore[arg-type]
        opened = elsewhere.get(link)  # e.g. on another phone, not logged in
    assert opened.status_code == 200
    assert "メールアドレスを確認しました" in opened.text
    assert account(db, email).email_confirmed_at is not None
    confirmed_page = client.get("/my").text
    assert "マイページ" in confirmed_page
    assert BANNER not in confirmed_page
    assert client.get(link).status_code == 200  # opened twice: still fine
    again = resend(client)
    assert again.status_code == 409  # nothing left to confirm
    assert "確認済み" in again.text


def test_expired_tampered_and_orphaned_links_get_a_clear_page(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = unique("late")
    assert sign_up(client, email).status_code == 303
    notify.deliver_due(db, mail_settings)
    link = confirmation_link(smtp_server.take(email, CONFIRM_SUBJECT))

    tampered = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400
    assert "確認リンクが正しくありません" in tampered.text
    assert "this confirmation link is not valid" in tampered.text
    assert client.get("/residents/confirm/not-a-token").status_code == 400

    class FourDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 4 * 86400

    resident = account(db, email)
    secret = client.app.state.settings.resolved_secret_key  # type: ignore[attr-defined]
    old = URLSafeTimedSerializer(secret, salt=service.CONFIRM_SALT, signer=FourDaysAgo).dumps(
        [resident.id, email]
    )
    expired = client.get(f"/residents/confirm/{old}")
    assert expired.status_code == 400
    assert "有効期限が切れています" in expired.text
    assert "has expired" in expired.text
    assert account(db, email).email_confirmed_at is None

    gone = URLSafeTimedSerializer(secret, salt=service.CONFIRM_SALT).dumps([10**6, email])
    orphan = client.get(f"/residents/confirm/{gone}")
    assert orphan.status_code == 400
    assert "見つかりません" in orphan.text
    assert client.get(link).status_code == 200  # the real one still works


def test_resending_is_rate_limited_per_account(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = unique("again")
    assert sign_up(client, email).status_code == 303
    too_soon = resend(client)
    assert too_soon.status_code == 429
    assert "秒後にもう一度お試しください" in too_soon.text
    assert BANNER in too_soon.text  # still the my page, with the message in the banner
    with db.session() as session:  # two and a half minutes pass
        session.execute(
            update(Resident)
            .where(Resident.email == email)
            .values(confirmation_sent_at=utcnow() - timedelta(seconds=150))
        )
    sent = resend(client)
    assert sent.status_code == 303
    assert "確認メールを " + email + " に送りました" in client.get(sent.headers["location"]).text
    assert notify.deliver_due(db, mail_settings).sent == 2  # the first and the one asked again
    assert len(smtp_server.messages(email)) == 2


def test_a_new_address_waits_for_its_own_link_and_the_old_stays_in_use(
    client: TestClient, db: Database, mail_settings: NotifyConfig, smtp_server: SmtpServer
) -> None:
    old, new = unique("old"), unique("new")
    assert sign_up(client, old).status_code == 303
    confirm_by_email(client, db, mail_settings, smtp_server, old)

    def change(email: str, password: str = PASSWORD) -> object:
        token = csrf_of(client.get("/my/profile").text)
        data = {"email": email, "password": password, "csrf_token": token}
        return client.post("/my/email", data=data, follow_redirects=False)

    wrong = change(new, "not-my-password")
    assert wrong.status_code == 422
    assert 'id="password-error"' in wrong.text
    assert change("not an address").status_code == 422
    with TestClient(client.app) as other:  # type: ignore[arg-type]
        taken = unique("taken")
        assert sign_up(other, taken).status_code == 303
    refused = change(taken)
    assert refused.status_code == 409
    assert "別のアカウントで使われています" in refused.text

    asked = change(new)
    assert asked.status_code == 303
    profile = client.get(asked.headers["location"]).text
    assert "新しいアドレスに確認メールを送りました" in profile
    assert new in profile
    assert "新しいメールアドレスを確認してください" in client.get("/my").text
    resident = account(db, old)
    assert (resident.email, resident.pending_email) == (old, new)
    assert resident.email_confirmed_at is not None  # the old address keeps getting e-mails
    assert log_in(client, old).status_code == 303

    notify.deliver_due(db, mail_settings)
    link = confirmation_link(smtp_server.take(new, CONFIRM_SUBJECT))
    assert smtp_server.messages(old) == []  # the link goes to the new address only
    # Changing again before confirming: the first link no longer applies.
    newer = unique("newer")
    assert change(newer).status_code == 303
    stale = client.get(link)
    assert stale.status_code == 400
    assert "古くなっています" in stale.text
    notify.deliver_due(db, mail_settings)
    assert (
        client.get(confirmation_link(smtp_server.take(newer, CONFIRM_SUBJECT))).status_code == 200
    )
    resident = account(db, newer)
    assert resident.pending_email == ""
    assert log_in(client, newer).status_code == 303
    assert log_in(client, old).status_code == 401


def test_no_application_email_goes_to_an_unconfirmed_address(
    client: TestClient, db: Database, admin: object, app: object,
    mail_settings: NotifyConfig, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    from tests.forms.conftest import file_form, resident_with_profile
    from tests.forms.test_resubmit import move, stored

    email = unique("applicant")
    resident_with_profile(client, email)
    notify.deliver_due(db, mail_settings)
    link = confirmation_link(smtp_server.take(email, CONFIRM_SUBJECT))
    assert file_form(client).status_code == 303
    submission_id = stored(db).id
    move(app, submission_id, "reviewing", "確認します")
    assert notify.deliver_due(db, mail_settings).sent == 0  # unconfirmed: my page only
    assert smtp_server.messages(email) == []
    assert "審査中" in client.get(f"/my/applications/{submission_id}").text

    assert client.get(link).status_code == 200
    move(app, submission_id, "done")
    assert notify.deliver_due(db, mail_settings).sent == 1
    [message] = smtp_server.messages(email)
    assert "完了" in str(message["subject"])
