"""The logic of the sensors domain: stations, readings, thresholds and offline detection.

Stations are registered and changed here (metadata checked as a whole before anything is
written); their readings are filed by :func:`cityos.sensors.timeseries.record_readings`,
which every writer uses — the NGSI-LD API, the CSV upload, the demo and the command line.

Thresholds (水防団待機水位 … はん濫危険水位) keep their state on their own row: a crossing
upward emits :class:`~cityos.core.events.ThresholdCrossed` ``up`` once, and only a reading
below ``value - hysteresis`` emits ``down``. :func:`check_offline` emits
:class:`~cityos.core.events.SensorOffline` once for a station silent longer than its expected
interval; its next reading emits ``back_online``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cityos.address import service as address
from cityos.core import audit
from cityos.core.errors import ConflictProblem, NotFoundProblem, ValidationProblem
from cityos.core.events import SensorOffline, emit
from cityos.core.models import User
from cityos.db import utcnow
from cityos.sensors import readings_csv
from cityos.sensors.kinds import (
    DEFAULT_HYSTERESIS,
    DEFAULT_INTERVAL_S,
    NORMAL,
    PRIMARY_ATTRIBUTE,
    RIVER_STATES,
    TIMESERIES_UNITS,
    WATER,
    canonical_unit,
    limits_for,
    threshold_names,
    unit_symbol,
)
from cityos.sensors.models import (
    FLAG_OK,
    CurrentValue,
    Reading,
    ReadingUpload,
    Station,
    Threshold,
    ThresholdCrossing,
)
from cityos.sensors.timeseries import (
    CurrentReading,
    Outcome,
    ReadingIn,
    current_values,
    record_readings,
)

# Writing stations and readings: staff and admin (core.auth.PERMISSIONS); analysts only read.
WRITE_PERMISSION = "sensors.write"
# A place given as coordinates is named after the nearest 町字 when it is this close.
TOWN_RADIUS_M = 2000.0
_CHUNK = 500


# --- plain values passed in and out --------------------------------------------------------


@dataclass
class ThresholdSpec:
    rank: int
    value: float
    name: str = ""
    name_en: str = ""
    attribute: str | None = None
    hysteresis: float | None = None
    unit_code: str = ""


@dataclass
class StationSpec:
    """What a writer says about a station; None means "not given, leave as it is"."""

    name: str | None = None
    name_en: str | None = None
    description: str | None = None
    town: str | None = None
    lat: float | None = None
    lon: float | None = None
    expected_interval_s: int | None = None
    thresholds: list[ThresholdSpec] | None = None
    limits: dict[str, dict[str, float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return self == StationSpec()


@dataclass
class EntityChange:
    """One entity of a write request: metadata and readings for one station."""

    entity_id: str
    entity_type: str | None
    spec: StationSpec
    readings: list[ReadingIn] = field(default_factory=list)
    attribute_names: list[str] = field(default_factory=list)


@dataclass
class StationView:
    """A station with what pages and the API show: current values, level, online state."""

    station: Station
    thresholds: list[Threshold]
    current: dict[str, CurrentReading]
    offline: bool
    level: int
    level_name: str
    level_name_en: str

    @property
    def primary(self) -> str:
        return PRIMARY_ATTRIBUTE[self.station.entity_type]

    @property
    def primary_reading(self) -> CurrentReading | None:
        return self.current.get(self.primary)

    @property
    def last_observed_at(self) -> datetime | None:
        times = [c.observed_at for c in self.current.values()]
        return max(times) if times else None

    @property
    def limits(self) -> dict[str, dict[str, float]]:
        found = {}
        for attribute in TIMESERIES_UNITS[self.station.entity_type]:
            limits = limits_of(self.station, attribute)
            if limits:
                found[attribute] = limits
        return found

    @property
    def state_key(self) -> str:
        """offline, or the level 0–4: what the map colours."""
        return "offline" if self.offline else f"level{self.level}"

    def unit_of(self, attribute: str) -> str:
        return TIMESERIES_UNITS[self.station.entity_type].get(attribute, "")


@dataclass
class UpsertResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[str, Exception]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


# --- stations ------------------------------------------------------------------------------


def limits_of(station: Station, attribute: str) -> dict[str, float]:
    return limits_for(station.limits, attribute)


def _code_of(entity_id: str) -> str:
    return entity_id.rsplit(":", 1)[-1]


def find_station(session: Session, ref: str) -> Station | None:
    """A station by its entity id or its code (the last part of the id)."""
    return session.scalar(
        select(Station)
        .where((Station.entity_id == ref) | (Station.code == ref))
        .options(selectinload(Station.thresholds))
    )


def find_station_by_entity_id(session: Session, entity_id: str) -> Station | None:
    return session.scalar(
        select(Station)
        .where(Station.entity_id == entity_id)
        .options(selectinload(Station.thresholds))
    )


def get_station(session: Session, ref: str) -> Station:
    station = find_station(session, ref)
    if station is None:
        raise NotFoundProblem(f"観測所 {ref[:200]} は登録されていません / no station {ref[:200]}")
    return station


def lock_for_readings(session: Session) -> None:
    """Start the write transaction now, before the stations' latest values are read.

    Two writers of the same station must not both read its latest reading and then both
    decide what is new. SQLite has one writer at a time, taken here with a write that
    changes nothing; PostgreSQL locks the stations' rows (see :func:`station_keys`).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Station).where(Station.id == -1).values(offline=False))


