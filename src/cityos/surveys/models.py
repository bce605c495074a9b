"""Tables of the surveys domain: surveys (their questions as data) and the responses.

A survey's questions are a validated JSON definition (see ``service.parse_definition``), so
staff build a survey without code and a response is checked against the definition it answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.db import Base, utcnow

# anonymous: anyone may answer, nothing about them is kept; resident: one answer per
# logged-in resident account.
MODES: dict[str, tuple[str, str]] = {
    "anonymous": ("匿名（だれでも回答できます）", "Anonymous (anyone may answer)"),
    "resident": ("住民ログインで1人1回", "One response per logged-in resident"),
}


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public address is /surveys/{slug}: unguessable, so a draft is not found by counting.
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    # やさしい日本語 (easy Japanese) title; "" shows the Japanese title in easy mode.
    title_easy: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(16), default="anonymous")
    questions: Mapped[list[Any]] = mapped_column(default=list)
    opens_at: Mapped[datetime | None] = mapped_column(default=None)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    published: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One person's answers: {question id: value} for the questions they were shown."""

    __tablename__ = "survey_responses"
    # NULLs are distinct in SQLite and PostgreSQL: anonymous responses are never in conflict.
    __table_args__ = (UniqueConstraint("survey_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), default=None
    )
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
