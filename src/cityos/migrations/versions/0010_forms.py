"""forms: online form definitions (seeded with the shipped forms), submissions, their history

Revision ID: 0010_forms
Revises: 0009_residents
Create Date: 2026-11-26 11:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db
from cityos.forms.catalog import form_rows

revision = "0010_forms"
down_revision = "0009_residents"
branch_labels = ("forms",)
depends_on = None


def upgrade() -> None:
    definitions = op.create_table(
        "form_definitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("procedure_id", sa.String(length=40), nullable=False),
        sa.Column("title_ja", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("department_en", sa.String(length=100), nullable=False),
        sa.Column("intro_ja", sa.Text(), nullable=False),
        sa.Column("intro_en", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_definitions")),
    )
    op.create_table(
        "form_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["form_definitions.id"],
            name=op.f("fk_form_submissions_form_id_form_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_form_submissions_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submissions")),
        sa.UniqueConstraint(
            "resident_id",
            "idempotency_key",
            name=op.f("uq_form_submissions_resident_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        for column in ("resident_id", "form_id", "department_ja", "status"):
            batch_op.create_index(batch_op.f(f"ix_form_submissions_{column}"), [column])
    op.create_table(
        "form_submission_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["form_submissions.id"],
            name=op.f("fk_form_submission_events_submission_id_form_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission_events")),
    )
    with op.batch_alter_table("form_submission_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_submission_events_submission_id"), ["submission_id"]
        )
    # The forms start as shipped; staff edit them from there.
    now = cityos.db.utcnow()
    # Only this revision's columns: later revisions add (and fill) the newer ones.
    rows = [{k: v for k, v in row.items() if k in definitions.c} for row in form_rows()]
    op.bulk_insert(definitions, [{**row, "updated_at": now} for row in rows])


def downgrade() -> None:
    op.drop_table("form_submission_events")
    op.drop_table("form_submissions")
    op.drop_table("form_definitions")