def station_keys(
    session: Session, refs: Iterable[str], *, by_code: bool = False
) -> dict[str, tuple[int, str, str]]:
    """(id, entity type, code) of the stations named by entity id (or code), locked for writing."""
    wanted = sorted(set(refs))
    found: dict[str, tuple[int, str, str]] = {}
    lock_for_readings(session)
    postgres = session.get_bind().dialect.name != "sqlite"
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(Station.id, Station.entity_id, Station.entity_type, Station.code)
        if by_code:
            query = query.where(Station.entity_id.in_(chunk) | Station.code.in_(chunk))
        else:
            query = query.where(Station.entity_id.in_(chunk))
        if postgres:
            query = query.order_by(Station.id).with_for_update()
        for pk, entity_id, entity_type, code in session.execute(query):
            found[entity_id] = (pk, entity_type, code)
            if by_code:
                found[code] = (pk, entity_type, code)
    return found


# --- station metadata ------------------------------------------------------------


def _town_from(text: str, prefer_city: str) -> tuple[str, float | None, float | None]:
    found = address.normalize(text, prefer_city=prefer_city)
    if found.level < address.LEVEL_TOWN or not found.town:
        raise ValidationProblem(
            f"町名 {text!r} が分かりません（例: 大沢四丁目） / unknown town {text!r} "
            "(e.g. 大沢四丁目)",
            errors={"town": ["unknown town"]},
        )
    return found.town, found.lat, found.lon


def _town_near(lat: float, lon: float) -> str:
    found = address.reverse(lat, lon)
    if found is None or found["distance_m"] > TOWN_RADIUS_M:
        return ""
    return str(found["town"] or "")


def _check_thresholds(
    entity_type: str, specs: list[ThresholdSpec]
) -> list[tuple[str, int, str, str, float, float]]:
    """(attribute, rank, name, name_en, value, hysteresis) of each threshold, checked."""
    units = TIMESERIES_UNITS[entity_type]
    names = threshold_names(entity_type)
    checked: list[tuple[str, int, str, str, float, float]] = []
    seen: set[tuple[str, int]] = set()
    for spec in specs:
        attribute = spec.attribute or PRIMARY_ATTRIBUTE[entity_type]
        if attribute not in units:
            raise ValidationProblem(
                f"基準値の属性 {attribute} は {entity_type} にありません / {entity_type} has no "
                f"attribute {attribute} for a threshold",
                errors={"thresholds": ["unknown attribute"]},
            )
        if (attribute, spec.rank) in seen:
            raise ValidationProblem(
                f"基準値のランク {spec.rank} が重複しています / threshold rank {spec.rank} "
                "appears twice",
                errors={"thresholds": ["duplicate rank"]},
            )
        seen.add((attribute, spec.rank))
        value = spec.value
        if spec.unit_code:
            converted = canonical_unit(units[attribute], spec.unit_code, value, attribute)
            if converted is None:
                raise ValidationProblem(
                    f"基準値の単位 {spec.unit_code} は使えません / threshold unit "
                    f"{spec.unit_code} does not fit {attribute}",
                    errors={"thresholds": ["unit"]},
                )
            value = converted
        hysteresis = (
            DEFAULT_HYSTERESIS.get(attribute, 0.0) if spec.hysteresis is None else spec.hysteresis
        )
        if hysteresis < 0:
            raise ValidationProblem(
                "ヒステリシスは0以上です / hysteresis must not be negative",
                errors={"thresholds": ["hysteresis"]},
            )
        default_name, default_en = names.get(spec.rank, ("", ""))
        checked.append(
            (
                attribute,
                spec.rank,
                spec.name or default_name,
                spec.name_en or (default_en if not spec.name else ""),
                value,
                hysteresis,
            )
        )
    by_attribute: dict[str, list[tuple[int, float]]] = {}
    for attribute, rank, _n, _e, value, _h in checked:
        by_attribute.setdefault(attribute, []).append((rank, value))
    for attribute, levels in by_attribute.items():
        values = [value for _rank, value in sorted(levels)]
        if any(low >= high for low, high in itertools.pairwise(values)):
            raise ValidationProblem(
                f"{attribute} の基準値はランクの順に高くなるようにしてください / the thresholds "
                f"of {attribute} must rise with their rank",
                errors={"thresholds": ["not rising with rank"]},
            )
    return checked


