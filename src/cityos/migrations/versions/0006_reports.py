"""reports: the service catalog, service requests, their status changes, Open311 api keys

Revision ID: 0006_reports
Revises: 0001
Create Date: 2026-11-26 07:49:58.406012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db
from cityos.reports.catalog import service_rows

revision = "0006_reports"
down_revision = "0001"
branch_labels = ("reports",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_reports_api_keys_key_hash")),
    )
    services = op.create_table(
        "reports_services",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_ja", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("group_ja", sa.String(length=100), nullable=False),
        sa.Column("group_en", sa.String(length=100), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("department_en", sa.String(length=100), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_reports_services")),
    )
    op.create_table(
        "reports_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("department_en", sa.String(length=100), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("town", sa.String(length=60), nullable=False),
        sa.Column("address_string", sa.String(length=500), nullable=False),
        sa.Column("address_id", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("requested_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("submitted_via", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["reports_services.code"],
            name=op.f("fk_reports_requests_service_code_reports_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_requests")),
        sa.UniqueConstraint("token", name=op.f("uq_reports_requests_token")),
    )
    with op.batch_alter_table("reports_requests", schema=None) as batch_op:
        batch_op.create_index("ix_reports_requests_requested", ["requested_at"], unique=False)
        batch_op.create_index(
            "ix_reports_requests_service", ["service_code", "requested_at"], unique=False
        )
        batch_op.create_index(
            "ix_reports_requests_status", ["status", "requested_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reports_requests_town"), ["town"], unique=False)

    op.create_table(
        "reports_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("by_name", sa.String(length=64), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reports_requests.id"],
            name=op.f("fk_reports_status_changes_request_id_reports_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_status_changes")),
    )
    with op.batch_alter_table("reports_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_status_changes_request_id"), ["request_id"], unique=False
        )

    # The city's catalog (reports.catalog). A later change to the catalog comes with a migration
    # that updates these rows as an upsert: a fresh database already gets the new rows here.
    op.bulk_insert(services, service_rows())


def downgrade() -> None:
    with op.batch_alter_table("reports_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_status_changes_request_id"))

    op.drop_table("reports_status_changes")
    with op.batch_alter_table("reports_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_requests_town"))
        batch_op.drop_index("ix_reports_requests_status")
        batch_op.drop_index("ix_reports_requests_service")
        batch_op.drop_index("ix_reports_requests_requested")

    op.drop_table("reports_requests")
    op.drop_table("reports_services")
    op.drop_table("reports_api_keys")
