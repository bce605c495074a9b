"""Filing readings: threshold crossings once each way, and duplicates, late and impossible
readings kept apart without ever becoming the current value or an alarm."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cityos.core.events import Event, ThresholdCrossed
from cityos.db import Database
from cityos.sensors import service
from tests.sensors.conftest import (
    NGSI,
    OSAWA,
    ago,
    create,
    crossings,
    entity,
    height,
    river,
    send_heights,
    upsert,
)

STANDBY, WARNING, DECISION, DANGER = (
    "水防団待機水位",
    "はん濫注意水位",
    "避難判断水位",
    "はん濫危険水位",
)


def test_a_rising_and_falling_river_crosses_each_threshold_once_each_way(
    client: TestClient, auth_headers: dict[str, str], events: list[Event], db: Database
) -> None:
    create(client, auth_headers, river())
    # Up through every level, hovering at each one (and dipping by less than the 5 cm
    # hysteresis), a crest, then down again.
    rising = [0.5, 1.0, 1.21, 1.25, 1.18, 1.3, 1.61, 1.58, 1.7, 2.05, 2.1, 1.98, 2.3, 2.45, 2.6]
    falling = [2.5, 2.38, 2.41, 2.2, 1.94, 1.7, 1.54, 1.45, 1.2, 1.14, 0.9, 0.6]
    start = ago(len(rising + falling) * 10 + 10)
    send_heights(client, auth_headers, rising, start)
    assert crossings(events) == [(STANDBY, "up"), (WARNING, "up"), (DECISION, "up"), (DANGER, "up")]
    assert entity(client, options="keyValues")["alertLevel"] == 4

    send_heights(client, auth_headers, falling, start + timedelta(minutes=10 * len(rising)))
    assert crossings(events) == [
        (STANDBY, "up"), (WARNING, "up"), (DECISION, "up"), (DANGER, "up"),
        (DANGER, "down"), (DECISION, "down"), (WARNING, "down"), (STANDBY, "down"),
    ]  # fmt: skip
    first = next(e for e in events if isinstance(e, ThresholdCrossed))
    assert first.station_id == OSAWA
    assert first.town == "大沢四丁目"
    assert first.rank == 1
    assert first.value == 1.21
    assert first.unit == "m"
    assert entity(client, options="keyValues")["alertLevel"] == 0
    with db.session() as session:
        history = service.crossings(session, service.get_station(session, OSAWA), limit=100)
        assert [(c.name, c.direction) for c in reversed(history)] == crossings(events)


def test_a_level_crossed_in_one_jump_emits_every_level_between(
    client: TestClient, auth_headers: dict[str, str], events: list[Event]
) -> None:
    create(client, auth_headers, river(height=height(1.0, ago(30))))
    send_heights(client, auth_headers, [2.1, 1.1], ago(20))
    assert crossings(events) == [
        (STANDBY, "up"), (WARNING, "up"), (DECISION, "up"),
        (DECISION, "down"), (WARNING, "down"), (STANDBY, "down"),
    ]  # fmt: skip


def test_duplicates_late_and_impossible_readings_are_kept_apart(
    client: TestClient, auth_headers: dict[str, str], events: list[Event]
) -> None:
    create(client, auth_headers, river())
    start = ago(60)
    send_heights(client, auth_headers, [0.50, 0.52, 0.55], start)
    # The third reading's time, from the same clock reading (a second ticking between two
    # calls of ago() made it another time, and the duplicate a plausible new reading).
    latest = start + timedelta(minutes=20)
    batch = [
        height(0.9, latest),  # the same time again: duplicate
        height(0.52, ago(50)),  # a stored time: duplicate
        height(0.51, ago(45)),  # older than the latest: out of order
        height(-0.3, ago(30)),  # negative depth: impossible
        height(4.8, ago(25)),  # +4.25 m in 15 minutes: impossible, and above every threshold
        height(9.9, ago(-60)),  # an hour in the future: impossible
        height(0.56, ago(20)),  # a plausible next reading
    ]
    response = upsert(
        client, auth_headers, [{"id": OSAWA, "type": "WaterObserved", "height": batch}]
    )
    assert response.status_code == 204, response.text
    # Only the plausible reading is current; no alarm was raised.
    current = entity(client)["height"]
    assert current["value"] == 0.56
    assert crossings(events) == []
    assert entity(client, options="keyValues")["alertLevel"] == 0

    url = f"{NGSI}/temporal/entities/{OSAWA}"
    shown = client.get(url, params={"attrs": "height"}).json()["height"]
    assert [i["value"] for i in shown] == [0.50, 0.52, 0.55, 0.56]
    everything = client.get(url, params={"attrs": "height", "includeFlagged": "true"}).json()[
        "height"
    ]
    flags = {(i["value"], i.get("flag", {}).get("value", "ok")) for i in everything}
    assert flags >= {
        (0.9, "duplicate"),
        (0.52, "duplicate"),
        (0.51, "out_of_order"),
        (-0.3, "impossible"),
        (4.8, "impossible"),
    }
    reasons = {i["value"]: i["flag"]["reason"] for i in everything if "flag" in i}
    assert "下限" in reasons[-0.3]
    assert "ありえない変化" in reasons[4.8]
    future = client.get(
        url,
        params={
            "attrs": "height",
            "includeFlagged": "true",
            "timerel": "after",
            "timeAt": ago(0).isoformat(),
        },
    ).json()["height"]
    assert future[0]["flag"]["value"] == "impossible"
    assert "未来" in future[0]["flag"]["reason"]


def test_a_station_can_allow_larger_jumps(
    client: TestClient, auth_headers: dict[str, str], events: list[Event]
) -> None:
    limits = {"height": {"min": -1.0, "maxChange": 5.0, "maxChangeSeconds": 600}}
    create(
        client,
        auth_headers,
        river(readingLimits={"type": "Property", "value": limits}, height=height(0.5, ago(30))),
    )
    send_heights(client, auth_headers, [-0.2, 3.0], ago(20))
    assert entity(client, options="keyValues")["height"] == 3.0
    assert crossings(events)[-1] == (DANGER, "up")