def _check_limits(entity_type: str, limits: dict[str, dict[str, float]]) -> None:
    units = TIMESERIES_UNITS[entity_type]
    for attribute, bounds in limits.items():
        if attribute not in units:
            raise ValidationProblem(
                f"readingLimits の {attribute} は {entity_type} の属性ではありません / "
                f"{entity_type} has no attribute {attribute}",
                errors={"readingLimits": ["unknown attribute"]},
            )
        low, high = bounds.get("min"), bounds.get("max")
        if low is not None and high is not None and low >= high:
            raise ValidationProblem(
                f"readingLimits.{attribute}: min は max より小さくしてください / min must be "
                "below max",
                errors={"readingLimits": ["min >= max"]},
            )
        for key in ("maxChange", "maxChangeSeconds"):
            if key in bounds and bounds[key] <= 0:
                raise ValidationProblem(
                    f"readingLimits.{attribute}.{key} は正の数です / must be positive",
                    errors={"readingLimits": [key]},
                )


@dataclass
class _Planned:
    """A spec checked against a station's type, ready to apply (no change made yet)."""

    fields: dict[str, Any]
    thresholds: list[tuple[str, int, str, str, float, float]] | None


def _plan(
    entity_type: str, spec: StationSpec, station: Station | None, prefer_city: str
) -> _Planned:
    """Check everything a spec asks for before anything is changed (no half-written station)."""
    fields: dict[str, Any] = {}
    for name in ("name", "name_en", "description", "expected_interval_s"):
        value = getattr(spec, name)
        if value is not None:
            fields[name] = value
    if spec.lat is not None and spec.lon is not None:
        fields["lat"], fields["lon"] = spec.lat, spec.lon
    if spec.town is not None:
        if spec.town == "":
            fields["town"] = ""
        else:
            town, lat, lon = _town_from(spec.town, prefer_city)
            fields["town"] = town
            has_place = "lat" in fields or (station is not None and station.lat is not None)
            if not has_place and lat is not None and lon is not None:
                fields["lat"], fields["lon"] = lat, lon
    elif "lat" in fields and (station is None or not station.town):
        fields["town"] = _town_near(fields["lat"], fields["lon"])
    if spec.limits is not None:
        _check_limits(entity_type, spec.limits)
        fields["limits"] = spec.limits
    if fields.get("name") == "":
        raise ValidationProblem(
            "観測所名が空です / the station name is empty", errors={"name": ["empty"]}
        )
    thresholds = None
    if spec.thresholds is not None:
        thresholds = _check_thresholds(entity_type, spec.thresholds)
    return _Planned(fields, thresholds)


def _apply(session: Session, station: Station, planned: _Planned, extra: dict[str, Any]) -> None:
    for name, value in planned.fields.items():
        setattr(station, name, value)
    if extra:
        station.extra = {**(station.extra or {}), **extra}
    if planned.thresholds is not None:
        _replace_thresholds(session, station, planned.thresholds)
    station.modified_at = utcnow()


def _replace_thresholds(
    session: Session, station: Station, checked: list[tuple[str, int, str, str, float, float]]
) -> None:
    """New levels keep the state of an unchanged level; a moved level takes the current
    value's side without an event (a staff edit is not a crossing)."""
    old = {(t.attribute, t.rank): t for t in station.thresholds}
    current = (
        {
            row.attribute: row.value
            for row in session.scalars(
                select(CurrentValue).where(CurrentValue.station_id == station.id)
            )
        }
        if station.id is not None
        else {}
    )
    kept: list[Threshold] = []
    for attribute, rank, name, name_en, value, hysteresis in checked:
        previous = old.get((attribute, rank))
        if previous is not None and previous.value == value:
            above = previous.above
        else:
            now_value = current.get(attribute)
            above = now_value is not None and now_value >= value
        kept.append(
            Threshold(
                attribute=attribute,
                rank=rank,
                name=name,
                name_en=name_en,
                value=value,
                hysteresis=hysteresis,
                above=above,
                changed_at=previous.changed_at if previous is not None else None,
            )
        )
    station.thresholds = kept


