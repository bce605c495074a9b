"""The JSON API: notices, webhooks (API tokens), Web Push subscriptions, reference lists."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.core import auth
from cityos.db import Database
from cityos.notify.models import Delivery, Notice, Subscription
from tests.notify.conftest import new_browser


def count(db: Database, table: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def analyst_headers(db: Database) -> dict[str, str]:
    with db.session() as session:
        user = auth.create_user(session, "dev.kato", "analyst", "developer-password")
        return {"Authorization": auth.issue_token(session, user, "tests")}


def test_a_developer_registers_lists_and_removes_a_webhook(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    developer = analyst_headers(db)
    made = client.post(
        "/api/notify/webhooks",
        json={"url": "https://hooks.example.jp/cityos", "towns": ["ｼﾓﾚﾝｼﾞｬｸ"], "label": "町内会"},
        headers=developer,
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_")
    assert hook["towns"] == ["下連雀"]
    assert hook["topics"] == ["disaster", "crime", "environment", "city"]
    listed = client.get("/api/notify/webhooks", headers=developer).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert listed[0]["secret"] is None  # shown once only
    # Staff see every webhook; another developer sees none of this one.
    assert len(client.get("/api/notify/webhooks", headers=auth_headers).json()) == 1
    assert client.delete(f"/api/notify/webhooks/{hook['id']}", headers=developer).status_code == 204
    assert client.get(f"/api/notify/webhooks/{hook['id']}", headers=developer).status_code == 404
    assert client.get("/api/notify/webhooks", headers=developer).json() == []


def test_webhooks_need_a_token_and_a_proper_url(client: TestClient, db: Database) -> None:
    body = {"url": "https://hooks.example.jp/"}
    assert client.post("/api/notify/webhooks", json=body).status_code == 401
    bad_token = {"Authorization": "cityos_wrong"}
    assert client.post("/api/notify/webhooks", json=body, headers=bad_token).status_code == 401
    developer = analyst_headers(db)
    for url in ("ftp://hooks.example.jp/", "javascript:alert(1)", "hooks.example.jp", "http://"):
        answer = client.post("/api/notify/webhooks", json={"url": url}, headers=developer)
        assert answer.status_code == 422, url
        assert answer.headers["content-type"] == "application/problem+json"
        assert "http:// または https://" in answer.json()["errors"]["url"][0]
    short = client.post("/api/notify/webhooks", json={**body, "secret": "short"}, headers=developer)
    assert short.status_code == 422
    assert "secret" in short.json()["errors"]
    assert count(db, Subscription) == 0


def test_staff_send_a_notice_through_the_api(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    developer = analyst_headers(db)
    client.post(
        "/api/notify/webhooks", json={"url": "https://a.example.jp/", "towns": ["北野"]},
        headers=developer,
    )  # fmt: skip
    client.post(
        "/api/notify/webhooks", json={"url": "https://b.example.jp/", "towns": ["新川"]},
        headers=developer,
    )  # fmt: skip
    body = {
        "topic": "環境",
        "towns": ["北野二丁目"],
        "title_ja": "光化学スモッグ注意報",
        "body_ja": "屋外での運動は控えてください。",
        "title_easy": "ひかりかがく すもっぐ",
        "body_easy": "そとで うんどう しないで ください。",
    }
    assert client.post("/api/notify/notices", json=body).status_code == 401
    assert client.post("/api/notify/notices", json=body, headers=developer).status_code == 403
    sent = client.post("/api/notify/notices", json=body, headers=auth_headers)
    assert sent.status_code == 201, sent.text
    notice = sent.json()
    assert notice["topic"] == "environment"
    assert notice["towns"] == ["北野二丁目"]
    assert notice["title"] == {"ja": "光化学スモッグ注意報", "easy": "ひかりかがく すもっぐ"}
    assert notice["deliveries"] == {"webhook": {"queued": 1}}
    public = client.get("/api/notify/notices").json()
    assert [n["id"] for n in public] == [notice["id"]]
    assert client.get(f"/api/notify/notices/{notice['id']}").json()["page"].endswith(notice["id"])
    assert client.get("/api/notify/notices/nope").status_code == 404


def test_bad_notices_are_refused_and_nothing_is_queued(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    base = {"topic": "防災", "title_ja": "題", "body_ja": "本文"}
    cases = [
        ({"towns": ["新宿"]}, "towns"),
        ({"body_ja": "長" * 5001}, "body_ja"),
        ({"topic": "天気"}, "topic"),
        ({"url": "file:///etc/passwd"}, "url"),
    ]
    for change, field in cases:
        answer = client.post("/api/notify/notices", json={**base, **change}, headers=auth_headers)
        assert answer.status_code == 422, change
        assert field in str(answer.json().get("errors", answer.json())), change
    assert (
        client.post(
            "/api/notify/notices", json={**base, "extra": 1}, headers=auth_headers
        ).status_code
        == 422
    )
    assert (count(db, Notice), count(db, Delivery)) == (0, 0)


def test_a_translation_given_as_title_or_body_alone_still_makes_a_whole_message(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    base = {
        "topic": "disaster",
        "title_ja": "避難所を開設しました",
        "body_ja": "大沢の避難所を開設。",
    }
    title_only = client.post(
        "/api/notify/notices",
        json={**base, "title_en": "Shelters are open"},
        headers=auth_headers,
    )
    assert title_only.status_code == 201, title_only.text
    assert title_only.json()["title"]["en"] == "Shelters are open"
    assert title_only.json()["body"]["en"] == "Shelters are open"
    long_line = "The shelter at Osawa community centre is open for everyone who needs it now"
    body_only = client.post(
        "/api/notify/notices",
        json={
            **base,
            "body_easy": "ひなんじょを あけました。\nきて ください。",
            "body_en": long_line,
        },
        headers=auth_headers,
    )
    assert body_only.status_code == 201, body_only.text
    assert body_only.json()["title"]["easy"] == "ひなんじょを あけました。"
    assert body_only.json()["title"]["en"] == long_line[:59] + "…"
    assert body_only.json()["body"]["en"] == long_line


def test_a_browser_subscribes_to_push_and_manages_it(client: TestClient, db: Database) -> None:
    key = client.get("/api/notify/webpush/key").json()["public_key"]
    assert len(key) == 87  # base64url of a 65-byte P-256 point
    browser = new_browser("http://127.0.0.1:9/push/v1/abc")
    body = {"subscription": browser.subscription(), "towns": ["井ノ頭"], "topics": ["防災", "防犯"]}
    saved = client.post("/api/notify/webpush/subscriptions", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"towns": ["井の頭"], "topics": ["disaster", "crime"], "language": "ja"}
    lookup = {
        "endpoint": browser.endpoint,
        "keys": {"auth": browser.subscription()["keys"]["auth"]},
    }
    assert client.post("/api/notify/webpush/status", json=lookup).json()["towns"] == ["井の頭"]
    # Another browser cannot read or take over this subscription.
    other = new_browser(browser.endpoint)
    stolen = {"subscription": other.subscription(), "towns": []}
    assert client.post("/api/notify/webpush/subscriptions", json=stolen).status_code == 403
    wrong = {"endpoint": browser.endpoint, "keys": {"auth": other.subscription()["keys"]["auth"]}}
    assert client.post("/api/notify/webpush/status", json=wrong).status_code == 404
    assert client.post("/api/notify/webpush/unsubscribe", json=lookup).status_code == 204
    assert client.post("/api/notify/webpush/status", json=lookup).status_code == 404
    with db.session() as session:
        (row,) = session.scalars(select(Subscription))
        assert (row.status, row.address, row.keys) == ("unsubscribed", "", {})


def test_push_subscriptions_with_bad_keys_are_refused(client: TestClient, db: Database) -> None:
    body = {
        "subscription": {"endpoint": "gopher://x/", "keys": {"p256dh": "abc", "auth": "abc"}},
        "towns": ["吉祥寺"],
    }
    answer = client.post("/api/notify/webpush/subscriptions", json=body)
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"endpoint", "keys.p256dh", "keys.auth", "towns"}
    assert count(db, Subscription) == 0


def test_reference_lists(client: TestClient) -> None:
    towns = client.get("/api/notify/towns").json()
    assert len(towns) == 11
    assert towns[0] == {
        "name": "井口", "kana": "いぐち", "en": "Iguchi",
        "chome": ["井口一丁目", "井口二丁目", "井口三丁目", "井口四丁目", "井口五丁目"],
    }  # fmt: skip
    topics = client.get("/api/notify/topics").json()
    assert [t["ja"] for t in topics][:3] == ["防災", "防犯", "環境"]
