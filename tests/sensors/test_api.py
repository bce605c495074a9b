"""The NGSI-LD API: entities, queries, attribute updates, batch upsert, temporal retrieval,
and its errors as NGSI-LD ProblemDetails with the right types and codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from cityos.core import auth
from cityos.db import Database
from tests.sensors.conftest import (
    NGSI,
    OSAWA,
    PARK,
    RAIN,
    ago,
    create,
    entity,
    height,
    iso,
    prop,
    river,
    send_heights,
    upsert,
)

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["type"] == ERRORS + kind, body
    assert body["detail"]
    return body


def test_create_retrieve_and_delete_a_station(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    created = client.post(
        f"{NGSI}/entities",
        json=river(height=height(0.45, ago(5))),
        headers=auth_headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{NGSI}/entities/{OSAWA}"

    found = entity(client)
    assert found["id"] == OSAWA
    assert found["type"] == "WaterObserved"
    assert found["name"] == {"type": "Property", "value": "野川 大沢（テスト）"}
    assert found["town"]["value"] == "大沢四丁目"  # normalized by the address service
    assert found["location"]["value"] == {"type": "Point", "coordinates": [139.5385, 35.6686]}
    assert found["height"]["value"] == 0.45
    assert found["height"]["unitCode"] == "MTR"
    assert [t["name"] for t in found["thresholds"]["value"]] == [
        "水防団待機水位", "はん濫注意水位", "避難判断水位", "はん濫危険水位",
    ]  # fmt: skip
    assert found["alertLevel"]["value"] == 0
    assert "ngsi-ld-core-context" in client.get(f"{NGSI}/entities/{OSAWA}").headers["link"]

    simple = entity(client, options="keyValues", attrs="height,town")
    assert simple == {"id": OSAWA, "type": "WaterObserved", "height": 0.45, "town": "大沢四丁目"}
    as_ld = client.get(f"{NGSI}/entities/{OSAWA}", headers={"Accept": "application/ld+json"})
    assert as_ld.headers["content-type"].startswith("application/ld+json")
    assert "@context" in as_ld.json()

    again = client.post(f"{NGSI}/entities", json=river(), headers=auth_headers)
    problem(again, 409, "AlreadyExists")

    deleted = client.delete(f"{NGSI}/entities/{OSAWA}", headers=auth_headers)
    assert deleted.status_code == 204
    problem(client.get(f"{NGSI}/entities/{OSAWA}"), 404, "ResourceNotFound")
    problem(
        client.delete(f"{NGSI}/entities/{OSAWA}", headers=auth_headers), 404, "ResourceNotFound"
    )


def test_bad_requests_get_ngsi_ld_error_types(
    client: TestClient, auth_headers: dict[str, str], db: Database, admin: object
) -> None:
    url = f"{NGSI}/entities"
    json_headers = {**auth_headers, "Content-Type": "application/json"}
    problem(client.post(url, content=b"{not json", headers=json_headers), 400, "InvalidRequest")
    problem(
        client.post(url, content=b"<x/>", headers={**auth_headers, "Content-Type": "text/xml"}),
        415,
        "InvalidRequest",
    )
    problem(
        client.post(url, json={**river(), "id": "not a uri"}, headers=auth_headers),
        400,
        "BadRequestData",
    )
    problem(
        client.post(url, json={**river(), "type": "WeatherObserved"}, headers=auth_headers),
        400,
        "BadRequestData",
    )
    problem(
        client.post(
            url, json={**river(), "@context": "https://example.org/c.jsonld"}, headers=auth_headers
        ),
        400,
        "BadRequestData",
    )
    ld = {**auth_headers, "Content-Type": "application/ld+json"}
    problem(client.post(url, content=orjson.dumps(river()), headers=ld), 400, "BadRequestData")
    unknown_town = problem(
        client.post(url, json=river(town="存在しない町"), headers=auth_headers),
        400,
        "BadRequestData",
    )
    assert "存在しない町" in unknown_town["detail"]
    falling = river(thresholds=prop([{"rank": 1, "value": 2.0}, {"rank": 2, "value": 1.0}]))
    problem(client.post(url, json=falling, headers=auth_headers), 400, "BadRequestData")
    problem(
        client.post(url, json=river(height=height("high", ago(1))), headers=auth_headers),  # type: ignore[arg-type]
        400,
        "BadRequestData",
    )
    problem(
        client.get(f"{NGSI}/entities/urn:ngsi-ld:WaterObserved:nowhere"), 404, "ResourceNotFound"
    )
    problem(client.get(f"{NGSI}/entities", params={"limit": "5000"}), 403, "TooManyResults")
    problem(client.get(f"{NGSI}/entities", params={"q": "height>"}), 400, "BadRequestData")
    problem(
        client.get(f"{NGSI}/entities", params={"georel": "near;maxDistance==10"}),
        400,
        "BadRequestData",
    )
    batch = f"{NGSI}/entityOperations/upsert"
    problem(client.post(batch, json=[], headers=auth_headers), 400, "BadRequestData")
    not_entities = problem(
        client.post(batch, json=[river(), [None, None]], headers=auth_headers),
        400,
        "BadRequestData",
    )
    assert "each item must be an entity" in not_entities["detail"]
    huge = b"[" + b" " * (6 * 1024 * 1024) + b"]"  # over the test app's 5 MB limit
    too_large = client.post(batch, content=huge, headers=json_headers)
    assert too_large.headers["content-type"].startswith("application/json")
    problem(too_large, 413, "BadRequestData")
    # Nothing of the refused requests was written.
    assert client.get(f"{NGSI}/entities").json() == []

    # Writing needs a staff member's token; reading does not.
    assert client.post(url, json=river()).status_code == 401
    assert (
        client.post(url, json=river(), headers={"Authorization": "cityos_wrong"}).status_code == 401
    )
    with db.session() as session:
        analyst = auth.create_user(session, "analyst", "analyst", "analyst-password")
        token = auth.issue_token(session, analyst, "t")
    assert client.post(url, json=river(), headers={"Authorization": token}).status_code == 403
    assert client.get(f"{NGSI}/entities").status_code == 200


def test_query_by_type_q_attrs_and_distance(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river(height=height(2.1, ago(5))))
    create(
        client,
        auth_headers,
        river(PARK, town="大沢六丁目", point=(139.5262, 35.6745), height=height(0.8, ago(5))),
    )
    create(
        client,
        auth_headers,
        {
            "id": RAIN,
            "type": "WeatherObserved",
            "name": prop("市役所 雨量計"),
            "town": prop("野崎一丁目"),
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [139.5597, 35.6831]},
            },
            "precipitation": prop(12.5, observedAt=iso(ago(5))),
        },
    )

    def ids(**params: str) -> list[str]:
        response = client.get(f"{NGSI}/entities", params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()]

    assert ids() == [OSAWA, PARK, RAIN]
    assert ids(type="WaterObserved") == [OSAWA, PARK]
    assert ids(type="WeatherObserved") == [RAIN]
    assert ids(q="height>1.5") == [OSAWA]
    assert ids(q="height<1.5|precipitation>=10") == [PARK, RAIN]
    assert ids(q='town=="大沢六丁目"') == [PARK]
    assert ids(q="alertLevel>=3") == [OSAWA]  # 2.1 m is above 避難判断水位 (2.0 m)
    assert ids(id=f"{RAIN},{PARK}") == [PARK, RAIN]
    # Within 1 km of a point by 野川公園: only that station (大沢 is ~1.3 km away).
    near = {
        "georel": "near;maxDistance==1000",
        "geometry": "Point",
        "coordinates": "[139.5262,35.6745]",
    }
    assert ids(**near) == [PARK]
    assert ids(**{**near, "georel": "near;maxDistance==5000"}) == [OSAWA, PARK, RAIN]
    assert ids(limit="1", offset="1") == [PARK]
    counted = client.get(
        f"{NGSI}/entities", params={"type": "WaterObserved", "count": "true", "limit": "1"}
    )
    assert counted.headers["NGSILD-Results-Count"] == "2"
    projected = client.get(
        f"{NGSI}/entities", params={"attrs": "precipitation", "options": "keyValues"}
    ).json()
    assert projected == [{"id": RAIN, "type": "WeatherObserved", "precipitation": 12.5}]


def test_update_and_append_attributes(client: TestClient, auth_headers: dict[str, str]) -> None:
    create(client, auth_headers, river())
    attrs = f"{NGSI}/entities/{OSAWA}/attrs"
    changed = client.patch(
        attrs,
        json={"name": prop("野川 大沢橋"), "height": height(35, ago(3), unitCode="CMT")},
        headers=auth_headers,
    )
    assert changed.status_code == 204, changed.text
    found = entity(client, options="keyValues")
    assert found["name"] == "野川 大沢橋"
    assert found["height"] == 0.35  # 35 cm, stored in metres

    partly = client.patch(
        attrs, json={"description": prop("説明"), "riverCode": prop("X1")}, headers=auth_headers
    )
    assert partly.status_code == 207
    assert partly.json()["notUpdated"][0]["attributeName"] == "riverCode"
    assert entity(client, options="keyValues")["description"] == "説明"

    appended = client.post(attrs, json={"riverCode": prop("X1")}, headers=auth_headers)
    assert appended.status_code == 204
    assert entity(client, options="keyValues")["riverCode"] == "X1"
    kept = client.post(
        attrs,
        params={"options": "noOverwrite"},
        json={"riverCode": prop("Y2")},
        headers=auth_headers,
    )
    assert kept.status_code == 207
    assert entity(client, options="keyValues")["riverCode"] == "X1"

    refused = client.patch(attrs, json={"town": prop("どこでもない町")}, headers=auth_headers)
    assert refused.status_code == 400
    assert entity(client, options="keyValues")["town"] == "大沢四丁目"
    assert (
        client.patch(
            f"{NGSI}/entities/{PARK}/attrs", json={"name": prop("x")}, headers=auth_headers
        ).status_code
        == 404
    )


def test_batch_upsert_creates_stations_then_records_readings(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    created = upsert(client, auth_headers, [river(), river(PARK, town="大沢六丁目")])
    assert created.status_code == 201, created.text
    assert created.json() == [OSAWA, PARK]
    start = ago(60)
    batch = [
        {
            "id": OSAWA,
            "type": "WaterObserved",
            "height": [height(0.5 + i / 100, start + timedelta(minutes=10 * i)) for i in range(6)],
        },
        {
            "id": PARK,
            "type": "WaterObserved",
            "height": [height(0.3, start + timedelta(minutes=10 * i)) for i in range(6)],
        },
    ]
    recorded = upsert(client, auth_headers, batch)
    assert recorded.status_code == 204, recorded.text
    assert entity(client, OSAWA, options="keyValues")["height"] == 0.55
    history = client.get(f"{NGSI}/temporal/entities/{PARK}", params={"attrs": "height"}).json()
    assert len(history["height"]) == 6


def test_batch_upsert_partial_failure_writes_nothing_of_a_failed_entity(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river(height=height(0.5, ago(60))))
    create(client, auth_headers, river(PARK, town="大沢六丁目", height=height(0.3, ago(60))))
    batch = [
        {
            "id": OSAWA,
            "type": "WaterObserved",
            "height": [height(0.6, ago(50)), height(0.7, ago(40))],
        },
        # One bad instance: none of this entity's readings nor its new name is written.
        {
            "id": PARK,
            "type": "WaterObserved",
            "name": prop("変わってはいけない"),
            "height": [height(0.4, ago(50)), height("0.5m", ago(40))],
        },
        # A new station whose thresholds fall: refused whole.
        river(
            "urn:ngsi-ld:WaterObserved:sengawa",
            town="新川",
            thresholds=prop([{"rank": 1, "value": 2}, {"rank": 2, "value": 1}]),
        ),
        {"type": "WaterObserved"},
    ]
    response = upsert(client, auth_headers, batch)
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["success"] == [OSAWA]
    failed = {e["entityId"]: e["error"] for e in result["errors"]}
    assert set(failed) == {PARK, "urn:ngsi-ld:WaterObserved:sengawa", ""}
    assert all(e["type"] == ERRORS + "BadRequestData" for e in failed.values())
    assert entity(client, OSAWA, options="keyValues")["height"] == 0.7
    park = entity(client, PARK, options="keyValues")
    assert park["height"] == 0.3
    assert park["name"] == "野川 大沢（テスト）"
    history = client.get(f"{NGSI}/temporal/entities/{PARK}", params={"attrs": "height"}).json()
    assert [i["value"] for i in history["height"]] == [0.3]
    assert client.get(f"{NGSI}/entities/urn:ngsi-ld:WaterObserved:sengawa").status_code == 404

    problem(upsert(client, auth_headers, {"id": OSAWA}), 400, "BadRequestData")  # type: ignore[arg-type]
    problem(upsert(client, auth_headers, []), 400, "BadRequestData")


def test_temporal_query_over_time_ranges(client: TestClient, auth_headers: dict[str, str]) -> None:
    create(client, auth_headers, river())
    start = ago(120)
    send_heights(client, auth_headers, [0.40, 0.41, 0.42, 0.43, 0.44, 0.45], start)
    url = f"{NGSI}/temporal/entities/{OSAWA}"

    def values(**params: str) -> list[float]:
        response = client.get(url, params={"attrs": "height", **params})
        assert response.status_code == 200, response.text
        return [instance["value"] for instance in response.json()["height"]]

    at = [iso(start + timedelta(minutes=10 * i)) for i in range(6)]
    assert values() == [0.40, 0.41, 0.42, 0.43, 0.44, 0.45]
    # between includes timeAt and excludes endTimeAt; before and after exclude timeAt.
    assert values(timerel="between", timeAt=at[1], endTimeAt=at[4]) == [0.41, 0.42, 0.43]
    assert values(timerel="before", timeAt=at[2]) == [0.40, 0.41]
    assert values(timerel="after", timeAt=at[3]) == [0.44, 0.45]
    assert values(lastN="2") == [0.44, 0.45]
    first = client.get(url, params={"attrs": "height"}).json()["height"][0]
    assert first["observedAt"] == at[0]
    assert first["unitCode"] == "MTR"
    assert first["instanceId"].startswith("urn:ngsi-ld:attribute:instance:")
    simplified = client.get(
        url,
        params={
            "attrs": "height",
            "options": "temporalValues",
            "timerel": "after",
            "timeAt": at[4],
        },
    ).json()
    assert simplified["height"] == {
        "type": "Property",
        "values": [[0.45, at[5]]],
        "unitCode": "MTR",
    }

    problem(client.get(url, params={"timerel": "between", "timeAt": at[0]}), 400, "BadRequestData")
    problem(client.get(url, params={"timerel": "before"}), 400, "BadRequestData")
    problem(
        client.get(url, params={"timerel": "after", "timeAt": "yesterday"}), 400, "BadRequestData"
    )
    problem(
        client.get(url, params={"timerel": "after", "timeAt": "2026-06-01T10:00:00"}),
        400,
        "BadRequestData",
    )
    problem(client.get(f"{NGSI}/temporal/entities/{PARK}"), 404, "ResourceNotFound")


@pytest.mark.parametrize("content_type", ["application/json", "application/ld+json"])
def test_both_content_types_are_accepted(
    client: TestClient, auth_headers: dict[str, str], content_type: str
) -> None:
    body = river()
    if content_type == "application/ld+json":
        body["@context"] = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    headers = {**auth_headers, "Content-Type": content_type}
    headers["Link"] = (
        '<https://example.org/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'
    )
    response = client.post(f"{NGSI}/entities", content=orjson.dumps(body), headers=headers)
    assert response.status_code == 201, response.text
