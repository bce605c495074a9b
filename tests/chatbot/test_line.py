"""The FAQ chatbot on the city's LINE channel: a signed webhook with a question gets the
answer as a LINE reply (through a real local LINE API server), with close questions as
quick reply buttons; notice commands, follow events and the signature check still hold."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.chatbot.models import AskedQuestion
from cityos.db import Database
from cityos.notify.models import Subscription
from tests.notify.conftest import LINE_TOKEN, Receiver
from tests.notify.test_line import USER, WEBHOOK, event, signed


def say(client: TestClient, words: str, token: str) -> Any:
    message = event("message", replyToken=token, message={"type": "text", "id": "1", "text": words})
    body = json.dumps({"destination": "Uxxxxxxxx", "events": [message]}).encode()
    return client.post(WEBHOOK, content=body, headers=signed(body))


def reply_to(receiver: Receiver, token: str) -> dict[str, Any]:
    (reply,) = [r for r in receiver.to("/v2/bot/message/reply") if r.json()["replyToken"] == token]
    assert reply.headers["authorization"] == f"Bearer {LINE_TOKEN}"
    (message,) = reply.json()["messages"]
    assert message["type"] == "text"
    result: dict[str, Any] = message
    return result


def quick_replies(message: dict[str, Any]) -> list[dict[str, str]]:
    items = message.get("quickReply", {}).get("items", [])
    assert all(item["type"] == "action" for item in items)
    actions = [item["action"] for item in items]
    assert all(a["type"] == "message" and len(a["label"]) <= 20 for a in actions), actions
    return actions


def test_a_question_gets_the_faq_answer_with_its_source_and_quick_replies(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    answer = say(client, "粗大ゴミってどうやって出すの？", "q1")
    assert answer.status_code == 200
    message = reply_to(line_api, "q1")
    assert message["text"].startswith("粗大ごみは事前申込制です。")
    assert "出典: 三鷹市 FAQ T001（ごみ対策課）" in message["text"]
    assert message["text"].splitlines()[-1] == "https://www.city.example.jp/gomi/sodai.html"
    actions = quick_replies(message)
    assert 1 <= len(actions) <= 3
    with faq_db.session() as session:
        asked = {row.faq_id: row.question for row in session.scalars(select_entries())}
    for action in actions:
        assert action["text"] in asked.values()  # the button asks that question in full
    # Tapping a button sends its question, which the bot then answers.
    first = actions[0]["text"]
    say(client, first, "q2")
    followed = reply_to(line_api, "q2")
    (faq_id,) = [i for i, q in asked.items() if q == first]
    assert f"FAQ {faq_id}" in followed["text"]


def test_line_questions_are_logged_masked_like_web_questions(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    say(client, "山田です。電話090-1234-5678。住民票の写しはどこで取れますか", "q1")
    with faq_db.session() as session:
        row = session.scalars(select(AskedQuestion)).one()
    assert row.channel == "line"
    assert row.answered
    # The FAQ's entry and the procedure catalog's entry for 住民票 are within 0.01 of each
    # other in confidence here; either is the right answer, and masking is what is tested.
    assert row.faq_id in {"T003", "procedure:juminhyo"}
    assert "090" not in row.text
    assert "●●●" in row.text


def test_an_unanswerable_question_gets_the_hand_off_and_three_suggestions(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    say(client, "今日の天気を教えて", "q1")
    message = reply_to(line_api, "q1")
    assert message["text"].startswith("お答えできませんでした。")
    assert "職員が確認し" in message["text"]
    assert "Sorry, I could not find an answer." in message["text"]
    actions = quick_replies(message)
    assert len(actions) == 3
    for action in actions:
        assert f"・{action['text']}" in message["text"]  # listed in the text too
    assert any(len(a["text"]) > 20 and a["label"].endswith("…") for a in actions)
    with faq_db.session() as session:
        row = session.scalars(select(AskedQuestion)).one()
    assert (row.channel, row.answered, row.state) == ("line", False, "open")  # staff see it


def test_notice_commands_still_set_the_filters_and_are_not_questions(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    say(client, "町 下連雀", "c1")
    say(client, "防犯 オン", "c2")
    say(client, "設定", "c3")
    assert "町: 下連雀" in reply_to(line_api, "c1")["text"]
    assert "分野: 防災、防犯" in reply_to(line_api, "c2")["text"]
    assert reply_to(line_api, "c3")["text"].startswith("今の設定")
    assert "quickReply" not in reply_to(line_api, "c3")
    with faq_db.session() as session:
        assert session.scalars(select(AskedQuestion)).first() is None
        (row,) = session.scalars(select(Subscription).where(Subscription.channel == "line"))
        assert (row.towns, row.topics) == (["下連雀"], ["disaster", "crime"])


def test_without_an_faq_unknown_text_still_gets_the_help(
    client: TestClient, db: Database, line_api: Receiver
) -> None:
    say(client, "駐輪場の料金は？", "q1")
    assert "使い方" in reply_to(line_api, "q1")["text"]


def test_a_bad_signature_is_refused_and_nothing_is_answered(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    message = event("message", replyToken="q1", message={"type": "text", "text": "粗大ごみ"})
    body = json.dumps({"events": [message]}).encode()
    answer = client.post(WEBHOOK, content=body, headers=signed(body, secret="not-the-secret"))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert "X-Line-Signature" in answer.json()["detail"]
    assert line_api.requests == []
    with faq_db.session() as session:
        assert session.scalars(select(AskedQuestion)).first() is None


def test_a_follow_event_still_subscribes(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    body = json.dumps({"events": [event("follow", replyToken="f1")]}).encode()
    assert client.post(WEBHOOK, content=body, headers=signed(body)).status_code == 200
    with faq_db.session() as session:
        (row,) = session.scalars(select(Subscription).where(Subscription.channel == "line"))
        assert (row.status, row.address) == ("active", USER)
    assert "三鷹市の防災・防犯などのお知らせ" in reply_to(line_api, "f1")["text"]


def select_entries() -> Any:
    from cityos.chatbot.models import FaqRow

    return select(FaqRow)


def test_a_how_to_question_gets_the_procedure_catalog_entry_on_line(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    say(client, "婚姻届に必要な持ち物は？", "p1")
    lines = reply_to(line_api, "p1")["text"].splitlines()
    assert lines[0] == "【婚姻届】結婚するときの届出です。受理された日に婚姻が成立します。"
    assert "・本人確認書類" in lines
    assert lines[-2].startswith(
        "出典: 三鷹市 手続きカタログ（市民課 戸籍係） / Source: Mitaka City procedure catalog"
    )
    assert lines[-1] == "http://testserver/procedures/kon_in"
