"""Tables of the FAQ chatbot: the entries it answers from, the staff's synonym groups, and the
log of questions (masked: no personal data) with residents' ratings and hand-offs to staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.db import Base, utcnow

ENTRY_SOURCES = ("demo", "import", "staff")
LOG_STATES = ("open", "done", "dismissed")


class FaqRow(Base):
    __tablename__ = "chatbot_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(64), unique=True)  # the CSV's ID (or row number)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    updated: Mapped[date | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(20), default="staff")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="")


class SynonymGroup(Base):
    __tablename__ = "chatbot_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    words: Mapped[list[Any]] = mapped_column(default=list)  # ["粗大ごみ", "大型ごみ"]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AskedQuestion(Base):
    """One question asked, as logged for staff: personal data masked before it is stored."""

    __tablename__ = "chatbot_questions"
    __table_args__ = (Index("ix_chatbot_questions_state", "state", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)  # masked (●●●)
    channel: Mapped[str] = mapped_column(String(20), default="web")  # web, api, line, cli
    answered: Mapped[bool] = mapped_column(default=False)
    faq_id: Mapped[str | None] = mapped_column(String(64), default=None)
    confidence: Mapped[float] = mapped_column(default=0.0)
    rating: Mapped[int] = mapped_column(default=0)  # 1 helpful, -1 not helpful, 0 not rated
    to_staff: Mapped[bool] = mapped_column(default=False)  # the resident asked staff to answer
    state: Mapped[str] = mapped_column(String(20), default="open")
    made_faq_id: Mapped[str | None] = mapped_column(String(64), default=None)
