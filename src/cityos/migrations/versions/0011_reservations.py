"""reservations: counters (seeded with labelled sample counters) and bookings

Revision ID: 0011_reservations
Revises: 0009_residents
Create Date: 2026-11-26 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db
from cityos.reservations.counters import counter_rows

revision = "0011_reservations"
down_revision = "0009_residents"
branch_labels = ("reservations",)
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "reservation_counters",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("place_ja", sa.String(length=200), nullable=False),
        sa.Column("place_en", sa.String(length=200), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("closed_dates", sa.JSON(), nullable=False),
        sa.Column("procedure_ids", sa.JSON(), nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_counters")),
    )
    op.create_table(
        "reservation_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.String(length=40), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("slot_start", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("procedure_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["reservation_counters.id"],
            name=op.f("fk_reservation_bookings_counter_id_reservation_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_reservation_bookings_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_bookings")),
        # At most `capacity` bookings per slot: each holds one seat number, once.
        sa.UniqueConstraint(
            "counter_id", "slot_start", "seat", name="uq_reservation_bookings_seat"
        ),
    )
    op.create_index(
        "ix_reservation_bookings_resident",
        "reservation_bookings",
        ["resident_id", "slot_start"],
        unique=False,
    )
    op.create_index(
        "uq_reservation_bookings_resident_slot",
        "reservation_bookings",
        ["resident_id", "counter_id", "slot_start"],
        unique=True,
        sqlite_where=sa.text("seat IS NOT NULL"),
        postgresql_where=sa.text("seat IS NOT NULL"),
    )
    now = cityos.db.utcnow()
    op.bulk_insert(counters, [{**row, "updated_at": now} for row in counter_rows()])


def downgrade() -> None:
    op.drop_index("uq_reservation_bookings_resident_slot", table_name="reservation_bookings")
    op.drop_index("ix_reservation_bookings_resident", table_name="reservation_bookings")
    op.drop_table("reservation_bookings")
    op.drop_table("reservation_counters")
