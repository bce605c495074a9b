"""The answer index is rebuilt in the background after staff edit the FAQ: questions keep being
answered from the previous index meanwhile, staff see that it is being updated, one builder per
database takes every change, and a build that fails leaves the previous index answering.

A "gate" holds the background build (the real build, run once the gate opens) so that the
state while it runs can be looked at without timing anything; every wait has a deadline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.chatbot import service
from cityos.chatbot.models import AskedQuestion
from cityos.core.models import User
from cityos.db import Database
from tests.chatbot.conftest import index_state, wait_for_index
from tests.conftest import csrf_of, login

OLD_ANSWER = "粗大ごみは事前申込制です。"
HELD = 60.0  # seconds a held build waits at most (a safety net: the tests open the gate)


@dataclass
class Gate:
    """Holds every index build until opened; counts builds and how many ran at once."""

    opened: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: threading.Event = field(default_factory=threading.Event)
    running: int = 0
    most: int = 0
    builds: int = 0

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    real = service.build_index

    def build(entries: list[service.FaqEntry], synonyms: dict[str, list[str]]) -> Any:
        with held.lock:
            held.running += 1
            held.most = max(held.most, held.running)
            held.builds += 1
        held.waiting.set()
        try:
            held.opened.wait(HELD)
            return real(entries, synonyms)
        finally:
            with held.lock:
                held.running -= 1

    monkeypatch.setattr(service, "build_index", build)
    yield held
    held.open()


def ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/api/chatbot/ask", json={"question": question})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def edit_entry(client: TestClient, faq_id: str, question: str, answer: str) -> None:
    page = client.get(f"/staff/chatbot/entries/{faq_id}")
    saved = client.post(
        f"/staff/chatbot/entries/{faq_id}",
        data={"csrf_token": csrf_of(page.text), "question": question, "answer": answer},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text


def add_entry(client: TestClient, faq_id: str, question: str, answer: str) -> None:
    page = client.get("/staff/chatbot/new")
    saved = client.post(
        "/staff/chatbot/new",
        data={
            "csrf_token": csrf_of(page.text),
            "faq_id": faq_id,
            "question": question,
            "answer": answer,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text


def test_after_an_edit_questions_get_the_old_answer_until_the_new_index_is_in(
    client: TestClient, faq_db: Database, admin: User, gate: Gate
) -> None:
    gate.open()
    assert ask(client, "粗大ごみの出し方")["answer"].startswith(OLD_ANSWER)  # the first build
    gate.opened.clear()
    login(client)
    edit_entry(client, "T001", "粗大ごみの出し方", "新しい回答です。")
    # Staff land on the FAQ list, which says the index is being updated.
    listed = client.get("/staff/chatbot?saved=T001")
    assert "保存しました" in listed.text
    assert "回答の索引を更新中です（数秒で反映されます）" in listed.text
    assert 'data-building="true"' in listed.text
    state = index_state(client)
    assert state["building"] is True
    assert state["current"] is False
    assert state["entries"] == 12
    # The build is held: the question is still answered, from the previous index.
    body = ask(client, "粗大ごみの出し方")
    assert body["faq_id"] == "T001"
    assert body["answer"].startswith(OLD_ANSWER)
    gate.open()
    state = wait_for_index(client, entries=12)
    assert state["building"] is False
    assert state["built_at"]
    assert ask(client, "粗大ごみの出し方")["answer"] == "新しい回答です。"
    listed = client.get("/staff/chatbot")
    assert "回答の索引は最新です" in listed.text
    assert "12 件" in listed.text
    assert 'data-building="false"' in listed.text


def test_two_edits_in_quick_succession_both_reach_the_index_through_one_builder(
    client: TestClient, faq_db: Database, admin: User, gate: Gate
) -> None:
    gate.open()
    ask(client, "図書館の本はどこで返す？")
    gate.opened.clear()
    gate.waiting.clear()
    login(client)
    add_entry(
        client, "L001", "図書館の本の返却ポストはどこ？", "返却ポストは図書館の正面にあります。"
    )
    assert index_state(client)["building"] is True  # the rebuild for L001 starts ...
    assert gate.waiting.wait(HELD)  # ... and is held
    add_entry(client, "P001", "公園でバーベキューはできますか。", "市内の公園ではできません。")
    # Residents keep asking while the build is held: none of them starts a second builder.
    questions = ["粗大ゴミってどうやって出すの？", "児童手当はいつ？", "公園でバーベキュー"] * 4
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda q: ask(client, q), questions))
    assert [a["faq_id"] for a in answers[:2]] == ["T001", "T006"]
    assert all(a["faq_id"] != "P001" for a in answers)  # not in the index that answers yet
    assert index_state(client)["building"] is True
    gate.open()
    wait_for_index(client, entries=14)
    assert gate.most == 1  # never two builds of one database at once
    assert ask(client, "図書館の本の返却ポストはどこ？")["faq_id"] == "L001"
    assert ask(client, "公園でバーベキューはできますか")["faq_id"] == "P001"


def test_a_failing_rebuild_keeps_the_old_index_answering_and_is_tried_again(
    client: TestClient,
    faq_db: Database,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert ask(client, "粗大ごみの出し方")["answer"].startswith(OLD_ANSWER)
    real = service.build_index

    def broken(entries: list[service.FaqEntry], synonyms: dict[str, list[str]]) -> Any:
        raise RuntimeError("the index could not be built")

    monkeypatch.setattr(service, "build_index", broken)
    monkeypatch.setattr(service, "RETRY_SECONDS", 0.0)  # try again at the next check
    login(client)
    with caplog.at_level(logging.ERROR, logger="cityos.chatbot.service"):
        edit_entry(client, "T001", "粗大ごみの出し方", "新しい回答です。")
        deadline = time.monotonic() + HELD
        state = index_state(client)
        while not state["failed"]:
            assert state["building"], state  # failing, or failed: never stuck in between
            assert time.monotonic() < deadline, state
            time.sleep(0.05)
            state = index_state(client)
    assert any("rebuilding the FAQ index failed" in r.getMessage() for r in caplog.records)
    assert state["current"] is False
    listed = client.get("/staff/chatbot")
    assert "回答の索引を更新できませんでした" in listed.text
    body = ask(client, "粗大ごみの出し方")  # still answered, from the previous index
    assert body["answer"].startswith(OLD_ANSWER)
    with faq_db.session() as session:
        assert session.scalars(select(AskedQuestion.answered)).all() == [True, True]
    monkeypatch.setattr(service, "build_index", real)
    wait_for_index(client, entries=12)
    assert ask(client, "粗大ごみの出し方")["answer"] == "新しい回答です。"
