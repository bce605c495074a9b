"""Tables of the citizens' voice: consultations (パブリックコメント) with their documents,
residents' opinions and supports, the moderation history, and the one table of analysed texts
(opinions once published, imported inquiries and SNS posts) that every analysis reads.

An opinion keeps what the resident wrote (seen only by staff) and the text as published, with
personal information and abuse masked (●●●). A support (賛同) is kept once per browser: only
a salted hash of the browser's random key is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

SOURCES = ("opinion", "inquiry", "sns", "survey")
OPINION_STATES = ("pending", "published", "hidden")


class Consultation(Base):
    __tablename__ = "voice_consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    response: Mapped[str] = mapped_column(Text, default="")  # the city's answer, after the period
    sample: Mapped[bool] = mapped_column(default=False)  # demo data, labelled as such
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    documents: Mapped[list[ConsultationDocument]] = relationship(
        back_populates="consultation", order_by="ConsultationDocument.id"
    )


class ConsultationDocument(Base):
    """A document of a consultation: an uploaded file (by content hash) or a link."""

    __tablename__ = "voice_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("voice_consultations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    media_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship(back_populates="documents")


class Opinion(Base):
    __tablename__ = "voice_opinions"
    __table_args__ = (Index("ix_voice_opinions_queue", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("voice_consultations.id", ondelete="CASCADE"), index=True
    )
    nickname: Mapped[str] = mapped_column(String(40), default="")
    town: Mapped[str] = mapped_column(String(60), default="")
    text: Mapped[str] = mapped_column(Text)  # as written: staff only
    published_text: Mapped[str] = mapped_column(Text)  # personal information and abuse masked
    findings: Mapped[list[Any]] = mapped_column(default=list)  # [{kind, text}] what was masked
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")  # why staff published/hid it
    moderated_by: Mapped[str] = mapped_column(String(64), default="")
    moderated_at: Mapped[datetime | None] = mapped_column(default=None)
    supports: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship()


class Support(Base):
    """One browser's 賛同 to one opinion."""

    __tablename__ = "voice_supports"
    __table_args__ = (UniqueConstraint("opinion_id", "browser_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(
        ForeignKey("voice_opinions.id", ondelete="CASCADE"), index=True
    )
    browser_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationAction(Base):
    """Every decision on an opinion, kept: who published or hid it, when, and why."""

    __tablename__ = "voice_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(
        ForeignKey("voice_opinions.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # published, hidden
    reason: Mapped[str] = mapped_column(String(500), default="")
    user_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class VoiceText(Base):
    """One analysed text, whatever its source: what every analysis page and export reads."""

    __tablename__ = "voice_texts"
    __table_args__ = (
        UniqueConstraint("source", "ref"),
        Index("ix_voice_texts_filter", "source", "said_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # opinion, inquiry, sns
    ref: Mapped[str] = mapped_column(String(200))  # the id it came with (opinion id, row id)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("voice_consultations.id", ondelete="CASCADE"), default=None, index=True
    )
    text: Mapped[str] = mapped_column(Text)
    town: Mapped[str] = mapped_column(String(60), default="", index=True)
    said_at: Mapped[datetime] = mapped_column()  # when it was written
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    sentiment: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column()
    topic: Mapped[str] = mapped_column(String(200), default="")
    words: Mapped[str] = mapped_column(Text, default="")  # content words, for re-grouping
    sample: Mapped[bool] = mapped_column(default=False)
