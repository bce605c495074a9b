"""The readings store: every reading filed and kept, current values, threshold states.

:func:`record_readings` is the one way readings get in (NGSI-LD, CSV, demo, CLI). Per
station attribute it sorts the new readings by time and files each one:

* ``duplicate`` — a reading with the same station, attribute and observedAt is stored (or
  came earlier in the same write);
* ``out_of_order`` — older than the latest ``ok`` reading;
* ``impossible`` — below or above the attribute's limits, changing faster than physically
  possible since the previous ``ok`` reading, or more than a few minutes in the future;
* ``ok`` — everything else: it becomes the current value and is checked against the
  thresholds.

Flagged readings are stored like the others, so nothing sent is lost, but they never move
the current value nor raise an alarm. This path works on Core rows, a few statements per
write whatever its size: it is the fast path of the batch upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from cityos.core.events import SensorOffline, ThresholdCrossed, emit
from cityos.db import utcnow
from cityos.sensors.kinds import FUTURE_TOLERANCE, limits_for, unit_symbol
from cityos.sensors.models import (
    FLAG_DUPLICATE,
    FLAG_IMPOSSIBLE,
    FLAG_OK,
    FLAG_OUT_OF_ORDER,
    CurrentValue,
    Reading,
    Station,
    Threshold,
    ThresholdCrossing,
)

_READINGS = cast(Table, Reading.__table__)
_CURRENT = cast(Table, CurrentValue.__table__)
_CROSSINGS = cast(Table, ThresholdCrossing.__table__)
_STATIONS = cast(Table, Station.__table__)
_THRESHOLDS = cast(Table, Threshold.__table__)
_CHUNK = 500  # bound parameters per IN (...)
NOTE_LENGTH = 300


@dataclass(slots=True)
class ReadingIn:
    """One reading to record, its value already in the attribute's canonical unit."""

    station_id: int
    attribute: str
    value: float
    observed_at: datetime
    unit_code: str = ""
    line: int = 0  # where it came from (a CSV line), for reports


@dataclass(frozen=True, slots=True)
class Outcome:
    flag: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CurrentReading:
    value: float
    unit_code: str
    observed_at: datetime


@dataclass(slots=True)
class Level:
    """A threshold of a station and its state (above or not)."""

    id: int
    attribute: str
    rank: int
    name: str
    value: float
    hysteresis: float
    above: bool
    changed: bool = False
    changed_at: datetime | None = None


@dataclass(slots=True)
class Gauge:
    """What recording needs to know of a station."""

    id: int
    entity_id: str
    name: str
    town: str
    limits: dict[str, Any]
    expected_interval_s: int
    last_seen_at: datetime | None
    offline: bool
    levels: list[Level]
    seen: bool = False


DUPLICATE = Outcome(FLAG_DUPLICATE, "同じ時刻の値が既にあります / a reading for this time exists")
OUT_OF_ORDER = Outcome(
    FLAG_OUT_OF_ORDER, "最新の値より古い時刻です / older than the latest reading"
)
OK = Outcome(FLAG_OK)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def load_gauges(session: Session, station_ids: Iterable[int]) -> dict[int, Gauge]:
    ids = sorted(set(station_ids))
    gauges: dict[int, Gauge] = {}
    s = _STATIONS.c
    t = _THRESHOLDS.c
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                s.id, s.entity_id, s.name, s.town, s.limits, s.expected_interval_s,
                s.last_seen_at, s.offline,
            ).where(s.id.in_(chunk))
        )  # fmt: skip
        for sid, entity_id, name, town, limits, interval, last_seen, offline in rows:
            gauges[sid] = Gauge(
                sid, entity_id, name, town, limits or {}, interval, last_seen, offline, []
            )
        levels = session.execute(
            select(t.station_id, t.id, t.attribute, t.rank, t.name, t.value, t.hysteresis, t.above)
            .where(t.station_id.in_(chunk))
            .order_by(t.station_id, t.attribute, t.rank)
        )
        for sid, tid, attribute, rank, name, value, hysteresis, above in levels:
            gauges[sid].levels.append(Level(tid, attribute, rank, name, value, hysteresis, above))
    return gauges


