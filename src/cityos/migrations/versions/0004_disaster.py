"""disaster

Revision ID: 0004_disaster
Revises: 0001
Create Date: 2026-11-26 03:15:13.644287
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0004_disaster"
down_revision = "0001"
branch_labels = ("disaster",)
depends_on = None


def upgrade() -> None:

    op.create_table(
        "disaster_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identifier", sa.String(length=120), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("sent", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("hazard", sa.String(length=30), nullable=False),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.Column("headline_ja", sa.String(length=300), nullable=False),
        sa.Column("headline_en", sa.String(length=300), nullable=False),
        sa.Column("text_ja", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("text_easy", sa.Text(), nullable=False),
        sa.Column("expires", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_alerts")),
        sa.UniqueConstraint("identifier", name=op.f("uq_disaster_alerts_identifier")),
    )
    with op.batch_alter_table("disaster_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disaster_alerts_sent"), ["sent"], unique=False)

    op.create_table(
        "disaster_blocked_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("radius_m", sa.Double(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reported_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_blocked_places")),
    )
    op.create_table(
        "disaster_mode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("hazard", sa.String(length=30), nullable=False),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.Column("message_ja", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("changed_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_mode")),
    )
    op.create_table(
        "disaster_mode_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("hazard", sa.String(length=30), nullable=False),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_mode_changes")),
    )
    op.create_table(
        "shelters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("pref", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=50), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("is_shelter", sa.Boolean(), nullable=False),
        sa.Column("is_emergency_site", sa.Boolean(), nullable=False),
        sa.Column("hazards", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("accepts", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("synced_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelters")),
        sa.UniqueConstraint("key", name=op.f("uq_shelters_key")),
    )
    op.create_table(
        "shelter_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shelter_id", sa.String(length=36), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
            name=op.f("fk_shelter_checkins_shelter_id_shelters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_checkins")),
        sa.UniqueConstraint("token", name=op.f("uq_shelter_checkins_token")),
    )
    with op.batch_alter_table("shelter_checkins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shelter_checkins_shelter_id"), ["shelter_id"], unique=False
        )

    op.create_table(
        "shelter_status",
        sa.Column("shelter_id", sa.String(length=36), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("wifi", sa.Boolean(), nullable=False),
        sa.Column("charging", sa.Boolean(), nullable=False),
        sa.Column("pets", sa.Boolean(), nullable=False),
        sa.Column("accessible_toilet", sa.Boolean(), nullable=False),
        sa.Column("nursing_room", sa.Boolean(), nullable=False),
        sa.Column("supplies_short", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
            name=op.f("fk_shelter_status_shelter_id_shelters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shelter_id", name=op.f("pk_shelter_status")),
    )
    op.create_table(
        "shelter_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shelter_id", sa.String(length=36), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
            name=op.f("fk_shelter_status_changes_shelter_id_shelters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_status_changes")),
    )
    with op.batch_alter_table("shelter_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shelter_status_changes_shelter", ["shelter_id", "at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("shelter_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_shelter_status_changes_shelter")

    op.drop_table("shelter_status_changes")
    op.drop_table("shelter_status")
    with op.batch_alter_table("shelter_checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shelter_checkins_shelter_id"))

    op.drop_table("shelter_checkins")
    op.drop_table("shelters")
    op.drop_table("disaster_mode_changes")
    op.drop_table("disaster_mode")
    op.drop_table("disaster_blocked_places")
    with op.batch_alter_table("disaster_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disaster_alerts_sent"))

    op.drop_table("disaster_alerts")