def create_station(
    session: Session,
    actor: User | None,
    entity_id: str,
    entity_type: str,
    spec: StationSpec,
    *,
    prefer_city: str = "三鷹市",
    via: str = "api",
) -> Station:
    """Register a station; 409 when the id (or its code) is taken."""
    code = _code_of(entity_id)
    taken = session.scalar(
        select(Station.entity_id).where((Station.entity_id == entity_id) | (Station.code == code))
    )
    if taken is not None:
        raise ConflictProblem(
            f"観測所 {entity_id} は既に登録されています / station {entity_id} already exists"
            + ("" if taken == entity_id else f" (code {code} is used by {taken})"),
        )
    planned = _plan(entity_type, spec, None, prefer_city)
    station = Station(
        entity_id=entity_id,
        entity_type=entity_type,
        code=code,
        name=code,
        expected_interval_s=DEFAULT_INTERVAL_S,
        limits={},
        extra={},
    )
    station.thresholds = []
    session.add(station)
    _apply(session, station, planned, spec.extra)
    session.flush()
    audit.record(
        session, actor, "sensors.station_create", "sensor_station", entity_id,
        summary=f"観測所を登録 / station created: {station.name}", via=via,
    )  # fmt: skip
    return station


def update_station(
    session: Session,
    actor: User | None,
    station: Station,
    spec: StationSpec,
    *,
    prefer_city: str = "三鷹市",
    via: str = "api",
) -> None:
    """Change what ``spec`` gives; everything is checked before anything changes."""
    if spec.is_empty():
        return
    planned = _plan(station.entity_type, spec, station, prefer_city)
    _apply(session, station, planned, spec.extra)
    session.flush()
    audit.record(
        session, actor, "sensors.station_update", "sensor_station", station.entity_id,
        summary=f"観測所を更新 / station updated: {station.name}", via=via,
    )  # fmt: skip


def delete_station(
    session: Session, actor: User | None, station: Station, via: str = "api"
) -> None:
    """Remove a station with its readings, thresholds and history."""
    station_id, entity_id, name = station.id, station.entity_id, station.name
    for table in (Reading, CurrentValue, ThresholdCrossing, Threshold):
        session.execute(delete(table).where(table.station_id == station_id))
    session.expire(station, ["thresholds"])
    session.delete(station)
    session.flush()
    audit.record(
        session, actor, "sensors.station_delete", "sensor_station", entity_id,
        summary=f"観測所を削除 / station deleted: {name}", via=via,
    )  # fmt: skip


# --- writes ---------------------------------------------------------------------------------


def apply_changes(
    session: Session,
    actor: User | None,
    changes: Sequence[EntityChange],
    *,
    create: bool = True,
    must_be_new: bool = False,
    prefer_city: str = "三鷹市",
    received_at: datetime | None = None,
    via: str = "api",
) -> UpsertResult:
    """Create or update stations and record their readings, entity by entity for errors.

    An entity that fails its checks is reported in ``errors`` and nothing of it is written;
    the others go ahead. The readings of all good entities are filed together (the fast path:
    a batch of readings for known stations costs a few statements whatever its size).
    """
    received_at = received_at or utcnow()
    result = UpsertResult()
    known = station_keys(session, (c.entity_id for c in changes))
    to_record: list[ReadingIn] = []
    touched: set[str] = set()
    for change in changes:
        try:
            key = known.get(change.entity_id)
            if key is None:
                key = _create_for_change(session, actor, change, create, prefer_city, via)
                known[change.entity_id] = key
                result.created.append(change.entity_id)
            else:
                _update_for_change(session, actor, change, key, must_be_new, prefer_city, via)
                if change.entity_id not in result.created:
                    result.updated.append(change.entity_id)
        except (ValidationProblem, ConflictProblem, NotFoundProblem) as exc:
            result.errors.append((change.entity_id, exc))
            continue
        for reading in change.readings:
            reading.station_id = key[0]
        to_record.extend(change.readings)
        touched.add(change.entity_id)
    if to_record:
        result.outcomes = record_readings(session, to_record, received_at=received_at)
        audit.record(
            session, actor, "sensors.readings", "sensor_station",
            summary=f"{len(to_record)} 件の観測値 / readings for {len(touched)} stations",
            detail={"readings": len(to_record), "stations": len(touched)}, via=via,
        )  # fmt: skip
    return result


