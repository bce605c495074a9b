"""E-mail subscriptions end to end: the pages, a real SMTP server process, the links."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.db import Database, utcnow
from cityos.notify import service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Subscription
from tests.conftest import csrf_of
from tests.notify.conftest import SmtpServer

LINK = re.compile(r"http://testserver(/notify/(?:confirm|manage|unsubscribe)/[A-Za-z0-9_.\-]+)")


def new_address() -> str:
    return f"hanako.{uuid.uuid4().hex[:10]}@example.jp"


def subscribe(client: TestClient, email: str, **form: object) -> object:
    page = client.get("/notify/subscribe")
    assert page.status_code == 200
    data: dict[str, object] = {"email": email, "topics": ["disaster"], "language": "ja"}
    data.update(form)
    return client.post("/notify/subscribe", data={**data, "csrf_token": csrf_of(page.text)})


def links_in(message: EmailMessage) -> list[str]:
    body = message.get_body(("plain",))
    assert body is not None
    return LINK.findall(body.get_content())


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def notice(db: Database, towns: list[str], title: str = "不審者情報") -> None:
    with db.session() as session:
        service.enqueue_notice(
            session,
            service.NoticeInput(
                topic="crime", towns=towns, title_ja=title,
                body_ja="下連雀三丁目付近で不審者が目撃されました。", title_en="Suspicious person",
                body_en="A suspicious person was seen near Shimorenjaku 3-chome.",
            ),
        )  # fmt: skip


def test_subscribe_confirm_receive_and_unsubscribe_by_email(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = new_address()
    sent = subscribe(
        client, email, towns=["下連雀"], other_towns="のざき", topics=["disaster", "crime"]
    )
    assert sent.status_code == 200  # type: ignore[attr-defined]
    assert "確認メールを送りました" in sent.text  # type: ignore[attr-defined]

    (confirmation,) = smtp_server.messages(email)
    assert str(confirmation["Subject"]) == (
        "【三鷹市】メール配信の登録確認 / Please confirm your subscription"
    )
    (raw,) = smtp_server.raw_messages(email)
    assert raw.isascii()  # Japanese travels MIME-encoded (RFC 2047 headers, base64 body)
    assert b"=?utf-8?" in raw
    assert "登録を受け付けました" in text_of(confirmation)
    assert "地域: 下連雀、野崎" in text_of(confirmation)
    confirm_path, unsubscribe_path = links_in(confirmation)
    assert confirm_path.startswith("/notify/confirm/")
    assert unsubscribe_path.startswith("/notify/unsubscribe/")
    assert confirmation["List-Unsubscribe"] == f"<http://testserver{unsubscribe_path}>"

    notice(db, ["野崎"], "確認前のお知らせ")
    assert service.deliver_due(db, config, utcnow(), 10).claimed == 0  # pending: nothing yet

    page = client.get(confirm_path)
    assert page.status_code == 200
    done = client.post(confirm_path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    assert "登録が完了しました" in done.text

    notice(db, ["野崎一丁目"])
    notice(db, ["井口"], "井口のお知らせ")
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1
    _, news = smtp_server.messages(email)
    assert str(news["Subject"]) == "[三鷹市 防犯] 不審者情報"
    text = text_of(news)
    assert text.index("【日本語】") < text.index("[English]")
    assert "下連雀三丁目付近で不審者が目撃されました。" in text
    assert "対象地域: 野崎一丁目" in text
    assert "Area: Nozaki 1-chome" in text
    manage_path, unsubscribe_path = links_in(news)
    assert manage_path.startswith("/notify/manage/")
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert news["Message-ID"].endswith("@city.mitaka.example>")

    # A mail client's one-click unsubscribe (RFC 8058): no session, no form token.
    stop = TestClient(client.app).post(unsubscribe_path, data={"List-Unsubscribe": "One-Click"})
    assert stop.status_code == 200
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
        assert (row.status, row.address) == ("unsubscribed", "")
    notice(db, [])
    assert service.deliver_due(db, config, utcnow(), 10).claimed == 0
    assert len(smtp_server.messages(email)) == 2


def test_the_settings_link_changes_filters_and_language(
    client: TestClient, db: Database, config: NotifyConfig, smtp_server: SmtpServer
) -> None:
    email = new_address()
    subscribe(client, email, towns=["井口"], topics=["crime"])
    (confirmation,) = smtp_server.messages(email)
    confirm_path = links_in(confirmation)[0]
    client.post(confirm_path, data={"csrf_token": csrf_of(client.get(confirm_path).text)})
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
    manage_path = "/notify/manage/" + service_token(config, row.id)
    page = client.get(manage_path)
    assert page.status_code == 200
    assert email in page.text
    bad = client.post(
        manage_path,
        data={"csrf_token": csrf_of(page.text), "other_towns": "吉祥寺", "topics": ["crime"]},
    )
    assert bad.status_code == 422
    assert "三鷹市の町名ではありません: 吉祥寺" in bad.text
    assert 'aria-invalid="true"' in bad.text
    saved = client.post(
        manage_path,
        data={
            "csrf_token": csrf_of(page.text), "towns": ["下連雀"], "other_towns": "",
            "topics": ["crime"], "language": "en",
        },
    )  # fmt: skip
    assert saved.status_code == 200
    assert "保存しました" in saved.text
    notice(db, ["下連雀三丁目"])
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1
    news = smtp_server.messages(email)[-1]
    assert str(news["Subject"]) == "[Mitaka City Crime prevention] Suspicious person"
    text = text_of(news)
    assert text.index("[English]") < text.index("【日本語】")


def service_token(config: NotifyConfig, subscription_id: str) -> str:
    from cityos.notify import links

    return links.manage_token(config.secret_key, subscription_id)


def test_bad_input_gets_a_clear_answer_and_writes_nothing(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    answer = client.post(
        "/api/notify/email/subscriptions",
        json={"email": "not-an-address", "towns": ["新宿"], "topics": ["天気"]},
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem["errors"]) == {"email", "towns", "topics"}
    assert "メールアドレスの形式" in problem["errors"]["email"][0]
    page = subscribe(client, "hanako@", other_towns="吉祥寺")
    assert page.status_code == 422  # type: ignore[attr-defined]
    assert "メールアドレスの形式が正しくありません" in page.text  # type: ignore[attr-defined]
    assert 'value="hanako@"' in page.text  # type: ignore[attr-defined]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert client.post("/notify/subscribe", data={"email": new_address()}).status_code == 403


def test_a_typed_address_cannot_change_someone_elses_subscription(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    email = new_address()
    api = "/api/notify/email/subscriptions"
    assert client.post(api, json={"email": email, "towns": ["大沢"]}).status_code == 202
    confirm_path = links_in(smtp_server.messages(email)[0])[0]
    client.post(confirm_path, data={"csrf_token": csrf_of(client.get(confirm_path).text)})
    # Someone else types the same address with other filters, an hour later and again.
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
        row.confirmation_sent_at = utcnow() - timedelta(hours=1)
    assert client.post(api, json={"email": email.upper(), "towns": ["牟礼"]}).status_code == 202
    assert client.post(api, json={"email": email, "towns": ["中原"]}).status_code == 202
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
        assert (row.status, row.towns, row.address) == ("active", ["大沢"], email)
    # At most one confirmation per address every few minutes: no mail bombing.
    assert len(smtp_server.messages(email)) == 2
    # The owner opens the new confirmation: now the new filters apply.
    new_confirm = links_in(smtp_server.messages(email)[1])[0]
    client.post(new_confirm, data={"csrf_token": csrf_of(client.get(new_confirm).text)})
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
        assert row.towns == ["牟礼"]


def test_a_forged_or_broken_link_is_refused(client: TestClient) -> None:
    for path in ("/notify/confirm/abc.def", "/notify/manage/abc", "/notify/unsubscribe/x.y"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "リンクが無効です" in answer.text
