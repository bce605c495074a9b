"""Tables of the SNS domain: triaged posts and the marks staff put on them.

A post keeps its text, its time, where it came from and what triage found; the poster's
account is kept only as a salted hash (enough to see that several posts came from one
account, never who it was). Retweets and near-copies point at the earliest post of their
group, which counts them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.db import Base, new_id, utcnow

MARKS = ("open", "handled", "fire_service")
URGENCY_RANK = {"high": 3, "medium": 2, "low": 1}


class SnsPost(Base):
    __tablename__ = "sns_posts"
    __table_args__ = (
        Index("ix_sns_posts_queue", "duplicate_of", "urgency_rank", "posted_at"),
        Index("ix_sns_posts_town", "town"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(String(200), unique=True)  # the id it came with
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column()  # created_at, else when it arrived
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    poster_hash: Mapped[str] = mapped_column(String(64), default="")  # salted; "" if none
    lang: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(20), default="api")  # api, cli, stream, demo
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)  # geo, retweet_of ... (no user)
    group_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(200), default=None)
    copies: Mapped[int] = mapped_column(default=1)
    category: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(10))
    urgency_rank: Mapped[int] = mapped_column(default=1)
    hazard: Mapped[str] = mapped_column(String(20))
    town: Mapped[str | None] = mapped_column(String(60), default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    outside: Mapped[bool] = mapped_column(default=False)  # about a place outside the city
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    triaged_by: Mapped[str] = mapped_column(String(80), default="")  # worker or request
    mark: Mapped[str] = mapped_column(String(20), default="open")
    marked_by: Mapped[str] = mapped_column(String(100), default="")
    marked_at: Mapped[datetime | None] = mapped_column(default=None)


class SnsMark(Base):
    """Every mark staff put on a post, kept: who passed what to the fire service, and when."""

    __tablename__ = "sns_post_marks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("sns_posts.id", ondelete="CASCADE"), index=True)
    mark: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    user_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