def _create_for_change(
    session: Session,
    actor: User | None,
    change: EntityChange,
    create: bool,
    prefer_city: str,
    via: str,
) -> tuple[int, str, str]:
    if not create:
        raise NotFoundProblem(f"{change.entity_id} はありません / no entity {change.entity_id}")
    if change.entity_type is None:
        raise ValidationProblem("新しい観測所には type が必要です / a new station needs a type")
    try:
        with session.begin_nested():
            station = create_station(
                session, actor, change.entity_id, change.entity_type, change.spec,
                prefer_city=prefer_city, via=via,
            )  # fmt: skip
    except IntegrityError:  # another request created it a moment ago
        raise ConflictProblem(
            f"観測所 {change.entity_id} は既に登録されています / {change.entity_id} already exists"
        ) from None
    return station.id, station.entity_type, station.code


def _update_for_change(
    session: Session,
    actor: User | None,
    change: EntityChange,
    key: tuple[int, str, str],
    must_be_new: bool,
    prefer_city: str,
    via: str,
) -> None:
    if must_be_new:
        raise ConflictProblem(
            f"{change.entity_id} は既にあります / {change.entity_id} already exists"
        )
    if change.entity_type is not None and change.entity_type != key[1]:
        raise ValidationProblem(
            f"{change.entity_id} の型は {key[1]} です / the entity's type is {key[1]}"
        )
    if change.spec.is_empty():
        return
    station = session.get(Station, key[0], options=[selectinload(Station.thresholds)])
    assert station is not None
    update_station(session, actor, station, change.spec, prefer_city=prefer_city, via=via)


def record(
    session: Session,
    actor: User | None,
    readings: Sequence[ReadingIn],
    *,
    received_at: datetime | None = None,
    via: str = "api",
) -> list[Outcome]:
    """Record readings of known stations (``station_id`` set), with an audit entry."""
    lock_for_readings(session)
    outcomes = record_readings(session, readings, received_at=received_at)
    stations = len({r.station_id for r in readings})
    audit.record(
        session, actor, "sensors.readings", "sensor_station",
        summary=f"{len(readings)} 件の観測値 / readings for {stations} stations",
        detail={"readings": len(readings), "stations": stations}, via=via,
    )  # fmt: skip
    return outcomes


def newest_observation(session: Session, station_ids: Sequence[int]) -> datetime | None:
    """The newest observedAt among the current values of these stations."""
    found = current_values(session, station_ids)
    return max((c.observed_at for c in found.values()), default=None)


def create_entity(
    session: Session,
    actor: User | None,
    change: EntityChange,
    *,
    prefer_city: str = "三鷹市",
    received_at: datetime | None = None,
    via: str = "api",
) -> None:
    """A new station with its first readings; 409 when it exists, nothing written on error."""
    result = apply_changes(
        session, actor, [change], must_be_new=True, prefer_city=prefer_city,
        received_at=received_at, via=via,
    )  # fmt: skip
    if result.errors:
        raise result.errors[0][1]


# NGSI-LD attribute names of the station's own fields, and the spec fields they fill.
_SPEC_FIELDS = {
    "name": ("name",),
    "alternateName": ("name_en",),
    "description": ("description",),
    "location": ("lat", "lon"),
    "town": ("town",),
    "expectedInterval": ("expected_interval_s",),
    "thresholds": ("thresholds",),
    "readingLimits": ("limits",),
}


def _has_value(station: Station, name: str, current: Mapping[str, CurrentReading]) -> bool:
    """Whether the station has the attribute now (for noOverwrite and for updates)."""
    if name in TIMESERIES_UNITS[station.entity_type]:
        return name in current
    checks = {
        "name": True,
        "alternateName": bool(station.name_en),
        "description": bool(station.description),
        "location": station.lat is not None,
        "town": bool(station.town),
        "expectedInterval": True,
        "thresholds": bool(station.thresholds),
        "readingLimits": True,
    }
    if name in checks:
        return checks[name]
    return name in (station.extra or {})


