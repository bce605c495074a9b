"""forms: when an application last came in to staff (filed, or resubmitted after a 差戻し)

Revision ID: 0018_forms_received_at
Revises: 0016_resident_services
Create Date: 2026-11-27 10:00:00

The staff inbox is ordered by it, newest first, so a corrected application comes back to the
top. Existing applications get the time of the resident's latest resubmission (the history's
last event with a correction page's key: only resubmissions have one), or the time they were filed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0018_forms_received_at"
down_revision = "0016_resident_services"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No batch mode: on SQLite a batch that rebuilds form_submissions drops the old table, and
    # with foreign keys on that deletes every history row (ON DELETE CASCADE). Adding a column
    # and an index need no rebuild.
    op.add_column(
        "form_submissions",
        sa.Column("received_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
    )
    submissions = sa.table(
        "form_submissions",
        sa.column("id", sa.Integer()),
        sa.column("created_at", cityos.db.UTCDateTime(timezone=True)),
        sa.column("received_at", cityos.db.UTCDateTime(timezone=True)),
    )
    events = sa.table(
        "form_submission_events",
        sa.column("submission_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("idempotency_key", sa.String()),
        sa.column("created_at", cityos.db.UTCDateTime(timezone=True)),
    )
    last_in = (
        sa.select(sa.func.max(events.c.created_at))
        .where(
            events.c.submission_id == submissions.c.id,
            events.c.status == "received",
            events.c.idempotency_key.is_not(None),
        )
        .scalar_subquery()
    )
    op.execute(
        submissions.update().values(received_at=sa.func.coalesce(last_in, submissions.c.created_at))
    )
    if op.get_bind().dialect.name != "sqlite":
        # SQLite cannot make a column NOT NULL without the rebuild above; the app always sets it.
        op.alter_column(
            "form_submissions",
            "received_at",
            existing_type=cityos.db.UTCDateTime(timezone=True),
            nullable=False,
        )
    op.create_index(op.f("ix_form_submissions_received_at"), "form_submissions", ["received_at"])


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place: no rebuild, so the history stays.
    op.drop_index(op.f("ix_form_submissions_received_at"), table_name="form_submissions")
    op.drop_column("form_submissions", "received_at")
