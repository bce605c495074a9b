"""residents: resident accounts, profiles, household members, saved checklists; the procedure
catalog (seeded with the shipped procedures)

Revision ID: 0009_residents
Revises: 0001
Create Date: 2026-11-26 10:41:26.146644
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db
from cityos.procedures.catalog import procedure_rows

revision = "0009_residents"
down_revision = "0001"
branch_labels = ("residents",)
depends_on = None


def upgrade() -> None:
    procedures = op.create_table(
        "procedures",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_easy", sa.String(length=200), nullable=False),
        sa.Column("summary_ja", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("summary_easy", sa.Text(), nullable=False),
        sa.Column("department_ja", sa.String(length=100), nullable=False),
        sa.Column("department_en", sa.String(length=100), nullable=False),
        sa.Column("who_ja", sa.Text(), nullable=False),
        sa.Column("who_en", sa.Text(), nullable=False),
        sa.Column("bring", sa.JSON(), nullable=False),
        sa.Column("fee_ja", sa.String(length=200), nullable=False),
        sa.Column("fee_en", sa.String(length=200), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=True),
        sa.Column("deadline_ja", sa.String(length=200), nullable=False),
        sa.Column("deadline_en", sa.String(length=200), nullable=False),
        sa.Column("deadline_easy", sa.String(length=200), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("online_ja", sa.Text(), nullable=False),
        sa.Column("online_en", sa.Text(), nullable=False),
        sa.Column("where_ja", sa.String(length=200), nullable=False),
        sa.Column("where_en", sa.String(length=200), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
    )
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("identity_method", sa.String(length=16), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("email", name=op.f("uq_residents_email")),
    )
    op.create_table(
        "resident_checklists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("procedure_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_resident_checklists_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_checklists")),
    )
    with op.batch_alter_table("resident_checklists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_checklists_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "resident_household_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_resident_household_members_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_household_members")),
    )
    with op.batch_alter_table("resident_household_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_household_members_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "resident_profiles",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("address_input", sa.String(length=300), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_resident_profiles_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_resident_profiles")),
    )
    # The catalog starts with the shipped procedures; staff edit it from there.
    now = cityos.db.utcnow()
    # Only this revision's columns: later revisions add (and fill) the newer ones.
    rows = [{k: v for k, v in row.items() if k in procedures.c} for row in procedure_rows()]
    op.bulk_insert(procedures, [{**row, "updated_at": now} for row in rows])


def downgrade() -> None:
    op.drop_table("resident_profiles")
    with op.batch_alter_table("resident_household_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_household_members_resident_id"))

    op.drop_table("resident_household_members")
    with op.batch_alter_table("resident_checklists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_checklists_resident_id"))

    op.drop_table("resident_checklists")
    op.drop_table("residents")
    op.drop_table("procedures")
