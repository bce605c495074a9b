"""Tables of the sensors domain: stations, their thresholds, readings and what came of them.

A station is one NGSI-LD entity (a river level gauge ``WaterObserved`` or a rain gauge
``WeatherObserved``). Every reading is one row of ``sensor_readings``, flagged when it is a
duplicate, arrived out of order or cannot be physically true; only readings flagged ``ok``
move the current value (``sensor_current_values``) and the threshold states.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, utcnow

# A reading table grows by millions of rows; SQLite needs INTEGER for its rowid alias.
READING_ID = BigInteger().with_variant(Integer(), "sqlite")

# What a stored reading is. Only "ok" readings are current values, charts and alarms.
FLAG_OK = "ok"
FLAG_DUPLICATE = "duplicate"  # same station, attribute and observedAt as a stored reading
FLAG_OUT_OF_ORDER = "out_of_order"  # older than the station's latest reading
FLAG_IMPOSSIBLE = "impossible"  # outside the physical limits, a jump, or in the future
FLAGS = (FLAG_OK, FLAG_DUPLICATE, FLAG_OUT_OF_ORDER, FLAG_IMPOSSIBLE)


class Station(Base):
    """A measuring station: its NGSI-LD identity, place, expected rhythm and limits."""

    __tablename__ = "sensor_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(200), unique=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    expected_interval_s: Mapped[int] = mapped_column(default=600)
    # {"height": {"min": 0, "max": 20, "maxChange": 2.0, "maxChangeSeconds": 600}}
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Other NGSI-LD attributes, kept as they were sent (normalized form).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The newest observedAt of a reading that was not a duplicate nor out of order.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # Whether SensorOffline was emitted and not yet answered by back_online.
    offline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)

    thresholds: Mapped[list[Threshold]] = relationship(
        back_populates="station",
        order_by=lambda: (Threshold.attribute, Threshold.rank),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Threshold(Base):
    """One alarm level of a station (水防団待機水位 … はん濫危険水位) and whether it is passed.

    ``above`` is the state row the issue asks for: a reading that crosses the level upward
    sets it (one ThresholdCrossed "up"); only a reading below ``value - hysteresis`` clears
    it again (one "down").
    """

    __tablename__ = "sensor_thresholds"
    __table_args__ = (Index("ix_sensor_thresholds_station", "station_id", "attribute", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("sensor_stations.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(60))
    rank: Mapped[int]
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    value: Mapped[float] = mapped_column(Float)
    hysteresis: Mapped[float] = mapped_column(Float, default=0.0)
    above: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)

    station: Mapped[Station] = relationship(back_populates="thresholds")


class CurrentValue(Base):
    """The latest ``ok`` reading of each station attribute (what maps and lists show)."""

    __tablename__ = "sensor_current_values"

    station_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_stations.id", ondelete="CASCADE"), primary_key=True
    )
    attribute: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    unit_code: Mapped[str] = mapped_column(String(10), default="")
    observed_at: Mapped[datetime]


class Reading(Base):
    """One value of one attribute at one time, as received; never updated nor dropped."""

    __tablename__ = "sensor_readings"
    __table_args__ = (Index("ix_sensor_readings_series", "station_id", "attribute", "observed_at"),)

    id: Mapped[int] = mapped_column(READING_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("sensor_stations.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime]
    received_at: Mapped[datetime]
    flag: Mapped[str] = mapped_column(String(16), default=FLAG_OK)
    note: Mapped[str | None] = mapped_column(String(300), default=None)


class ThresholdCrossing(Base):
    """The history of crossings: every up and every down, with the reading that caused it."""

    __tablename__ = "sensor_threshold_crossings"
    __table_args__ = (Index("ix_sensor_threshold_crossings_station", "station_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("sensor_stations.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(60))
    rank: Mapped[int]
    name: Mapped[str] = mapped_column(String(60))
    threshold_value: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(4))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadingUpload(Base):
    """A CSV file of readings uploaded by staff, with its report (line numbers, reasons)."""

    __tablename__ = "sensor_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    encoding: Mapped[str] = mapped_column(String(20), default="")
    lines_read: Mapped[int] = mapped_column(default=0)
    readings_stored: Mapped[int] = mapped_column(default=0)
    readings_flagged: Mapped[int] = mapped_column(default=0)
    lines_rejected: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
