"""Tables of the citizen-reports domain (Open311 GeoReport v2).

A service request is one resident's report of a problem at a place. What the city shows of
it is public (category, place, description, photo link, status); who sent it (e-mail, phone,
name, device and account ids) is kept in the same row but never leaves through a public
answer. Every change of status is a row of ``reports_status_changes`` with its public note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

# The city's detailed statuses and the Open311 status each one is.
RECEIVED, IN_PROGRESS, DONE, DECLINED = "received", "in_progress", "done", "declined"
# A duplicate merged into another report: closed, its reporter follows the kept one.
MERGED = "merged"
STATES: dict[str, tuple[str, str, str]] = {
    RECEIVED: ("受付", "Received", "open"),
    IN_PROGRESS: ("対応中", "In progress", "open"),
    DONE: ("完了", "Done", "closed"),
    DECLINED: ("対応不可", "Cannot be done", "closed"),
    MERGED: ("統合済み", "Merged", "closed"),
}
# What a photo shows: the resident's report, or staff's before / after the work.
PHOTO_KINDS: dict[str, tuple[str, str]] = {
    "report": ("報告の写真", "Reported photo"),
    "before": ("対応前", "Before"),
    "after": ("対応後", "After"),
}
OPEN311_STATUSES = ("open", "closed")


class ReportService(Base):
    """One kind of report residents can send (an Open311 service and its definition)."""

    __tablename__ = "reports_services"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    group_ja: Mapped[str] = mapped_column(String(100), default="")
    group_en: Mapped[str] = mapped_column(String(100), default="")
    description_ja: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    department_ja: Mapped[str] = mapped_column(String(100), default="")
    department_en: Mapped[str] = mapped_column(String(100), default="")
    # [{code, datatype, required, order, description_ja/en, datatype_description_ja/en,
    #   values: [{key, name_ja, name_en}]}] — see reports.catalog
    attributes: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)


class ServiceRequest(Base):
    """One report: what, where, its status, and (privately) who sent it."""

    __tablename__ = "reports_requests"
    __table_args__ = (
        Index("ix_reports_requests_requested", "requested_at"),
        Index("ix_reports_requests_service", "service_code", "requested_at"),
        Index("ix_reports_requests_status", "status", "requested_at"),
        Index("ix_reports_requests_client", "client", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("reports_services.code"))
    state: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    status: Mapped[str] = mapped_column(String(8), default="open")  # Open311: open / closed
    status_notes: Mapped[str] = mapped_column(Text, default="")
    department_ja: Mapped[str] = mapped_column(String(100), default="")
    department_en: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    town: Mapped[str] = mapped_column(String(60), default="", index=True)
    address_string: Mapped[str] = mapped_column(String(500), default="")
    address_id: Mapped[str] = mapped_column(String(60), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    media_url: Mapped[str] = mapped_column(String(2000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expected_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Returned to the sender; looks the request up (tokens/{token}). Not a secret of the city.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    # Private: never in a public answer.
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    device_id: Mapped[str] = mapped_column(String(200), default="")
    account_id: Mapped[str] = mapped_column(String(200), default="")
    submitted_via: Mapped[str] = mapped_column(String(100), default="")  # key or staff name
    # Who sent it, as a digest of key, address and device: floods of identical reports.
    client: Mapped[str] = mapped_column(String(64), default="")
    # A duplicate merged into another report points at the kept one.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports_requests.id", ondelete="SET NULL"), default=None, index=True
    )

    service: Mapped[ReportService] = relationship(lazy="joined")
    changes: Mapped[list[StatusChange]] = relationship(
        back_populates="request",
        order_by=lambda: StatusChange.id,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    photos: Mapped[list[ReportPhoto]] = relationship(
        back_populates="request",
        order_by=lambda: ReportPhoto.id,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ReportPhoto(Base):
    """A photo of a report, as published: re-encoded without any metadata, resized, with a
    thumbnail. Both files are in the content-hash file store."""

    __tablename__ = "reports_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("reports_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="report")
    digest: Mapped[str] = mapped_column(String(64), index=True)
    thumb_digest: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    by_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="photos")


class StatusChange(Base):
    """One step of a request's history: the status it went to, the public note, who, when."""

    __tablename__ = "reports_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("reports_requests.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(String(16), default="")
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")  # public
    department_ja: Mapped[str] = mapped_column(String(100), default="")
    by_name: Mapped[str] = mapped_column(String(64), default="")  # staff login, or "resident"
    at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="changes")


class ReportApiKey(Base):
    """An Open311 api_key given to an application that posts reports. Only its SHA-256 is kept."""

    __tablename__ = "reports_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(254), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