def _without(change: EntityChange, names: set[str]) -> EntityChange:
    """The same change less the attributes ``names``."""
    spec = StationSpec(**{k: v for k, v in vars(change.spec).items() if k != "extra"})
    spec.extra = {k: v for k, v in change.spec.extra.items() if k not in names}
    for name in names:
        for spec_field in _SPEC_FIELDS.get(name, ()):
            setattr(spec, spec_field, None)
    return EntityChange(
        entity_id=change.entity_id,
        entity_type=change.entity_type,
        spec=spec,
        readings=[r for r in change.readings if r.attribute not in names],
        attribute_names=[n for n in change.attribute_names if n not in names],
    )


def change_attributes(
    session: Session,
    actor: User | None,
    change: EntityChange,
    *,
    append: bool,
    overwrite: bool = True,
    prefer_city: str = "三鷹市",
    received_at: datetime | None = None,
    via: str = "api",
) -> tuple[list[str], list[tuple[str, str]]]:
    """NGSI-LD update (``append`` False: existing attributes only) or append of attributes.

    Returns (updated, not updated with the reason). A new value of a time-series attribute
    (height, precipitation …) is a reading. Invalid values refuse the whole request.
    """
    lock_for_readings(session)
    station = find_station_by_entity_id(session, change.entity_id)
    if station is None:
        raise NotFoundProblem(f"{change.entity_id} はありません / no entity {change.entity_id}")
    if change.entity_type is not None and change.entity_type != station.entity_type:
        raise ValidationProblem(
            f"{change.entity_id} の型は {station.entity_type} です / the type is {station.entity_type}"
        )
    current = view_of(session, station).current
    skipped: list[tuple[str, str]] = []
    for name in dict.fromkeys(change.attribute_names):
        exists = (
            name in _SPEC_FIELDS
            or name in TIMESERIES_UNITS[station.entity_type]
            or (name in (station.extra or {}))
        )
        if not append and not exists:
            skipped.append((name, "属性がありません / the attribute does not exist"))
        elif append and not overwrite and _has_value(station, name, current):
            skipped.append((name, "既にあります（noOverwrite） / it exists (noOverwrite)"))
    kept = _without(change, {name for name, _reason in skipped})
    result = apply_changes(
        session, actor, [kept], create=False, prefer_city=prefer_city, received_at=received_at,
        via=via,
    )  # fmt: skip
    if result.errors:
        raise result.errors[0][1]
    return list(dict.fromkeys(kept.attribute_names)), skipped


# --- what pages and the API show -----------------------------------------------------------


def is_offline(station: Station, now: datetime) -> bool:
    """Silent for longer than its expected interval (since its last reading, or since it
    was registered when it never sent one)."""
    reference = station.last_seen_at or station.created_at
    return now - reference > timedelta(seconds=station.expected_interval_s)


def _by_station(
    current: Mapping[tuple[int, str], CurrentReading],
) -> dict[int, dict[str, CurrentReading]]:
    grouped: dict[int, dict[str, CurrentReading]] = {}
    for (station_id, attribute), reading in current.items():
        grouped.setdefault(station_id, {})[attribute] = reading
    return grouped


def _view(station: Station, current: dict[str, CurrentReading], now: datetime) -> StationView:
    primary = PRIMARY_ATTRIBUTE[station.entity_type]
    thresholds = list(station.thresholds)
    above = [t for t in thresholds if t.attribute == primary and t.above]
    top = max(above, key=lambda t: t.rank) if above else None
    level = top.rank if top is not None else 0
    if top is None:
        name, name_en = NORMAL
    elif station.entity_type == WATER:
        name, name_en = RIVER_STATES.get(level, (top.name, top.name_en))
    else:
        name, name_en = top.name, top.name_en or top.name
    return StationView(
        station=station,
        thresholds=thresholds,
        current=current,
        offline=is_offline(station, now),
        level=level,
        level_name=name,
        level_name_en=name_en,
    )


def views_of(
    session: Session, stations: Sequence[Station], now: datetime | None = None
) -> list[StationView]:
    now = now or utcnow()
    current = _by_station(current_values(session, [s.id for s in stations]))
    return [_view(station, current.get(station.id, {}), now) for station in stations]


def all_stations(session: Session, now: datetime | None = None) -> list[StationView]:
    """Every station with its state, ordered by type and name (map and list)."""
    stations = list(
        session.scalars(
            select(Station)
            .options(selectinload(Station.thresholds))
            .order_by(Station.entity_type, Station.code)
        )
    )
    now = now or utcnow()
    current = _by_station(current_values(session, None))
    return [_view(station, current.get(station.id, {}), now) for station in stations]


