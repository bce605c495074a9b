"""The notify pages through HTTP: the staff console, the public pages and the Atom feed."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.notify import service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, Notice
from tests.conftest import csrf_of, login
from tests.notify.conftest import Receiver

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_staff_page_needs_a_staff_login(client: TestClient, db: Database) -> None:
    answer = client.get("/staff/notify", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstaff%2Fnotify"
    # A form sent without a login comes back to the console, not to the address it posted to.
    posted = client.post("/staff/notify/notices", data={"topic": "x"}, follow_redirects=False)
    assert posted.status_code == 303
    assert posted.headers["location"] == "/login?next=%2Fstaff%2Fnotify"


def test_staff_send_a_notice_and_see_counts_failures_and_subscriptions(
    client: TestClient, db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    with db.session() as session:
        service.subscribe_email(session, "taro.yamada@example.jp", towns=["上連雀"])
        pending = service.subscribe_email(
            session, "jiro@example.jp", towns=["上連雀"], topics=["crime"]
        )
        service.confirm_subscription(session, pending.delivery.id)  # type: ignore[union-attr]
        user = session.get(User, admin.id)
        assert user is not None
        service.create_webhook(
            session, user, service.WebhookInput(url=receiver.url + "/hook", towns=["上連雀"]),
            allow_private=True,
        )  # fmt: skip
    login(client)
    page = client.get("/staff/notify")
    assert page.status_code == 200
    token = csrf_of(page.text)
    form = {
        "csrf_token": token, "topic": "crime", "towns": ["上連雀"], "other_towns": "",
        "title_ja": "特殊詐欺に注意", "body_ja": "市役所を名乗る電話に注意してください。", "url": "",
    }  # fmt: skip
    refused = client.post("/staff/notify/notices", data={**form, "csrf_token": "wrong"})
    assert refused.status_code == 403
    invalid = client.post("/staff/notify/notices", data={**form, "title_ja": "", "url": "mailto:x"})
    assert invalid.status_code == 422
    assert 'id="title_ja"' in invalid.text
    assert 'aria-invalid="true"' in invalid.text
    assert "必須です" in invalid.text
    sent = client.post("/staff/notify/notices", data=form, follow_redirects=False)
    assert sent.status_code == 303
    with db.session() as session:
        (notice,) = session.scalars(select(Notice))
        assert notice.created_by == "admin"
        assert {
            d.channel for d in session.scalars(select(Delivery).where(Delivery.kind == "notice"))
        } == {"email", "webhook"}
    # The e-mail's worker stops mid-send (unknown); the webhook answers 400 (failed).
    with db.session() as session:
        mail = session.scalars(
            select(Delivery).where(Delivery.kind == "notice", Delivery.channel == "email")
        ).one()
        service.claim_delivery(session, mail.id, utcnow())
        service.recover_interrupted(session, utcnow())
    receiver.answer(400)
    service.deliver_due(db, config, utcnow(), 10)
    page = client.get("/staff/notify")
    text = page.text
    assert "特殊詐欺に注意" in text
    assert "j***@example.jp" in text  # e-mail addresses are masked
    assert "jiro@example.jp" not in text
    assert "taro.yamada@example.jp" not in text
    assert "HTTP 400" in text  # the failure and its error
    assert "/staff/notify/deliveries/" in text
    # The failed webhook delivery can be sent again by staff.
    with db.session() as session:
        failed = session.scalars(select(Delivery).where(Delivery.status == "failed")).one()
    again = client.post(
        f"/staff/notify/deliveries/{failed.id}/requeue",
        data={"csrf_token": csrf_of(text)},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1


def test_staff_add_a_webhook_and_see_its_secret_once(
    client: TestClient, db: Database, admin: User
) -> None:
    login(client)
    token = csrf_of(client.get("/staff/notify").text)
    bad = client.post("/staff/notify/webhooks", data={"csrf_token": token, "url": "ftp://x"})
    assert bad.status_code == 422
    assert "http:// または https://" in bad.text
    made = client.post(
        "/staff/notify/webhooks",
        data={"csrf_token": token, "url": "https://hooks.example.jp/x", "topics": ["disaster"]},
    )
    assert made.status_code == 201
    assert "whsec_" in made.text
    assert "whsec_" not in client.get("/staff/notify").text


def test_public_pages_and_the_atom_feed(client: TestClient, db: Database) -> None:
    with db.session() as session:
        made = service.enqueue_notice(
            session,
            service.NoticeInput(
                topic="disaster", towns=["大沢"], title_ja="野川の水位上昇",
                body_ja="野川の水位が上がっています。", title_en="Nogawa river rising",
                body_en="The Nogawa river is rising.",
            ),
        )  # fmt: skip
    home = client.get("/notify")
    assert home.status_code == 200
    assert "野川の水位上昇" in home.text
    assert 'href="/notify/notices.atom"' in home.text
    page = client.get(f"/notify/notices/{made.id}")
    assert page.status_code == 200
    assert "対象地域: 大沢" in page.text
    assert "set-cookie" not in page.headers  # notice pages are cacheable
    assert "Nogawa river rising" in client.get(f"/notify/notices/{made.id}?lang=en").text
    assert client.get("/notify/notices/nope").status_code == 404
    feed = client.get("/notify/notices.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "野川の水位上昇 / Nogawa river rising"
    assert entry.findtext(f"{ATOM}id") == f"urn:uuid:{made.id}"
    assert client.get("/notify/subscribe").status_code == 200
    push = client.get("/notify/push")
    assert push.status_code == 200
    assert 'data-vapid-key="B' in push.text
    assert client.get("/static/js/notify-sw.js").status_code == 200
