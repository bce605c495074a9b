"""A small FAQ of our own (tests/chatbot/small_faq.csv), loaded into each test's database."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityos.chatbot import service
from cityos.db import Database

SMALL_FAQ = Path(__file__).with_name("small_faq.csv")


@pytest.fixture(scope="session")
def small_index() -> service.FaqIndex:
    return service.FaqIndex.build(service.read_faq_csv(SMALL_FAQ).entries)


@pytest.fixture
def faq_db(db: Database) -> Database:
    with db.session() as session:
        service.store_entries(session, service.read_faq_csv(SMALL_FAQ), None)
    return db
