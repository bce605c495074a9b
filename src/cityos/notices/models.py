"""Tables of the push-notice domain: what each resident agreed to share, the notices, and
who received which notice and why.

Nothing is sent to a resident who has not opted in, and only the attributes they chose to
share are matched against a notice's target rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from cityos.db import Base, utcnow

INTERESTS: dict[str, tuple[str, str]] = {
    "childcare": ("子育て", "Childcare"),
    "health": ("健康・医療", "Health"),
    "elderly": ("高齢者・介護", "Elderly care"),
    "disaster": ("防災", "Disaster preparedness"),
    "events": ("イベント・文化", "Events and culture"),
    "tax": ("税・保険・年金", "Tax, insurance and pension"),
    "environment": ("ごみ・環境", "Waste and environment"),
    "jobs": ("仕事・くらし", "Work and living"),
}


class PushPreference(Base):
    """A resident's opt-in: which attributes may be matched, which interests, which channels."""

    __tablename__ = "notice_preferences"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    share_age: Mapped[bool] = mapped_column(default=False)
    share_children: Mapped[bool] = mapped_column(default=False)
    share_town: Mapped[bool] = mapped_column(default=False)
    interests: Mapped[list[Any]] = mapped_column(default=list)
    # Channels besides the my-page inbox (always on): e-mail to the account's address.
    by_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushNotice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # {"towns": [...], "interests": [...], "child_age": [lo, hi], "age": [lo, hi]}: all must hold.
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    recipients: Mapped[int] = mapped_column(default=0)


class PushDelivery(Base):
    """A notice in one resident's my-page inbox, with the reasons it reached them."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    # The interests that matched: what "stop notices like this" removes.
    matched_interests: Mapped[list[Any]] = mapped_column(default=list)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
