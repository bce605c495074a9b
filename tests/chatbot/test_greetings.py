"""Greetings and thanks get a short friendly reply in their language that says what can be
asked, with FAQ entries as example questions: on the chat page without JavaScript, in the
JSON API and on LINE (quick replies). They are no FAQ answers and never reach the staff's list
of unanswered questions; a greeting followed by a question still gets the FAQ's answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.chatbot.models import AskedQuestion
from cityos.core.models import User
from cityos.db import Database
from tests.chatbot.test_line import quick_replies, reply_to, say
from tests.conftest import csrf_of, login
from tests.notify.conftest import Receiver

EXAMPLES = {"T001", "T003", "T006"}  # 粗大ごみ, 住民票, 児童手当 in the small FAQ
ANSWER_KEYS = ["answered", "faq_id", "question", "answer", "confidence", "suggestions"]


def ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/api/chatbot/ask", json={"question": question})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("message", "opening", "language"),
    [
        (
            "こんにちは",
            "こんにちは。三鷹市のごみ・税・子育て・手続きなどについて質問してください。",
            "ja",
        ),
        ("おはよう", "おはようございます。三鷹市の", "ja"),
        ("ありがとう", "どういたしまして。ほかにも三鷹市の", "ja"),
        ("助かりました！", "どういたしまして。", "ja"),
        ("hello", "Hello! Ask me about Mitaka City", "en"),
        ("hi", "Hello! Ask me about Mitaka City", "en"),
        ("thanks", "You're welcome! Ask me anything else about Mitaka City", "en"),
        ("thank you", "You're welcome!", "en"),
        ("你好", "你好！请提问有关三鹰市", "zh"),
        ("谢谢", "不客气！", "zh"),
        ("안녕하세요", "안녕하세요! 미타카시의", "ko"),
        ("감사합니다", "천만에요! 미타카시의", "ko"),
    ],
)
def test_a_greeting_gets_a_reply_in_its_language_with_example_questions(
    client: TestClient, faq_db: Database, message: str, opening: str, language: str
) -> None:
    body = ask(client, message)
    assert list(body)[: len(ANSWER_KEYS)] == ANSWER_KEYS  # the fixed schema, first
    assert body["answer"].startswith(opening)
    # a reply, not an error or a hand-off, but no answer from the FAQ either
    assert (body["answered"], body["faq_id"], body["question"]) == (False, None, None)
    assert body["source"]["kind"] == "greeting"
    assert body["source"]["lang"] == language
    assert "お答えできませんでした" not in body["message"]
    assert body["can_send_to_staff"] is False
    assert body["log_id"] is None
    assert {s["faq_id"] for s in body["suggestions"]} == EXAMPLES
    with faq_db.session() as session:  # nothing for staff to answer
        assert session.scalars(select(AskedQuestion)).first() is None


def test_a_greeting_with_a_question_is_answered_from_the_faq(
    client: TestClient, faq_db: Database
) -> None:
    body = ask(client, "こんにちは、粗大ごみの出し方は？")
    assert body["faq_id"] == "T001"
    assert body["source"]["kind"] == "faq"
    assert ask(client, "Hi, how do I get a residence certificate?")["faq_id"] == "T003"
    with faq_db.session() as session:
        assert len(session.scalars(select(AskedQuestion)).all()) == 2  # questions are logged


def test_the_chat_page_replies_to_thanks_without_javascript(
    client: TestClient, faq_db: Database, admin: User
) -> None:
    token = csrf_of(client.get("/chatbot").text)
    page = client.post(
        "/chatbot", data={"question": "ありがとうございました！", "csrf_token": token}
    )
    assert page.status_code == 200
    assert "どういたしまして。ほかにも三鷹市のごみ・税・子育て・手続きなどについて" in page.text
    assert "質問の例" in page.text
    assert "/chatbot?faq=T001#answer" in page.text  # an example leads to its entry
    assert "お答えできませんでした" not in page.text
    assert "職員に質問を送る" not in page.text
    assert "役に立ちましたか" not in page.text
    english = client.post("/chatbot", data={"question": "Thank you!", "csrf_token": token})
    assert "You&#39;re welcome!" in english.text or "You're welcome!" in english.text
    assert 'lang="en"' in english.text
    login(client)
    log = client.get("/staff/chatbot/log")
    assert "ありがとうございました" not in log.text
    assert "Thank you" not in log.text


def test_a_greeting_on_line_gets_the_reply_and_examples_as_quick_replies(
    client: TestClient, faq_db: Database, line_api: Receiver
) -> None:
    say(client, "こんにちは！", "g1")
    message = reply_to(line_api, "g1")
    assert message["text"].startswith(
        "こんにちは。三鷹市のごみ・税・子育て・手続きなどについて質問してください。"
    )
    assert "お答えできませんでした" not in message["text"]
    assert "出典" not in message["text"]
    actions = quick_replies(message)
    assert len(actions) == 3
    for action in actions:
        assert f"・{action['text']}" in message["text"]
    # Tapping an example asks it, and the FAQ answers.
    say(client, actions[0]["text"], "g2")
    assert "出典: 三鷹市 FAQ" in reply_to(line_api, "g2")["text"]
    say(client, "thanks", "g3")
    assert reply_to(line_api, "g3")["text"].startswith("You're welcome!")
    with faq_db.session() as session:  # only the tapped example is a question for the log
        rows = session.scalars(select(AskedQuestion)).all()
    assert [(row.text, row.answered) for row in rows] == [(actions[0]["text"], True)]
