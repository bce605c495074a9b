"""The public pages: the map and list of stations, and a station's chart and table."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from cityos.db import Database, utcnow
from cityos.sensors import demo
from tests.sensors.conftest import ago, create, height, river, send_heights


def flooded(db: Database) -> None:
    """The sample stations, with a flood that ends now."""
    start = utcnow() - timedelta(minutes=60)
    with db.session() as session:
        demo.load_demo_stations(session, now=start, history_hours=6)
        demo.simulate_flood(session, start, 60)


def test_the_map_page_lists_every_station_with_its_state(client: TestClient, db: Database) -> None:
    flooded(db)
    page = client.get("/sensors")
    assert page.status_code == 200
    html = page.text
    assert "<h1>河川水位・雨量の観測所</h1>" in html
    rows = re.findall(
        r'<tr data-state="([a-z0-9]+)">\s*<th scope="row"><a href="/sensors/([a-z-]+)">', html
    )
    states = {code: state for state, code in rows}
    assert states == {
        "mitaka-nogawa-osawa": "level4",
        "mitaka-nogawa-park": "level3",
        "mitaka-sengawa-shinkawa": "level0",
        "mitaka-city-hall": "level2",  # the rain eases at the end: 激しい雨
    }
    assert "氾濫危険" in html
    assert "避難判断" in html
    assert "平常" in html
    assert "激しい雨</td>" in html  # the rain gauge's state in its own words
    points = json.loads(html.split('id="sensor-points">', 1)[1].split("</script>", 1)[0])
    assert len(points) == 4
    assert {p["url"] for p in points} == {f"/sensors/{code}" for code in states}
    assert "/static/js/sensors-map.js" in html

    english = client.get("/sensors?lang=en").text
    assert "River level and rain gauges" in english
    assert "Danger" in english
    assert "Nogawa River at Osawa (sample)" in english


def test_a_station_page_draws_the_level_and_its_thresholds(
    client: TestClient, db: Database
) -> None:
    flooded(db)
    page = client.get("/sensors/mitaka-nogawa-osawa")
    assert page.status_code == 200
    html = page.text
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg
    assert "<polyline" in svg
    for label in (
        "水防団待機水位 1.2 m",
        "はん濫注意水位 1.6 m",
        "避難判断水位 2 m",
        "はん濫危険水位 2.4 m",
    ):
        assert label in svg, label
    assert "期間中の最高 2.7 m" in svg  # the text alternative of the chart
    assert 'class="latest-value">2.7 m<' in html
    assert "氾濫危険" in html
    assert "サンプル" in html  # samples say so
    table = html.split('id="table-heading"', 1)[1]
    assert "10分ごとの最高値" in table
    assert '<td class="num">2.7</td>' in table
    assert html.count("超過</td>") == 4  # the crossing history
    assert 'href="?range=24h" aria-current="page"' in html

    week = client.get("/sensors/mitaka-nogawa-osawa?range=7d&lang=en").text
    assert 'href="?range=7d" aria-current="page"' in week
    assert "highest every hour" in week
    assert "Flood danger level 2.4 m" in week
    assert client.get("/sensors/mitaka-nogawa-osawa?range=1y").status_code == 422
    assert client.get("/sensors/no-such-station").status_code == 404


def test_a_silent_station_is_shown_offline(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river(height=height(0.4, ago(90))))
    listing = client.get("/sensors").text
    assert 'data-state="offline"' in listing
    assert "通信途絶（最後: 平常）" in listing
    page = client.get("/sensors/nogawa-osawa").text
    assert "通信途絶" in page
    assert "予定の間隔（10分）" in page
    send_heights(client, auth_headers, [0.41], ago(1))
    assert 'data-state="level0"' in client.get("/sensors").text


def test_set_apart_readings_are_listed_but_not_drawn(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river(height=height(0.4, ago(30))))
    send_heights(client, auth_headers, [6.0, 0.42], ago(20))
    html = client.get("/sensors/nogawa-osawa").text
    flagged = html.split('id="flagged-heading"', 1)[1]
    assert "ありえない値" in flagged
    assert '<td class="num">6</td>' in flagged
    assert "期間中の最高 0.42 m" in html
