"""Distances on the ground and the places a walking route must avoid.

Blocked places come as circles (a point reported flooded, with a radius in metres) or polygons
(a flooded area drawn on a map). Both are checked against route segments in a local flat
projection around the place, which is exact enough at the scale of a city block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from cityos.core.errors import ValidationProblem
from cityos.core.geo import METRES_PER_DEGREE, distance_m

MAX_BLOCKED_RADIUS_M = 50_000.0

LatLon = tuple[float, float]


class RoutingInputError(ValidationProblem, ValueError):
    """A point, a blocked place or an option a route cannot be computed from."""

    type_slug = "routing-input"


def line_length_m(points: Sequence[LatLon]) -> float:
    return sum(distance_m(a[0], a[1], b[0], b[1]) for a, b in pairwise(points))


def check_point(lat: float, lon: float, what: str = "point") -> None:
    """Refuse a point that is not a latitude/longitude pair (a swapped pair is the usual slip)."""
    if not (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    ):
        raise RoutingInputError(
            f"{what} の緯度経度が正しくありません（緯度 -90〜90、経度 -180〜180）: {lat!r}, {lon!r} / "
            f"{what} is not a valid latitude, longitude pair: {lat!r}, {lon!r}",
            errors={what: ["latitude -90..90, longitude -180..180"]},
        )


def _segment_near_origin(ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from (0, 0) to the segment a-b, in the units of the coordinates."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


def _cross(ox: float, oy: float, ax: float, ay: float, bx: float, by: float) -> float:
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


def _segments_cross(a: LatLon, b: LatLon, c: LatLon, d: LatLon) -> bool:
    """Whether segments a-b and c-d touch (points as (lat, lon), treated as a plane)."""
    d1 = _cross(c[0], c[1], d[0], d[1], a[0], a[1])
    d2 = _cross(c[0], c[1], d[0], d[1], b[0], b[1])
    d3 = _cross(a[0], a[1], b[0], b[1], c[0], c[1])
    d4 = _cross(a[0], a[1], b[0], b[1], d[0], d[1])
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    return any(
        value == 0.0 and _on_segment(p, q, r)
        for value, p, q, r in ((d1, c, d, a), (d2, c, d, b), (d3, a, b, c), (d4, a, b, d))
    )


def _on_segment(p: LatLon, q: LatLon, r: LatLon) -> bool:
    return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])


@dataclass(frozen=True, slots=True)
class BlockedCircle:
    """A point reported flooded or blocked: nothing within ``radius_m`` of it may be walked."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        check_point(self.lat, self.lon, "blocked")
        if not (
            isinstance(self.radius_m, int | float) and 0 < self.radius_m <= MAX_BLOCKED_RADIUS_M
        ):
            raise RoutingInputError(
                f"通行止めの半径は 0 より大きく {MAX_BLOCKED_RADIUS_M:.0f} m 以下です: {self.radius_m!r} / "
                f"a blocked radius must be over 0 and at most {MAX_BLOCKED_RADIUS_M:.0f} m",
                errors={"radius_m": [f"0 < radius_m <= {MAX_BLOCKED_RADIUS_M:.0f}"]},
            )

    def bbox(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) in degrees."""
        dlat = self.radius_m / METRES_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(self.lat)), 1e-6)
        return self.lat - dlat, self.lon - dlon, self.lat + dlat, self.lon + dlon

    def _xy(self, point: LatLon) -> tuple[float, float]:
        scale = METRES_PER_DEGREE * math.cos(math.radians(self.lat))
        return (point[1] - self.lon) * scale, (point[0] - self.lat) * METRES_PER_DEGREE

    def contains(self, lat: float, lon: float) -> bool:
        return distance_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def hits_segment(self, a: LatLon, b: LatLon) -> bool:
        ax, ay = self._xy(a)
        bx, by = self._xy(b)
        return _segment_near_origin(ax, ay, bx, by) <= self.radius_m


@dataclass(frozen=True, slots=True)
class BlockedPolygon:
    """An area reported flooded or blocked, as its outer ring of (lat, lon) points.

    Holes of a GeoJSON polygon are not kept: the whole outline is avoided (the safe side).
    """

    ring: tuple[LatLon, ...]

    def __post_init__(self) -> None:
        for lat, lon in self.ring:
            check_point(lat, lon, "blocked")
        if len(set(self.ring)) < 3:
            raise RoutingInputError(
                "通行止めの範囲（多角形）には 3 点以上が必要です / a blocked polygon needs at least 3 distinct points",
                errors={"polygon": ["at least 3 distinct points"]},
            )

    def bbox(self) -> tuple[float, float, float, float]:
        lats = [p[0] for p in self.ring]
        lons = [p[1] for p in self.ring]
        return min(lats), min(lons), max(lats), max(lons)

    def contains(self, lat: float, lon: float) -> bool:
        inside = False
        ring = self.ring
        j = len(ring) - 1
        for i in range(len(ring)):
            (lat_i, lon_i), (lat_j, lon_j) = ring[i], ring[j]
            if (lat_i > lat) != (lat_j > lat):
                crossing = lon_i + (lat - lat_i) * (lon_j - lon_i) / (lat_j - lat_i)
                if lon < crossing:
                    inside = not inside
            j = i
        return inside

    def hits_segment(self, a: LatLon, b: LatLon) -> bool:
        south, west, north, east = self.bbox()
        if max(a[0], b[0]) < south or min(a[0], b[0]) > north:
            return False
        if max(a[1], b[1]) < west or min(a[1], b[1]) > east:
            return False
        if self.contains(*a) or self.contains(*b):
            return True
        ring = self.ring
        return any(_segments_cross(a, b, ring[i - 1], ring[i]) for i in range(len(ring)))


BlockedArea = BlockedCircle | BlockedPolygon
# What callers may pass: areas, or (lat, lon, radius_m) tuples as the disaster domain keeps them.
BlockedInput = BlockedArea | tuple[float, float, float]


def blocked_areas(blocked: Iterable[BlockedInput]) -> list[BlockedArea]:
    """Blocked places as areas; (lat, lon, radius_m) tuples become circles."""
    areas: list[BlockedArea] = []
    for item in blocked:
        if isinstance(item, BlockedCircle | BlockedPolygon):
            areas.append(item)
        elif isinstance(item, tuple | list) and len(item) == 3:
            areas.append(BlockedCircle(float(item[0]), float(item[1]), float(item[2])))
        else:
            raise RoutingInputError(
                f"通行止めの指定が読めません: {item!r}（(緯度, 経度, 半径m) か範囲） / "
                f"cannot read a blocked place: {item!r} (give (lat, lon, radius_m) or an area)",
                errors={"blocked": ["(lat, lon, radius_m), BlockedCircle or BlockedPolygon"]},
            )
    return areas


def blocked_from_geojson(geometry: Mapping[str, Any], radius_m: float = 0.0) -> list[BlockedArea]:
    """A GeoJSON geometry (Polygon, MultiPolygon, or Point/MultiPoint with ``radius_m``) as areas."""
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    try:
        if kind == "Polygon":
            return [_polygon(coordinates[0])]  # type: ignore[index]
        if kind == "MultiPolygon":
            return [_polygon(polygon[0]) for polygon in coordinates]  # type: ignore[union-attr]
        if kind == "Point":
            return [BlockedCircle(float(coordinates[1]), float(coordinates[0]), radius_m)]  # type: ignore[index]
        if kind == "MultiPoint":
            return [BlockedCircle(float(p[1]), float(p[0]), radius_m) for p in coordinates]  # type: ignore[union-attr]
    except (TypeError, IndexError, KeyError, ValueError) as exc:
        if isinstance(exc, RoutingInputError):
            raise
        raise RoutingInputError(
            f"通行止めの GeoJSON 座標が読めません: {exc} / cannot read the blocked GeoJSON coordinates: {exc}",
            errors={"blocked": ["GeoJSON coordinates [lon, lat]"]},
        ) from None
    raise RoutingInputError(
        f"通行止めの GeoJSON は Polygon・MultiPolygon・Point・MultiPoint のいずれかです（{kind!r}） / "
        f"a blocked GeoJSON geometry must be a Polygon, MultiPolygon, Point or MultiPoint, not {kind!r}",
        errors={"blocked": ["Polygon, MultiPolygon, Point or MultiPoint"]},
    )


def _polygon(ring: Sequence[Sequence[float]]) -> BlockedPolygon:
    return BlockedPolygon(tuple((float(p[1]), float(p[0])) for p in ring))
