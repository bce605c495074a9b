"""The audit log: every staff write, and every staff read of personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.models import AuditEntry, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: str = "",
    *,
    summary: str = "",
    detail: dict[str, Any] | None = None,
    via: str = "web",
) -> AuditEntry:
    """Add an audit entry in the caller's transaction, so it commits with the change itself."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "system",
        action=action,
        target_type=target_type,
        target_id=target_id,
        summary=summary[:2000],
        detail=detail or {},
        via=via,
    )
    session.add(entry)
    return entry


def recent(
    session: Session, *, target_type: str = "", target_id: str = "", limit: int = 100
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    return list(session.scalars(query))