def current_values(
    session: Session, station_ids: Iterable[int] | None
) -> dict[tuple[int, str], CurrentReading]:
    """The current value of each (station, attribute); every station when ids is None."""
    c = _CURRENT.c
    query = select(c.station_id, c.attribute, c.value, c.unit_code, c.observed_at)
    if station_ids is None:
        return {(sid, a): CurrentReading(v, u, at) for sid, a, v, u, at in session.execute(query)}
    found: dict[tuple[int, str], CurrentReading] = {}
    for chunk in _chunks(sorted(set(station_ids))):
        for sid, a, v, u, at in session.execute(query.where(c.station_id.in_(chunk))):
            found[(sid, a)] = CurrentReading(v, u, at)
    return found


def _stored_times(
    session: Session, candidates: dict[tuple[int, str], set[datetime]]
) -> set[tuple[int, str, datetime]]:
    """Which of the candidate (station, attribute, time) already have a stored reading."""
    r = _READINGS.c
    found: set[tuple[int, str, datetime]] = set()
    for (station_id, attribute), times in candidates.items():
        for chunk in _chunks(sorted(times)):
            rows = session.execute(
                select(r.observed_at).where(
                    r.station_id == station_id, r.attribute == attribute, r.observed_at.in_(chunk)
                )
            )
            found.update((station_id, attribute, at) for (at,) in rows)
    return found


class _Filing:
    """The readings of one station attribute in one write, filed in time order."""

    def __init__(
        self, gauge: Gauge, attribute: str, latest: CurrentReading | None, received_at: datetime
    ) -> None:
        self.gauge = gauge
        self.attribute = attribute
        self.latest = latest
        self.moved = False
        self.levels = [level for level in gauge.levels if level.attribute == attribute]
        self.limits = limits_for(gauge.limits, attribute)
        self.future_limit = received_at + FUTURE_TOLERANCE
        self.seen: set[datetime] = set()
        self.last_alive: datetime | None = None

    def file(self, reading: ReadingIn, stored: set[tuple[int, str, datetime]]) -> Outcome:
        at = reading.observed_at
        latest = self.latest
        if at in self.seen or (latest is not None and at == latest.observed_at):
            return DUPLICATE
        self.seen.add(at)
        if latest is not None and at < latest.observed_at:
            if (self.gauge.id, self.attribute, at) in stored:
                return DUPLICATE
            return OUT_OF_ORDER
        if at <= self.future_limit and (self.last_alive is None or at > self.last_alive):
            self.last_alive = at
        problem = self._impossible(reading)
        if problem is not None:
            return Outcome(FLAG_IMPOSSIBLE, problem[:NOTE_LENGTH])
        self.latest = CurrentReading(reading.value, reading.unit_code, at)
        self.moved = True
        return OK

    def _impossible(self, reading: ReadingIn) -> str | None:
        value, limits = reading.value, self.limits
        unit = unit_symbol(reading.unit_code)
        if reading.observed_at > self.future_limit:
            return "未来の時刻です / observedAt is in the future"
        if "min" in limits and value < limits["min"]:
            low = limits["min"]
            return f"下限 {low:g} {unit} 未満です / below the minimum {low:g} {unit}"
        if "max" in limits and value > limits["max"]:
            high = limits["max"]
            return f"上限 {high:g} {unit} 超です / above the maximum {high:g} {unit}"
        latest = self.latest
        if "maxChange" in limits and latest is not None:
            window = limits.get("maxChangeSeconds", 600.0)
            elapsed = (reading.observed_at - latest.observed_at).total_seconds()
            allowed = limits["maxChange"] * max(1.0, elapsed / window)
            change = value - latest.value
            if abs(change) > allowed:
                minutes, step = elapsed / 60, limits["maxChange"]
                return (
                    f"{minutes:.0f}分で {change:+.2f} {unit} はありえない変化です（上限 {step:g} "
                    f"{unit}/{window / 60:.0f}分） / a change of {change:+.2f} {unit} in "
                    f"{minutes:.0f} min exceeds {step:g} {unit} per {window / 60:.0f} min"
                )
        return None

    def crossings(self, reading: ReadingIn) -> list[tuple[Level, str]]:
        """Levels this ok reading crosses: up in rank order, then down from the top."""
        value = reading.value
        ups = [lv for lv in self.levels if not lv.above and value >= lv.value]
        downs = [
            lv for lv in reversed(self.levels) if lv.above and value < lv.value - lv.hysteresis
        ]
        for level in ups:
            level.above, level.changed, level.changed_at = True, True, reading.observed_at
        for level in downs:
            level.above, level.changed, level.changed_at = False, True, reading.observed_at
        return [(lv, "up") for lv in ups] + [(lv, "down") for lv in downs]


