"""The LINE webhook: signature check, follow/unfollow, text commands and their replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.db import Database
from cityos.notify.models import Subscription
from tests.notify.conftest import LINE_SECRET, LINE_TOKEN, Receiver

WEBHOOK = "/api/notify/line/webhook"
USER = "U4af4980629e5b6c0b7b7c8d3e1f2a3b4"


def signed(body: bytes, secret: str = LINE_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "X-Line-Signature": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


def event(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1767225600000,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": "01HXYZ",
        "deliveryContext": {"isRedelivery": False},
        **extra,
    }


def post(client: TestClient, *events: dict[str, Any]) -> Any:
    body = json.dumps({"destination": "Uxxxxxxxx", "events": list(events)}).encode()
    return client.post(WEBHOOK, content=body, headers=signed(body))


def text(words: str, reply: str = "r0") -> dict[str, Any]:
    return event("message", replyToken=reply, message={"type": "text", "id": "1", "text": words})


def the_subscription(db: Database) -> Subscription:
    with db.session() as session:
        (row,) = session.scalars(select(Subscription).where(Subscription.channel == "line"))
        return row


def test_a_signed_follow_subscribes_and_is_answered_with_a_reply(
    client: TestClient, db: Database, receiver: Receiver
) -> None:
    answer = post(client, event("follow", replyToken="follow-token"))
    assert answer.status_code == 200
    row = the_subscription(db)
    assert (row.status, row.address, row.topics, row.towns) == ("active", USER, ["disaster"], [])
    (reply,) = receiver.to("/v2/bot/message/reply")
    assert reply.headers["authorization"] == f"Bearer {LINE_TOKEN}"
    body = reply.json()
    assert body["replyToken"] == "follow-token"
    assert body["messages"][0]["type"] == "text"
    assert "三鷹市の防災・防犯などのお知らせ" in body["messages"][0]["text"]


def test_a_missing_or_wrong_signature_is_refused(client: TestClient, db: Database) -> None:
    body = json.dumps({"events": [event("follow", replyToken="t")]}).encode()
    for headers in (
        {},
        {"X-Line-Signature": "bm90IHRoZSBzaWduYXR1cmU="},
        signed(b"another body"),
        signed(body, secret="another-secret"),
    ):
        answer = client.post(WEBHOOK, content=body, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"] == "application/problem+json"
        assert "X-Line-Signature" in answer.json()["detail"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_text_commands_set_the_filters(
    client: TestClient, db: Database, receiver: Receiver
) -> None:
    post(client, event("follow"))
    post(client, text("町 下連雀　のざき", "t1"))
    post(client, text("防犯 オン", "t2"))
    post(client, text("防災オフ", "t3"))
    post(client, text("言語 English", "t4"))
    row = the_subscription(db)
    assert (row.towns, row.topics, row.language) == (["下連雀", "野崎"], ["crime"], "en")
    replies = {
        r.json()["replyToken"]: r.json()["messages"][0]["text"]
        for r in receiver.to("/v2/bot/message/reply")
    }
    assert "町: 下連雀、野崎" in replies["t1"]
    assert "分野: 防災、防犯" in replies["t2"]
    assert "Language: English" in replies["t4"]
    post(client, text("町 吉祥寺", "t5"))
    post(client, text("こんにちは", "t6"))
    post(client, text("町 全域", "t7"))
    replies = {
        r.json()["replyToken"]: r.json()["messages"][0]["text"]
        for r in receiver.to("/v2/bot/message/reply")
    }
    assert "三鷹市の町名ではありません: 吉祥寺" in replies["t5"]
    assert "使い方" in replies["t6"]
    assert the_subscription(db).towns == []


def test_unfollow_unsubscribes_and_forgets_the_user(client: TestClient, db: Database) -> None:
    post(client, event("follow"))
    assert post(client, event("unfollow")).status_code == 200
    row = the_subscription(db)
    assert (row.status, row.address) == ("unsubscribed", "")
    post(client, event("follow"))
    assert the_subscription(db).status == "active"


def test_line_verification_and_odd_events_are_accepted(client: TestClient, db: Database) -> None:
    assert post(client).status_code == 200  # the console's "Verify" sends no events
    odd = [
        {"type": "message", "source": {"type": "group", "groupId": "C1"}},
        {"type": "beacon"},
        "not an event",
        text("設定") | {"mode": "standby"},
    ]
    assert post(client, *odd).status_code == 200  # type: ignore[arg-type]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_bad_bodies_get_clear_answers(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    not_json = b"events=1"
    assert client.post(WEBHOOK, content=not_json, headers=signed(not_json)).status_code == 400
    huge = b'{"events": [], "x": "' + b"a" * (1024 * 1024) + b'"}'
    answer = client.post(WEBHOOK, content=huge, headers=signed(huge))
    assert answer.status_code == 413
    monkeypatch.delenv("CITYOS_LINE_CHANNEL_SECRET")
    assert client.post(WEBHOOK, content=b"{}", headers=signed(b"{}")).status_code == 404


def test_in_disaster_mode_every_answer_leads_with_where_to_go(
    client: TestClient, db: Database, receiver: Receiver, auth_headers: dict[str, str]
) -> None:
    switched = client.put(
        "/api/disaster/mode",
        json={"active": True, "hazard": "flood", "towns": ["大沢"], "message_ja": "野川が増水"},
        headers=auth_headers,
    )
    assert switched.status_code == 200
    post(client, event("follow", replyToken="f1"))
    post(client, text("町 大沢", "t1"))
    replies = {
        r.json()["replyToken"]: r.json()["messages"][0]["text"]
        for r in receiver.to("/v2/bot/message/reply")
    }
    for token in ("f1", "t1"):
        first, second, third = replies[token].splitlines()[:3]
        assert first == "【災害モード】洪水（大沢）"
        assert second == "野川が増水"
        assert third.endswith("http://testserver/disaster")
    assert "町: 大沢" in replies["t1"]
    client.put("/api/disaster/mode", json={"active": False}, headers=auth_headers)
    post(client, text("設定", "t2"))
    (after,) = [
        r.json()["messages"][0]["text"]
        for r in receiver.to("/v2/bot/message/reply")
        if r.json()["replyToken"] == "t2"
    ]
    assert "災害モード" not in after