def view_of(session: Session, station: Station, now: datetime | None = None) -> StationView:
    return views_of(session, [station], now)[0]


def series(
    session: Session,
    station: Station,
    attribute: str,
    start: datetime | None,
    end: datetime | None,
    *,
    include_flagged: bool = False,
    last_n: int | None = None,
    limit: int = 10_000,
) -> list[tuple[int, float, datetime, str, str | None]]:
    """(id, value, observed_at, flag, note) of a station attribute over [start, end)."""
    query = select(
        Reading.id, Reading.value, Reading.observed_at, Reading.flag, Reading.note
    ).where(Reading.station_id == station.id, Reading.attribute == attribute)
    if not include_flagged:
        query = query.where(Reading.flag == FLAG_OK)
    if start is not None:
        query = query.where(Reading.observed_at >= start)
    if end is not None:
        query = query.where(Reading.observed_at < end)
    if last_n is not None:
        newest = query.order_by(Reading.observed_at.desc(), Reading.id.desc()).limit(
            min(last_n, limit)
        )
        rows = [tuple(row) for row in session.execute(newest)]
        rows.reverse()
        return rows  # type: ignore[return-value]
    ordered = query.order_by(Reading.observed_at, Reading.id).limit(limit)
    return [tuple(row) for row in session.execute(ordered)]  # type: ignore[misc]


def flagged_readings(
    session: Session, station: Station, start: datetime, limit: int = 50
) -> list[Reading]:
    """The readings set apart since ``start``, newest received first."""
    return list(
        session.scalars(
            select(Reading)
            .where(
                Reading.station_id == station.id,
                Reading.flag != FLAG_OK,
                Reading.received_at >= start,
            )
            .order_by(Reading.received_at.desc(), Reading.id.desc())
            .limit(limit)
        )
    )


def crossings(session: Session, station: Station, limit: int = 20) -> list[ThresholdCrossing]:
    return list(
        session.scalars(
            select(ThresholdCrossing)
            .where(ThresholdCrossing.station_id == station.id)
            .order_by(ThresholdCrossing.at.desc(), ThresholdCrossing.id.desc())
            .limit(limit)
        )
    )


def reading_count(session: Session, station: Station) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Reading).where(Reading.station_id == station.id)
        )
        or 0
    )


# --- offline detection ---------------------------------------------------------------------


def check_offline(session: Session, now: datetime | None = None) -> list[SensorOffline]:
    """Emit SensorOffline once for each station silent past its expected interval, and
    back_online for one that was reported offline and has spoken since. Run it every minute
    or so (``cityos sensors check-offline``); the events go out after the commit."""
    now = now or utcnow()
    events: list[SensorOffline] = []
    for station in session.scalars(select(Station).order_by(Station.id)):
        silent = is_offline(station, now)
        if silent == station.offline:
            continue
        station.offline = silent
        event = SensorOffline(
            station_id=station.entity_id,
            station_name=station.name,
            last_seen=station.last_seen_at.astimezone(UTC).isoformat()
            if station.last_seen_at
            else "",
            back_online=not silent,
        )
        emit(session, event)
        events.append(event)
    return events


# --- CSV uploads ---------------------------------------------------------------------------


def _csv_reading(
    key: tuple[int, str, str], line: readings_csv.CsvLine
) -> tuple[ReadingIn | None, readings_csv.CsvProblem | None]:
    station_id, entity_type, code = key
    units = TIMESERIES_UNITS[entity_type]
    attribute = line.attribute or PRIMARY_ATTRIBUTE[entity_type]
    if attribute not in units:
        return None, readings_csv.CsvProblem(
            line.line,
            readings_csv.COLUMN_LABELS["attribute"],
            f"{code} に項目 {attribute!r} はありません（{', '.join(units)}） / "
            f"{code} has no attribute {attribute!r}",
        )
    value = line.value
    if line.unit:
        converted = canonical_unit(units[attribute], line.unit, value, attribute)
        if converted is None:
            return None, readings_csv.CsvProblem(
                line.line,
                readings_csv.COLUMN_LABELS["unit"],
                f"単位 {line.unit!r} は {attribute} に使えません（{unit_symbol(units[attribute])}） / "
                f"unit {line.unit!r} does not fit {attribute}",
            )
        value = converted
    return ReadingIn(
        station_id, attribute, value, line.observed_at, units[attribute], line.line
    ), None


