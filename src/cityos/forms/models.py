"""Tables of the forms domain: form definitions, submissions and their status history.

A form is data: a JSON definition (fields, labels, help) staff edit without code. A
submission belongs to one resident (ON DELETE CASCADE with the account); its マイナンバー
values are kept only encrypted (``secret``), never in ``values``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

# key: (Japanese, English, やさしい日本語)
STATUSES: dict[str, tuple[str, str, str]] = {
    "received": ("受付", "Received", "うけつけ しました"),
    "reviewing": ("審査中", "Under review", "しらべて います"),
    "done": ("完了", "Completed", "おわりました"),
    "returned": ("差戻し", "Returned to you", "なおして ください"),
}
# Which status may follow which (staff move a submission along these only).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "received": ("reviewing", "returned"),
    "reviewing": ("done", "returned"),
    "returned": ("reviewing",),
    "done": (),
}


class FormDefinition(Base):
    """One online form (転入届 事前入力, 児童手当 認定請求 ...), linked to a catalog procedure."""

    __tablename__ = "form_definitions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(40), default="")
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    title_easy: Mapped[str] = mapped_column(String(200), default="")
    department_ja: Mapped[str] = mapped_column(String(100))
    department_en: Mapped[str] = mapped_column(String(100))
    intro_ja: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    intro_easy: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list[Any]] = mapped_column(default=list)  # see service.check_definition
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class Submission(Base):
    """A resident's filed form: the checked values, files, status and the staff's comments."""

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("resident_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    form_id: Mapped[str] = mapped_column(ForeignKey("form_definitions.id"), index=True)
    # The token of the page the resident filled: the same form sent twice is stored once.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    department_ja: Mapped[str] = mapped_column(String(100), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field name -> checked value
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name -> {sha256, size, ...}
    secret: Mapped[str] = mapped_column(Text, default="")  # Fernet token of {name: マイナンバー}
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    # How often the resident corrected and sent it again after staff returned it (差戻し).
    resubmissions: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it last came in to staff: filed, or resubmitted after a 差戻し. The staff inbox is
    # ordered by it (newest first), so a corrected application comes back to the top.
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    form: Mapped[FormDefinition] = relationship(lazy="joined")
    history: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SubmissionEvent.id",
    )


class SubmissionEvent(Base):
    """A status change or comment by staff, shown to the resident."""

    __tablename__ = "form_submission_events"
    __table_args__ = (UniqueConstraint("submission_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("form_submissions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    # The correction page's key on a resident's resubmission: the same page sent twice counts once.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="history")
