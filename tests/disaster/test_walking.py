"""Walking distances along a pedestrian network, and detours around blocked places.

No open street network of Mitaka can be fetched here, so the test lays a small hand-made one
over real shelters: a direct footpath and a longer detour from a resident to the shelter.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityos.mobility import service as mobility
from cityos.mobility.loaders import load_network
from tests.disaster.conftest import by_name, open_shelter

METRES_PER_DEGREE_LAT = 111_320.0


def offset(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = point
    return (
        lat + north_m / METRES_PER_DEGREE_LAT,
        lon + east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))),
    )


def line(points: list[tuple[float, float]], step_m: float = 25.0) -> list[list[float]]:
    """A LineString through the points with a vertex every ``step_m`` metres (lon, lat)."""
    coords: list[list[float]] = []
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        length = math.dist(
            (lat1 * METRES_PER_DEGREE_LAT, lon1 * 90_000),
            (lat2 * METRES_PER_DEGREE_LAT, lon2 * 90_000),
        )
        steps = max(1, round(length / step_m))
        for i in range(steps):
            t = i / steps
            coords.append([lon1 + (lon2 - lon1) * t, lat1 + (lat2 - lat1) * t])
    coords.append([points[-1][1], points[-1][0]])
    return coords


@pytest.fixture
def walkway(tmp_path: Path, shelters: list[Any]) -> Iterator[dict[str, Any]]:
    school = by_name(shelters, "北野小学校（校舎・体育館）")
    target = (school.lat, school.lon)
    home = offset(target, -300, 0)  # 300 m south of the school
    corner_a = offset(home, 0, -150)
    corner_b = offset(target, 0, -150)
    features = [
        {"type": "Feature", "properties": {"highway": "footway"},
         "geometry": {"type": "LineString", "coordinates": line([home, target])}},
        {"type": "Feature", "properties": {"highway": "footway"},
         "geometry": {"type": "LineString", "coordinates": line([home, corner_a, corner_b, target])}},
    ]  # fmt: skip
    path = tmp_path / "walkway.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    mobility.register_network(load_network(path, cache=False), name="walkway", default=True)
    yield {"school": school, "home": home, "middle": offset(home, 150, 0)}
    mobility.unregister_network("walkway")


def test_distances_follow_the_network_and_detour_around_a_blocked_place(
    client: TestClient, auth_headers: dict[str, str], walkway: dict[str, Any]
) -> None:
    school, home = walkway["school"], walkway["home"]
    open_shelter(client, auth_headers, school.id)
    params = {"lat": home[0], "lon": home[1], "hazard": "earthquake", "limit": 1}
    direct = client.get("/api/disaster/shelters/nearest", params=params).json()
    assert direct["distances"] == "network"
    assert "道のり" in direct["note"]["ja"]
    assert direct["shelters"][0]["name"] == school.name
    assert 290 <= direct["shelters"][0]["distance_m"] <= 310
    blocked = client.post(
        "/api/disaster/blocked",
        json={"lat": walkway["middle"][0], "lon": walkway["middle"][1], "radius_m": 20,
              "reason": "冠水"},
        headers=auth_headers,
    )  # fmt: skip
    assert blocked.status_code == 201
    detour = client.get("/api/disaster/shelters/nearest", params=params).json()
    assert detour["shelters"][0]["via_network"] is True
    # Around the flooded place: 150 m west, 300 m north, 150 m back east.
    assert 580 <= detour["shelters"][0]["distance_m"] <= 620
    assert detour["shelters"][0]["walking_minutes"] >= 9
    page = client.get("/disaster/nearest", params={"lat": home[0], "lon": home[1]})
    assert "道のりの距離" in page.text
