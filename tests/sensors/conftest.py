"""Helpers of the sensors tests: stations and readings in NGSI-LD form, collected events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.core.events import Event, SensorOffline, ThresholdCrossed

NGSI = "/ngsi-ld/v1"
OSAWA = "urn:ngsi-ld:WaterObserved:nogawa-osawa"
PARK = "urn:ngsi-ld:WaterObserved:nogawa-park"
RAIN = "urn:ngsi-ld:WeatherObserved:city-hall"
LEVELS = [1.2, 1.6, 2.0, 2.4]  # 水防団待機, はん濫注意, 避難判断, はん濫危険 (m)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(minutes: float) -> datetime:
    """A time ``minutes`` before now (readings must not be in the future)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(microsecond=0)


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def height(value: float, at: datetime, **extra: Any) -> dict[str, Any]:
    return prop(value, observedAt=iso(at), **extra)


def river(
    entity_id: str = OSAWA,
    *,
    town: str = "大沢4丁目",
    point: tuple[float, float] = (139.5385, 35.6686),
    **attributes: Any,
) -> dict[str, Any]:
    """A river level station with the four thresholds of LEVELS."""
    return {
        "id": entity_id,
        "type": "WaterObserved",
        "name": prop("野川 大沢（テスト）"),
        "town": prop(town),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": list(point)}},
        "expectedInterval": prop(600, unitCode="SEC"),
        "thresholds": prop(
            [{"rank": rank, "value": value} for rank, value in enumerate(LEVELS, 1)]
        ),
        **attributes,
    }


def create(client: TestClient, headers: dict[str, str], entity: dict[str, Any]) -> None:
    response = client.post(f"{NGSI}/entities", json=entity, headers=headers)
    assert response.status_code == 201, response.text


def upsert(client: TestClient, headers: dict[str, str], entities: list[dict[str, Any]]) -> Any:
    return client.post(f"{NGSI}/entityOperations/upsert", json=entities, headers=headers)


def send_heights(
    client: TestClient,
    headers: dict[str, str],
    values: list[float],
    start: datetime,
    *,
    entity_id: str = OSAWA,
    step: timedelta = timedelta(minutes=10),
) -> None:
    """Readings of ``values`` every ``step`` from ``start``, as one batch upsert."""
    instances = [height(v, start + i * step) for i, v in enumerate(values)]
    response = upsert(
        client, headers, [{"id": entity_id, "type": "WaterObserved", "height": instances}]
    )
    assert response.status_code == 204, response.text


def entity(client: TestClient, entity_id: str = OSAWA, **params: str) -> dict[str, Any]:
    response = client.get(f"{NGSI}/entities/{entity_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def events(app: FastAPI) -> list[Event]:
    """The events delivered (after each commit) while the test runs."""
    delivered: list[Event] = []
    app.state.events.subscribe(ThresholdCrossed, delivered.append)
    app.state.events.subscribe(SensorOffline, delivered.append)
    return delivered


def crossings(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.threshold, e.direction) for e in events if isinstance(e, ThresholdCrossed)]


TOKYO_OFFSET = timedelta(hours=9)  # Japan has no daylight saving time
