"""A small FAQ of our own (tests/chatbot/small_faq.csv), loaded into each test's database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityos.chatbot import service
from cityos.db import Database
from tests.notify.conftest import LINE_SECRET, LINE_TOKEN, Receiver, serving_receiver

SMALL_FAQ = Path(__file__).with_name("small_faq.csv")


@pytest.fixture(scope="session")
def small_index() -> service.FaqIndex:
    return service.FaqIndex.build(service.read_faq_csv(SMALL_FAQ).entries)


@pytest.fixture
def faq_db(db: Database) -> Database:
    with db.session() as session:
        service.store_entries(session, service.read_faq_csv(SMALL_FAQ), None)
    return db


@pytest.fixture
def line_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """LINE's Messaging API as a real local server, and the city's channel pointed at it."""
    with serving_receiver() as receiver:
        monkeypatch.setenv("CITYOS_LINE_API_BASE", receiver.url)
        monkeypatch.setenv("CITYOS_LINE_CHANNEL_SECRET", LINE_SECRET)
        monkeypatch.setenv("CITYOS_LINE_CHANNEL_ACCESS_TOKEN", LINE_TOKEN)
        yield receiver


def index_state(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/chatbot/index")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def wait_for_index(
    client: TestClient, *, entries: int | None = None, seconds: float = 120.0
) -> dict[str, Any]:
    """Poll the index's state until the index that answers has the latest entries (and
    ``entries`` of them); the deadline is generous, it only keeps a broken build from hanging."""
    deadline = time.monotonic() + seconds
    while True:
        state = index_state(client)
        if state["current"] and (entries is None or state["entries"] == entries):
            return state
        assert time.monotonic() < deadline, f"the index was not rebuilt: {state}"
        time.sleep(0.05)
