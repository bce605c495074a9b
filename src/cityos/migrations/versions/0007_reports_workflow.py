"""reports workflow: photos, merged duplicates, the sending client (floods of identical reports)

Revision ID: 0007_reports_workflow
Revises: 0006_reports
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0007_reports_workflow"
down_revision = "0006_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_requests_merged_into_id_reports_requests"),
            "reports_requests",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_reports_requests_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_index("ix_reports_requests_client", ["client", "requested_at"])

    op.create_table(
        "reports_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("thumb_digest", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reports_requests.id"],
            name=op.f("fk_reports_photos_request_id_reports_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_photos")),
    )
    with op.batch_alter_table("reports_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_photos_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reports_photos_digest"), ["digest"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reports_photos_thumb_digest"), ["thumb_digest"], unique=False
        )


def downgrade() -> None:
    op.drop_table("reports_photos")
    with op.batch_alter_table("reports_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_requests_client")
        batch_op.drop_index(batch_op.f("ix_reports_requests_merged_into_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_reports_requests_merged_into_id_reports_requests"), type_="foreignkey"
        )
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("client")
