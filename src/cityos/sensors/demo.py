"""Demo stations and a flood, for ``cityos demo`` (``--scenario flood``) and the tests.

Every station here is a SAMPLE written for development: real river names and plausible
places and thresholds in Mitaka, but not the city's or Tokyo's gauges nor their official
levels. Their names and descriptions say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityos.core.models import User
from cityos.db import utcnow
from cityos.sensors import service
from cityos.sensors.kinds import PRIMARY_ATTRIBUTE, TIMESERIES_UNITS, WATER, WEATHER
from cityos.sensors.service import EntityChange, StationSpec, ThresholdSpec
from cityos.sensors.timeseries import ReadingIn

SAMPLE_NOTE = (
    "開発用のサンプル観測所です。実在の観測所・公式の基準水位ではありません。 / A sample station "
    "for development: not a real gauge, and not official levels."
)


@dataclass(frozen=True)
class DemoStation:
    code: str
    entity_type: str
    name: str
    name_en: str
    town: str
    lat: float
    lon: float
    thresholds: tuple[float, float, float, float]
    normal: float  # the usual level (m) or rain (mm/h)


NOGAWA_OSAWA = "mitaka-nogawa-osawa"
DEMO_STATIONS = (
    DemoStation(
        NOGAWA_OSAWA, WATER, "野川 大沢（サンプル）", "Nogawa River at Osawa (sample)",
        "大沢四丁目", 35.6686, 139.5385, (1.2, 1.6, 2.0, 2.4), 0.45,
    ),
    DemoStation(
        "mitaka-nogawa-park", WATER, "野川 野川公園付近（サンプル）",
        "Nogawa River near Nogawa Park (sample)", "大沢六丁目", 35.6745, 139.5262,
        (1.0, 1.4, 1.8, 2.2), 0.35,
    ),
    DemoStation(
        "mitaka-sengawa-shinkawa", WATER, "仙川 新川（サンプル）", "Sengawa River at Shinkawa (sample)",
        "新川二丁目", 35.6772, 139.5751, (1.0, 1.4, 1.8, 2.2), 0.30,
    ),
    DemoStation(
        "mitaka-city-hall", WEATHER, "三鷹市役所 雨量計（サンプル）",
        "Rain gauge at Mitaka City Hall (sample)", "野崎一丁目", 35.6831, 139.5597,
        (20.0, 30.0, 50.0, 80.0), 0.0,
    ),
)  # fmt: skip


def entity_id(station: DemoStation) -> str:
    return f"urn:ngsi-ld:{station.entity_type}:{station.code}"


def load_demo_stations(
    session: Session,
    actor: User | None = None,
    *,
    history_hours: int = 24,
    now: datetime | None = None,
) -> list[str]:
    """Create the sample stations that are missing, with ``history_hours`` of calm readings
    every 10 minutes up to ``now`` so that maps and charts have something to show.
    Returns the entity ids created (idempotent: an existing station is left as it is)."""
    now = now or utcnow()
    created = []
    for demo in DEMO_STATIONS:
        if service.find_station_by_entity_id(session, entity_id(demo)) is not None:
            continue
        spec = StationSpec(
            name=demo.name,
            name_en=demo.name_en,
            description=SAMPLE_NOTE,
            town=demo.town,
            lat=demo.lat,
            lon=demo.lon,
            expected_interval_s=600,
            thresholds=[
                ThresholdSpec(rank, value) for rank, value in enumerate(demo.thresholds, 1)
            ],
        )
        change = EntityChange(entity_id(demo), demo.entity_type, spec)
        change.readings = _calm(demo, now, history_hours)
        service.create_entity(session, actor, change, received_at=now, via="demo")
        created.append(entity_id(demo))
    return created


def _calm(demo: DemoStation, end: datetime, hours: int) -> list[ReadingIn]:
    """A quiet day: the usual level with a small daily swing (no rain)."""
    attribute = PRIMARY_ATTRIBUTE[demo.entity_type]
    unit = TIMESERIES_UNITS[demo.entity_type][attribute]
    start = end - timedelta(hours=hours)
    steps = hours * 6
    readings = []
    for step in range(1, steps + 1):
        at = start + timedelta(minutes=10 * step)
        swing = 0.03 * math.sin(step / 144 * 2 * math.pi) if demo.entity_type == WATER else 0.0
        readings.append(ReadingIn(0, attribute, round(demo.normal + swing, 3), at, unit))
    return readings


def simulate_flood(
    session: Session, start: datetime, minutes: int, actor: User | None = None
) -> int:
    """Readings of heavy rain over ``minutes`` from ``start``, one a minute: the rain gauge
    climbs to 60 mm/h and eases, 野川 at 大沢 rises past all four thresholds (はん濫危険水位
    last, near the end), 野川公園 downstream follows later to 避難判断水位, and 仙川 rises a
    little. Creates the sample stations if missing.
    Returns the number of readings recorded; threshold crossings are emitted as events.

    ``start`` moves to just after the stations' newest reading when it is earlier (older
    readings would be filed out of order). Pass ``start = now - minutes`` to have the flood
    end now; later readings are recorded as received at their own time. The rise stays
    within what a small river can do (under 2 m in 10 minutes), so every reading is filed ok
    whatever ``minutes`` is (at least 20)."""
    if minutes < 20:
        raise ValueError("a flood needs at least 20 minutes / 20分以上にしてください")
    load_demo_stations(session, actor, history_hours=0, now=start)
    stations = {demo.code: demo for demo in DEMO_STATIONS}
    osawa, park = stations[NOGAWA_OSAWA], stations["mitaka-nogawa-park"]
    sengawa, rain = stations["mitaka-sengawa-shinkawa"], stations["mitaka-city-hall"]
    keys = service.station_keys(session, [entity_id(d) for d in DEMO_STATIONS])
    # Readings older than what the stations already reported would be filed out of order.
    newest = service.newest_observation(session, [key[0] for key in keys.values()])
    if newest is not None and newest >= start:
        start = newest + timedelta(seconds=1)
    changes = []
    # 大沢 passes はん濫危険水位, 野川公園 (downstream, later) 避難判断水位; 仙川 rises a little.
    rivers = (
        (osawa, osawa.thresholds[3] + 0.3, 0.0),
        (park, park.thresholds[2] + 0.1, 0.25),
        (sengawa, sengawa.normal + 0.4, 0.1),
    )
    for demo, peak, delay in rivers:
        readings = []
        for minute in range(1, minutes + 1):
            level = demo.normal + (peak - demo.normal) * _rise(minute / minutes, delay)
            at = start + timedelta(minutes=minute)
            readings.append(
                ReadingIn(keys[entity_id(demo)][0], "height", round(level, 3), at, "MTR")
            )
        changes.append(readings)
    rain_readings = [
        ReadingIn(
            keys[entity_id(rain)][0],
            "precipitation",
            round(60.0 * min(1.0, 1.4 * math.sin(math.pi * minute / minutes / 1.2)), 1),
            start + timedelta(minutes=minute),
            "H67",
        )
        for minute in range(1, minutes + 1)
    ]
    changes.append(rain_readings)
    readings = [reading for group in changes for reading in group]
    last = start + timedelta(minutes=minutes)
    service.record(session, actor, readings, received_at=max(utcnow(), last), via="demo")
    return len(readings)


def _rise(progress: float, delay: float) -> float:
    """0 → 1 along a smooth S-curve that starts after ``delay`` and ends at 90 %."""
    if progress <= delay:
        return 0.0
    x = min(1.0, (progress - delay) / (0.9 - delay))
    return x * x * (3 - 2 * x)
