"""sensors: stations, thresholds, readings, current values, crossings and CSV uploads

Revision ID: 0002_sensors
Revises: 0001
Create Date: 2026-11-26 04:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0002_sensors"
down_revision = "0001"
branch_labels = ("sensors",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("expected_interval_s", sa.Integer(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("last_seen_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_stations")),
        sa.UniqueConstraint("code", name=op.f("uq_sensor_stations_code")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_sensor_stations_entity_id")),
    )
    op.create_table(
        "sensor_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("lines_read", sa.Integer(), nullable=False),
        sa.Column("readings_stored", sa.Integer(), nullable=False),
        sa.Column("readings_flagged", sa.Integer(), nullable=False),
        sa.Column("lines_rejected", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_uploads")),
    )
    op.create_table(
        "sensor_current_values",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit_code", sa.String(length=10), nullable=False),
        sa.Column("observed_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["sensor_stations.id"],
            name=op.f("fk_sensor_current_values_station_id_sensor_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", "attribute", name=op.f("pk_sensor_current_values")),
    )
    op.create_table(
        "sensor_readings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("observed_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["sensor_stations.id"],
            name=op.f("fk_sensor_readings_station_id_sensor_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_readings")),
    )
    op.create_index(
        "ix_sensor_readings_series",
        "sensor_readings",
        ["station_id", "attribute", "observed_at"],
        unique=False,
    )
    op.create_table(
        "sensor_threshold_crossings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=60), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("threshold_value", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["sensor_stations.id"],
            name=op.f("fk_sensor_threshold_crossings_station_id_sensor_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_threshold_crossings")),
    )
    op.create_index(
        "ix_sensor_threshold_crossings_station",
        "sensor_threshold_crossings",
        ["station_id", "at"],
        unique=False,
    )
    op.create_table(
        "sensor_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=60), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("hysteresis", sa.Float(), nullable=False),
        sa.Column("above", sa.Boolean(), nullable=False),
        sa.Column("changed_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["sensor_stations.id"],
            name=op.f("fk_sensor_thresholds_station_id_sensor_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_thresholds")),
    )
    op.create_index(
        "ix_sensor_thresholds_station",
        "sensor_thresholds",
        ["station_id", "attribute", "rank"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sensor_thresholds_station", table_name="sensor_thresholds")
    op.drop_table("sensor_thresholds")
    op.drop_index("ix_sensor_threshold_crossings_station", table_name="sensor_threshold_crossings")
    op.drop_table("sensor_threshold_crossings")
    op.drop_index("ix_sensor_readings_series", table_name="sensor_readings")
    op.drop_table("sensor_readings")
    op.drop_table("sensor_current_values")
    op.drop_table("sensor_uploads")
    op.drop_table("sensor_stations")
