"""resident services: resubmitting returned applications, confirmed resident e-mail addresses

Revision ID: 0016_resident_services
Revises: 0010_forms, 0014_notice_email
Create Date: 2026-11-26 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0016_resident_services"
down_revision = ("0010_forms", "0014_notice_email")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("form_submissions") as batch:
        batch.add_column(
            sa.Column("resubmissions", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("form_submission_events") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_form_submission_events_submission_id"), ["submission_id", "idempotency_key"]
        )
    with op.batch_alter_table("residents") as batch:
        batch.add_column(
            sa.Column("email_confirmed_at", cityos.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("pending_email", sa.String(length=320), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("confirmation_sent_at", cityos.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Accounts made before confirmation existed keep getting their e-mails.
    op.execute(
        sa.text(
            "UPDATE residents SET email_confirmed_at = created_at WHERE email_confirmed_at IS NULL"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("confirmation_sent_at")
        batch.drop_column("pending_email")
        batch.drop_column("email_confirmed_at")
    with op.batch_alter_table("form_submission_events") as batch:
        batch.drop_constraint(op.f("uq_form_submission_events_submission_id"), type_="unique")
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("form_submissions") as batch:
        batch.drop_column("resubmissions")
