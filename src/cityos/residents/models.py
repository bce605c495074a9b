"""Tables of the residents domain: accounts, profiles, household members, saved checklists.

Resident accounts are not staff accounts (``users``): another table, another session
cookie, no roles. Everything a resident owns hangs off ``residents`` with ON DELETE CASCADE,
so deleting an account deletes all of it in one statement.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

RELATIONS: dict[str, tuple[str, str]] = {
    "spouse": ("配偶者", "Spouse"),
    "child": ("子", "Child"),
    "parent": ("父母", "Parent"),
    "other": ("その他", "Other"),
}


class Resident(Base):
    """A resident's account: e-mail and password today; see ``residents.identity``."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # How the identity was last proven ("password"; "jpki" once マイナンバーカード login exists).
    identity_method: Mapped[str] = mapped_column(String(16), default="password")
    # Part of every session cookie: raising it (logout, deletion) ends every session at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # None until the resident opens the link e-mailed to ``email``; no e-mail goes to an
    # unconfirmed address except that link.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # A new address the resident asked for; ``email`` stays in use until this one is confirmed.
    pending_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(default=None)

    profile: Mapped[ResidentProfile | None] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True
    )
    members: Mapped[list[HouseholdMember]] = relationship(
        back_populates="resident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="HouseholdMember.id",
    )
    checklists: Mapped[list[SavedChecklist]] = relationship(
        back_populates="resident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SavedChecklist.id.desc()",
    )


class ResidentProfile(Base):
    """What the resident tells the city about themself; theirs to edit, export and delete."""

    __tablename__ = "resident_profiles"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    kana: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    address_input: Mapped[str] = mapped_column(String(300), default="")
    # The normalized address (cityos.address): pref, city, town, addr, other, level, lat, lon.
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(back_populates="profile")


class HouseholdMember(Base):
    """Someone who lives with the resident (spouse, child ...)."""

    __tablename__ = "resident_household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(100), default="")
    relation: Mapped[str] = mapped_column(String(16), default="other")
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)

    resident: Mapped[Resident] = relationship(back_populates="members")


class SavedChecklist(Base):
    """A 手続きナビ checklist the resident kept: the answers, and the procedures they gave."""

    __tablename__ = "resident_checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    procedure_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(back_populates="checklists")