def record_readings(
    session: Session, readings: Sequence[ReadingIn], *, received_at: datetime | None = None
) -> list[Outcome]:
    """Store every reading, each filed as ok or set apart (see the module docstring).

    The caller has taken the write lock (``service.lock_for_readings``) so that no other
    writer files readings of the same stations meanwhile. Outcomes come back in the order of
    ``readings``. Threshold crossings and stations back online are emitted as events,
    delivered after the commit.
    """
    if not readings:
        return []
    received_at = received_at or utcnow()
    session.flush()  # stations and thresholds changed by the ORM in this transaction
    groups: dict[tuple[int, str], list[int]] = {}
    for index, reading in enumerate(readings):
        groups.setdefault((reading.station_id, reading.attribute), []).append(index)
    station_ids = {station_id for station_id, _attribute in groups}
    gauges = load_gauges(session, station_ids)
    current = current_values(session, station_ids)
    filings: dict[tuple[int, str], _Filing] = {}
    candidates: dict[tuple[int, str], set[datetime]] = {}
    for key, indexes in groups.items():
        latest = current.get(key)
        filings[key] = _Filing(gauges[key[0]], key[1], latest, received_at)
        if latest is not None:
            older = {
                readings[i].observed_at
                for i in indexes
                if readings[i].observed_at < latest.observed_at
            }
            if older:
                candidates[key] = older
    stored = _stored_times(session, candidates) if candidates else set()

    outcomes: list[Outcome] = [OK] * len(readings)
    rows: list[tuple[int, str, float, datetime, str, str | None]] = []
    crossing_rows: list[dict[str, Any]] = []
    for key, indexes in groups.items():
        filing = filings[key]
        indexes.sort(key=lambda i: readings[i].observed_at)
        for index in indexes:
            reading = readings[index]
            outcome = filing.file(reading, stored)
            outcomes[index] = outcome
            rows.append(
                (
                    reading.station_id,
                    reading.attribute,
                    reading.value,
                    reading.observed_at,
                    outcome.flag,
                    outcome.note,
                )
            )
            if outcome is OK and filing.levels:
                for level, direction in filing.crossings(reading):
                    crossing_rows.append(
                        _crossing(session, filing.gauge, level, direction, reading, received_at)
                    )
    _insert_readings(session, rows, received_at)
    if crossing_rows:
        session.execute(_CROSSINGS.insert(), crossing_rows)
    _save_levels(session, gauges.values())
    _move_current_values(session, filings, current)
    _mark_alive(session, filings, received_at)
    _expire_orm_copies(session, station_ids)
    return outcomes