def upload_readings(
    session: Session,
    actor: User | None,
    data: bytes,
    filename: str,
    file_hash: str,
    size: int,
    *,
    received_at: datetime | None = None,
    via: str = "web",
) -> ReadingUpload:
    """Record the readings of a CSV file and keep its report.

    Lines that cannot be used (unknown station, unreadable time or value, wrong unit) are
    reported with their line number and nothing of them is stored; every other line is a
    reading, filed ok or set apart as any other reading. A file that cannot be read at all
    (encoding, missing columns) is recorded with that one problem and nothing stored.
    """
    received_at = received_at or utcnow()
    problems: list[readings_csv.CsvProblem] = []
    try:
        parsed = readings_csv.read_readings(data)
    except ValidationProblem as exc:
        parsed = readings_csv.CsvReadings("")
        problems.append(readings_csv.CsvProblem(1, "", exc.detail))
    problems.extend(parsed.problems)
    keys = station_keys(session, (line.station for line in parsed.lines), by_code=True)
    readings: list[ReadingIn] = []
    codes: dict[int, str] = {}
    for line in parsed.lines:
        key = keys.get(line.station)
        if key is None:
            problems.append(
                readings_csv.CsvProblem(
                    line.line,
                    readings_csv.COLUMN_LABELS["station"],
                    f"観測所 {line.station[:100]!r} は登録されていません / unknown station",
                )
            )
            continue
        reading, problem = _csv_reading(key, line)
        if problem is not None:
            problems.append(problem)
            continue
        assert reading is not None
        readings.append(reading)
        codes[key[0]] = key[2]
    outcomes = record_readings(session, readings, received_at=received_at)
    problems.sort(key=lambda p: p.line)
    flagged = [
        {
            "line": reading.line,
            "station": codes[reading.station_id],
            "attribute": reading.attribute,
            "flag": outcome.flag,
            "message": outcome.note or "",
        }
        for reading, outcome in zip(readings, outcomes, strict=True)
        if outcome.flag != FLAG_OK
    ]
    flagged.sort(key=lambda item: int(str(item["line"])))
    kinds: dict[str, int] = {}
    for item in flagged:
        kinds[str(item["flag"])] = kinds.get(str(item["flag"]), 0) + 1
    upload = ReadingUpload(
        filename=filename[:300],
        file_hash=file_hash,
        size=size,
        encoding=parsed.encoding,
        lines_read=parsed.lines_read,
        readings_stored=len(readings),
        readings_flagged=len(flagged),
        lines_rejected=len({p.line for p in problems}),
        report={
            "problems": [p.as_dict() for p in problems[: readings_csv.MAX_PROBLEMS]],
            "problems_truncated": len(problems) > readings_csv.MAX_PROBLEMS,
            "flagged": flagged[: readings_csv.MAX_PROBLEMS],
            "flagged_truncated": len(flagged) > readings_csv.MAX_PROBLEMS,
            "flagged_by_kind": kinds,
            "stations": sorted(set(codes.values())),
        },
        created_at=received_at,
        created_by=actor.name if actor else "",
    )
    session.add(upload)
    session.flush()
    audit.record(
        session, actor, "sensors.upload", "sensor_upload", str(upload.id),
        summary=f"{filename}: {len(readings)} 件の観測値 / readings, {len(problems)} problems",
        detail={"readings": len(readings), "flagged": len(flagged), "problems": len(problems)},
        via=via,
    )  # fmt: skip
    return upload


def get_upload(session: Session, upload_id: int) -> ReadingUpload:
    upload = session.get(ReadingUpload, upload_id)
    if upload is None:
        raise NotFoundProblem(f"取り込み {upload_id} はありません / no upload {upload_id}")
    return upload


def recent_uploads(session: Session, limit: int = 20) -> list[ReadingUpload]:
    return list(
        session.scalars(select(ReadingUpload).order_by(ReadingUpload.id.desc()).limit(limit))
    )


def upload_summary(upload: ReadingUpload) -> dict[str, Any]:
    report = upload.report or {}
    return {
        "id": upload.id,
        "filename": upload.filename,
        "encoding": upload.encoding,
        "lines_read": upload.lines_read,
        "readings_stored": upload.readings_stored,
        "readings_ok": upload.readings_stored - upload.readings_flagged,
        "readings_flagged": upload.readings_flagged,
        "lines_rejected": upload.lines_rejected,
        "flagged_by_kind": report.get("flagged_by_kind", {}),
        "problems": report.get("problems", []),
        "flagged": report.get("flagged", []),
        "created_at": upload.created_at,
        "created_by": upload.created_by,
    }
