"""Tables of the disaster domain: shelters and their live status, check-ins, disaster mode,
alerts.

Shelters come from the open data portal's 指定避難所一覧 / 指定緊急避難場所一覧 datasets and are
kept in sync with them; their live status is the city's own, set by staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, new_id, utcnow


class Shelter(Base):
    """A designated shelter (指定避難所) and/or emergency evacuation site (指定緊急避難場所)."""

    __tablename__ = "shelters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # normalized name + address
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(300), default="")
    pref: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    is_shelter: Mapped[bool] = mapped_column(default=False)  # 指定避難所: to stay in
    is_emergency_site: Mapped[bool] = mapped_column(default=False)  # 指定緊急避難場所: to flee to
    hazards: Mapped[list[Any]] = mapped_column(default=list)  # flood, earthquake, fire ...
    capacity: Mapped[int | None] = mapped_column(default=None)
    accepts: Mapped[str] = mapped_column(String(200), default="")  # 受入対象者 (要配慮者 ...)
    phone: Mapped[str] = mapped_column(String(40), default="")
    sources: Mapped[list[Any]] = mapped_column(default=list)  # resource ids it was read from
    active: Mapped[bool] = mapped_column(default=True)  # still in the published datasets
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)

    status: Mapped[ShelterStatus | None] = relationship(
        back_populates="shelter", cascade="all, delete-orphan", uselist=False, lazy="joined"
    )


class ShelterStatus(Base):
    """What staff report about a shelter now."""

    __tablename__ = "shelter_status"

    shelter_id: Mapped[str] = mapped_column(
        ForeignKey("shelters.id", ondelete="CASCADE"), primary_key=True
    )
    is_open: Mapped[bool] = mapped_column(default=False)
    people: Mapped[int] = mapped_column(default=0)
    capacity: Mapped[int | None] = mapped_column(default=None)  # staff's own figure, if any
    wifi: Mapped[bool] = mapped_column(default=False)
    charging: Mapped[bool] = mapped_column(default=False)
    pets: Mapped[bool] = mapped_column(default=False)
    accessible_toilet: Mapped[bool] = mapped_column(default=False)
    nursing_room: Mapped[bool] = mapped_column(default=False)
    supplies_short: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    shelter: Mapped[Shelter] = relationship(back_populates="status")


class ShelterStatusChange(Base):
    """Every change of a shelter's status: who, when, what."""

    __tablename__ = "shelter_status_changes"
    __table_args__ = (Index("ix_shelter_status_changes_shelter", "shelter_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[str] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CheckIn(Base):
    """A resident who arrived at a shelter; only the family link holder sees it."""

    __tablename__ = "shelter_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[str] = mapped_column(
        ForeignKey("shelters.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisasterMode(Base):
    """Whether the city is in disaster mode, for which hazard and areas (one row)."""

    __tablename__ = "disaster_mode"

    id: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[bool] = mapped_column(default=False)
    hazard: Mapped[str] = mapped_column(String(30), default="")
    towns: Mapped[list[Any]] = mapped_column(default=list)
    message_ja: Mapped[str] = mapped_column(Text, default="")
    message_en: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(default=0)  # bumped on any disaster data change


class DisasterModeChange(Base):
    __tablename__ = "disaster_mode_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool]
    hazard: Mapped[str] = mapped_column(String(30), default="")
    towns: Mapped[list[Any]] = mapped_column(default=list)


class Alert(Base):
    """An alert as published in CAP 1.2: an original, an update or a cancellation."""

    __tablename__ = "disaster_alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    sender: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default="Actual")
    msg_type: Mapped[str] = mapped_column(String(16), default="Alert")
    references: Mapped[list[Any]] = mapped_column(default=list)  # ids of the alerts it follows
    level: Mapped[int] = mapped_column(default=0)  # 警戒レベル 3, 4, 5; 0 for a notice
    hazard: Mapped[str] = mapped_column(String(30))
    towns: Mapped[list[Any]] = mapped_column(default=list)
    headline_ja: Mapped[str] = mapped_column(String(300))
    headline_en: Mapped[str] = mapped_column(String(300), default="")
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_easy: Mapped[str] = mapped_column(Text, default="")  # やさしい日本語
    expires: Mapped[datetime | None] = mapped_column(default=None)
    superseded: Mapped[bool] = mapped_column(default=False)  # a later Update/Cancel replaced it
    created_by: Mapped[str] = mapped_column(String(64), default="")


class BlockedPlace(Base):
    """A place reported flooded or blocked; walking routes avoid it while it is active."""

    __tablename__ = "disaster_blocked_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    lat: Mapped[float]
    lon: Mapped[float]
    radius_m: Mapped[float] = mapped_column(default=50.0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(64), default="")