_SQLITE_INSERT = (
    "INSERT INTO sensor_readings (station_id, attribute, value, observed_at, received_at, flag,"
    " note) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's SQLite DateTime stores it for ``cityos.db.UTCDateTime``:
    naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert_readings(
    session: Session,
    rows: list[tuple[int, str, float, datetime, str, str | None]],
    received_at: datetime,
) -> None:
    """One multi-row insert. On SQLite the times are formatted here: SQLAlchemy's per-value
    type processing would cost more than the insert itself (measured: benchmarks/sensor_ingest.py)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        received = sqlite_time(received_at)
        connection.exec_driver_sql(
            _SQLITE_INSERT,
            [
                (sid, a, v, sqlite_time(at), received, flag, note)
                for sid, a, v, at, flag, note in rows
            ],
        )
        return
    keys = ("station_id", "attribute", "value", "observed_at", "flag", "note")
    session.execute(
        _READINGS.insert(),
        [dict(zip(keys, row, strict=True), received_at=received_at) for row in rows],
    )


def _crossing(
    session: Session,
    gauge: Gauge,
    level: Level,
    direction: str,
    reading: ReadingIn,
    received_at: datetime,
) -> dict[str, Any]:
    emit(
        session,
        ThresholdCrossed(
            station_id=gauge.entity_id,
            station_name=gauge.name,
            threshold=level.name,
            rank=level.rank,
            direction=direction,
            value=reading.value,
            unit=unit_symbol(reading.unit_code),
            observed_at=reading.observed_at.astimezone(UTC).isoformat(),
            town=gauge.town,
        ),
    )
    return {
        "station_id": gauge.id,
        "attribute": level.attribute,
        "rank": level.rank,
        "name": level.name,
        "threshold_value": level.value,
        "direction": direction,
        "value": reading.value,
        "at": reading.observed_at,
        "recorded_at": received_at,
    }


def _save_levels(session: Session, gauges: Iterable[Gauge]) -> None:
    changed = [
        {"b_id": level.id, "b_above": level.above, "b_changed_at": level.changed_at}
        for gauge in gauges
        for level in gauge.levels
        if level.changed
    ]
    if changed:
        t = _THRESHOLDS.c
        session.execute(
            update(_THRESHOLDS)
            .where(t.id == bindparam("b_id"))
            .values(above=bindparam("b_above"), changed_at=bindparam("b_changed_at")),
            changed,
        )


def _move_current_values(
    session: Session,
    filings: Mapping[tuple[int, str], _Filing],
    before: Mapping[tuple[int, str], CurrentReading],
) -> None:
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for (station_id, attribute), filing in filings.items():
        latest = filing.latest
        if not filing.moved or latest is None:
            continue
        if (station_id, attribute) in before:
            updates.append(
                {
                    "b_station_id": station_id,
                    "b_attribute": attribute,
                    "b_value": latest.value,
                    "b_unit_code": latest.unit_code,
                    "b_observed_at": latest.observed_at,
                }
            )
        else:
            inserts.append(
                {
                    "station_id": station_id,
                    "attribute": attribute,
                    "value": latest.value,
                    "unit_code": latest.unit_code,
                    "observed_at": latest.observed_at,
                }
            )
    c = _CURRENT.c
    if updates:
        session.execute(
            update(_CURRENT)
            .where(
                c.station_id == bindparam("b_station_id"), c.attribute == bindparam("b_attribute")
            )
            .values(
                value=bindparam("b_value"),
                unit_code=bindparam("b_unit_code"),
                observed_at=bindparam("b_observed_at"),
            ),
            updates,
        )
    if inserts:
        session.execute(_CURRENT.insert(), inserts)


def _mark_alive(
    session: Session, filings: Mapping[tuple[int, str], _Filing], received_at: datetime
) -> None:
    """Move each station's last-seen time; a station that was offline reports back."""
    alive: dict[int, tuple[Gauge, datetime]] = {}
    for (station_id, _attribute), filing in filings.items():
        at = filing.last_alive
        if at is not None and (station_id not in alive or at > alive[station_id][1]):
            alive[station_id] = (filing.gauge, at)
    changed: list[dict[str, Any]] = []
    for gauge, at in alive.values():
        last_seen = gauge.last_seen_at if gauge.last_seen_at and gauge.last_seen_at > at else at
        back = gauge.offline and received_at - at <= timedelta(seconds=gauge.expected_interval_s)
        if last_seen == gauge.last_seen_at and not back:
            continue
        changed.append(
            {"b_id": gauge.id, "b_last_seen_at": last_seen, "b_offline": gauge.offline and not back}
        )
        if back:
            emit(
                session,
                SensorOffline(
                    station_id=gauge.entity_id,
                    station_name=gauge.name,
                    last_seen=at.astimezone(UTC).isoformat(),
                    back_online=True,
                ),
            )
    if changed:
        s = _STATIONS.c
        session.execute(
            update(_STATIONS)
            .where(s.id == bindparam("b_id"))
            .values(last_seen_at=bindparam("b_last_seen_at"), offline=bindparam("b_offline")),
            changed,
        )


def _expire_orm_copies(session: Session, station_ids: set[int]) -> None:
    """Stations and thresholds loaded as objects in this session are stale now."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Station) and obj.id in station_ids) or (
            isinstance(obj, Threshold) and obj.station_id in station_ids
        ):
            session.expire(obj)
