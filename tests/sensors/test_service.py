"""Stations through the service: offline detection, and places checked by the address service."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cityos.core.events import Event, SensorOffline
from cityos.db import Database, utcnow
from cityos.sensors import service
from tests.sensors.conftest import OSAWA, ago, create, entity, height, river, send_heights


def offline_events(events: list[Event]) -> list[tuple[str, bool]]:
    return [(e.station_id, e.back_online) for e in events if isinstance(e, SensorOffline)]


def test_a_silent_station_is_reported_offline_once_and_back_online(
    client: TestClient, auth_headers: dict[str, str], db: Database, events: list[Event]
) -> None:
    create(client, auth_headers, river(height=height(0.5, ago(8))))
    now = utcnow()
    with db.session() as session:
        assert service.check_offline(session, now) == []  # 8 minutes of a 10-minute interval
    assert entity(client, options="keyValues")["stationState"] == "online"

    with db.session() as session:
        reported = service.check_offline(session, now + timedelta(minutes=5))
    assert [(e.station_id, e.back_online) for e in reported] == [(OSAWA, False)]
    assert offline_events(events) == [(OSAWA, False)]
    assert reported[0].last_seen.startswith(ago(8).strftime("%Y-%m-%dT%H:%M"))
    with db.session() as session:
        assert service.check_offline(session, now + timedelta(minutes=6)) == []
    assert offline_events(events) == [(OSAWA, False)]

    # The API and the pages show it offline without waiting for the check.
    send_heights(client, auth_headers, [0.51], ago(1))
    assert offline_events(events) == [(OSAWA, False), (OSAWA, True)]
    assert entity(client, options="keyValues")["stationState"] == "online"


def test_a_late_reading_does_not_bring_a_station_back_online(
    client: TestClient, auth_headers: dict[str, str], db: Database, events: list[Event]
) -> None:
    create(client, auth_headers, river(height=height(0.5, ago(120))))
    assert entity(client, options="keyValues")["stationState"] == "offline"
    with db.session() as session:
        service.check_offline(session)
    # A reading buffered an hour ago arrives now: the station is still behind.
    send_heights(client, auth_headers, [0.52], ago(60))
    assert offline_events(events) == [(OSAWA, False)]
    assert entity(client, options="keyValues")["stationState"] == "offline"


def test_a_station_that_never_reported_goes_offline_after_its_interval(
    client: TestClient, auth_headers: dict[str, str], db: Database, events: list[Event]
) -> None:
    create(client, auth_headers, river())
    with db.session() as session:
        assert service.check_offline(session, utcnow() + timedelta(minutes=11))[0].last_seen == ""


def test_places_go_through_the_address_service(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    # A town written with arabic numerals is stored in the official form.
    create(client, auth_headers, river(town="大沢４丁目"))
    assert entity(client, options="keyValues")["town"] == "大沢四丁目"
    # A town without coordinates is placed at the town's representative point.
    no_place = river("urn:ngsi-ld:WaterObserved:sengawa", town="新川二丁目")
    del no_place["location"]
    create(client, auth_headers, no_place)
    placed = entity(client, "urn:ngsi-ld:WaterObserved:sengawa", options="keyValues")
    lon, lat = placed["location"]["coordinates"]
    assert abs(lat - 35.6776) < 0.01
    assert abs(lon - 139.5755) < 0.01
    # Coordinates without a town are named after the nearest 町字.
    no_town = river("urn:ngsi-ld:WaterObserved:park", point=(139.5262, 35.6745))
    del no_town["town"]
    create(client, auth_headers, no_town)
    assert (
        entity(client, "urn:ngsi-ld:WaterObserved:park", options="keyValues")["town"]
        == "大沢六丁目"
    )
    # A bilingual name as a LanguageProperty.
    named = river("urn:ngsi-ld:WaterObserved:named")
    named["name"] = {
        "type": "LanguageProperty",
        "languageMap": {"ja": "野川", "en": "Nogawa River"},
    }
    create(client, auth_headers, named)
    shown = entity(client, "urn:ngsi-ld:WaterObserved:named", options="keyValues")
    assert (shown["name"], shown["alternateName"]) == ("野川", "Nogawa River")
