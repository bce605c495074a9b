"""Tables of the notify domain: notices, subscriptions, the delivery queue and its attempts.

A delivery is one message to one subscription. For a notice there is at most one per
(notice, subscription, channel): the unique constraint is what keeps a notice from being
queued twice for a recipient. Other messages (the confirmation e-mail, a LINE reply) have no
notice and are queued by the service that needs them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, new_id, utcnow

CHANNELS = ("email", "webhook", "line", "webpush")
# Subscription states: pending (e-mail not confirmed yet), active, unsubscribed, gone (the
# push service said the browser subscription no longer exists), direct (an address that gets
# only the messages of one kind queued for it by name, such as a reporter's updates; never
# notices; one such subscription per address and kind, see notify/kinds.py).
SUBSCRIPTION_STATES = ("pending", "active", "unsubscribed", "gone", "direct")
# Delivery states. "sending" is committed before a message leaves; a "sending" row a worker
# finds after a crash becomes "unknown" and is never sent again by itself.
DELIVERY_STATES = ("queued", "sending", "sent", "failed", "unknown", "cancelled")


class Notice(Base):
    """One message to residents: a topic, the towns it concerns, the text in each language."""

    __tablename__ = "notify_notices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(32), index=True)
    towns: Mapped[list[Any]] = mapped_column(default=list)  # [] is the whole city
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    title_easy: Mapped[str] = mapped_column(String(200), default="")
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_easy: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # e.g. alert:<id>
    # Set by callers that may call twice for one message (an event handled again, an API
    # client retrying): the second call returns the first notice instead of a new one.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Subscription(Base):
    """Where one recipient gets notices and which ones: an e-mail address, a webhook URL,
    a LINE user or a browser's push subscription."""

    __tablename__ = "notify_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    # The e-mail address, webhook URL, LINE user id or push endpoint. Emptied when a
    # resident unsubscribes: we keep no address we no longer use.
    address: Mapped[str] = mapped_column(String(2000), default="")
    # channel + SHA-256 of the address, so one e-mail address, LINE user or browser has one
    # subscription; none for webhooks (a URL may serve several filters).
    address_key: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    towns: Mapped[list[Any]] = mapped_column(default=list)  # [] is the whole city
    secret: Mapped[str] = mapped_column(String(200), default="")  # a webhook's HMAC key
    keys: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a push subscription's keys
    label: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(default=None)


class Delivery(Base):
    """One message to one subscription, queued until a worker sends it."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "subscription_id", "channel"),
        Index("ix_notify_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    notice_id: Mapped[str | None] = mapped_column(
        ForeignKey("notify_notices.id", ondelete="CASCADE"), default=None, index=True
    )
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("notify_subscriptions.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="notice")  # notice, confirm, reply
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=6)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim: Mapped[str | None] = mapped_column(String(36), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    notice: Mapped[Notice | None] = relationship()
    subscription: Mapped[Subscription] = relationship()


class DeliveryAttempt(Base):
    """Every try to send a delivery, with what came back: the delivery's log."""

    __tablename__ = "notify_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("notify_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16), default="sending")
    status_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(Text, default="")
