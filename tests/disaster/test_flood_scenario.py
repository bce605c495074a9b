"""`cityos demo --scenario flood` as a real process, then the app on the same database: the
野川 passes its thresholds, shelters open, a CAP alert is published and delivered by e-mail
(a real SMTP server) and a signed webhook, and a resident finds the nearest open shelter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.app import create_app
from cityos.core import auth
from cityos.db import utcnow
from cityos.disaster import cap, scenario
from cityos.sensors import demo as sensors_demo
from cityos.sensors import service as sensors
from cityos.settings import Settings
from tests.test_cli import cityos, env_for


def test_the_flood_scenario_runs_end_to_end(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    env = {**env_for(database_url, data_dir), "CITYOS_SITE_URL": "http://testserver"}
    # `make run` loads the demo (sample gauges included), then serves; the flood follows at
    # once in another terminal.
    loaded = cityos(env, "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "4 sample stations added" in loaded.stdout
    # As with `make run` in another terminal: the app serves the same database, and its own
    # delivery worker looks for due deliveries every 50 ms while the scenario plays.
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_IN_APP", "true")
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_INTERVAL", "0.05")
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        site_url="http://testserver",
        secret_key="test-secret-key-that-is-long-enough",
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            played = cityos(env, "demo", "--scenario", "flood")
            assert played.returncode == 0, played.stdout + played.stderr
            check_the_report(played.stdout, played.stderr)
            check_what_residents_see(app, client, played.stdout)
            check_what_staff_see_of_the_posts(app, client, played.stdout)
            # Another flood right away would need readings dated in the future: refused.
            again = cityos(env, "demo", "--scenario", "flood")
            assert again.returncode == 1
            assert "the sample gauges reported too recently" in again.stderr
    finally:
        app.state.db.dispose()


def check_the_report(out: str, err: str) -> None:
    for threshold in ("はん濫注意水位", "避難判断水位", "はん濫危険水位"):
        assert f"野川 大沢（サンプル）: {threshold}" in out
    assert "対象地域 / towns at risk: 大沢" in out
    assert "未配信" not in err
    # The resident of 大沢 got the evacuation order by e-mail; the webhook got it signed.
    mail = re.findall(r"SMTP → (\S+): (.*)", out)
    order = "【警戒レベル4】大沢に避難指示(野川の増水)"
    assert any(
        to.startswith("osawa.resident+") and subject == f"[三鷹市 防災] {order}"
        for to, subject in mail
    ), mail
    # Only what a resident of 大沢 asked for: nothing about the rain gauge in 野崎.
    assert not any("雨量計" in subject for _to, subject in mail)
    posts = re.findall(r"webhook → /cityos-demo \((.*?)\): (.*)", out)
    assert ("signature ok", order) in posts
    assert all(signed == "signature ok" for signed, _ in posts)
    assert len(posts) == out.count("お知らせ / notice:")  # the webhook takes every topic
    # Each crossing becomes one notice, not one per reading.
    assert out.count("お知らせ / notice: 【水位情報】野川 大沢（サンプル）がはん濫危険水位") == 1


def check_what_residents_see(app: FastAPI, client: TestClient, out: str) -> None:
    with app.state.db.session() as session:
        keys = sensors.station_keys(
            session, [sensors_demo.entity_id(d) for d in sensors_demo.DEMO_STATIONS]
        )
        newest = sensors.newest_observation(session, [key[0] for key in keys.values()])
    assert newest is not None
    assert newest <= utcnow()  # the flood ends now, never later
    status = client.get("/api/disaster/status").json()
    assert status["disaster_mode"]["active"] is True
    assert status["disaster_mode"]["hazard"] == "flood"
    [alert] = status["active_alerts"]
    assert status["open_shelter_count"] >= 1
    assert alert["level"] == 4
    assert alert["towns"] == ["大沢"]
    document = client.get(f"/disaster/alerts/{alert['id']}.cap.xml")
    assert document.status_code == 200
    assert cap.validation_errors(document.content) == []
    assert b"<msgType>Alert</msgType>" in document.content
    lat, lon = scenario.RESIDENT_POINT
    nearest = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": lat, "lon": lon, "hazard": "flood", "limit": 3},
    ).json()
    names = [place["name"] for place in nearest["shelters"]]
    assert names
    assert names[0] in out
    page = client.get("/disaster/nearest", params={"lat": lat, "lon": lon})
    assert page.status_code == 200
    assert names[0] in page.text
    assert "避難指示" in client.get("/").text  # the portal leads with it


def check_what_staff_see_of_the_posts(app: FastAPI, client: TestClient, out: str) -> None:
    """The residents' posts of the flood were replayed: the queue leads with the calls for
    rescue, the summaries with 大沢, and the question about shortages has its answer."""
    assert "SNS: 45 posts triaged (3 retweets/copies" in out
    assert (
        "質問 / question: 大沢で何が不足している？ → 大沢で不足が報告されているもの：ミルク" in out
    )
    with app.state.db.session() as session:
        staff = auth.create_user(session, "sns-staff", "staff", "sns-staff-password")
        headers = {"Authorization": auth.issue_token(session, staff, "flood")}
    queue = client.get("/api/sns/queue", headers=headers).json()["items"]
    first = queue[0]
    assert first["category"] == "rescue_request"
    assert first["urgency"] == "high"
    assert {item["town"] for item in queue if item["category"] == "rescue_request"} >= {
        "大沢四丁目",
        "大沢二丁目",
    }
    relayed = next(item for item in queue if "80代の母" in item["text"])
    assert relayed["copies"] == 3  # the post and its two retweets
    areas = client.get("/api/sns/summaries", params={"hours": 3}, headers=headers).json()["areas"]
    assert areas[0]["town"] == "大沢"
    assert areas[0]["level"] == 3
    short = client.get(
        "/api/sns/ask", params={"q": "大沢で何が不足している？"}, headers=headers
    ).json()
    assert short["items"][0]["name_ja"] == "ミルク"
    assert short["evidence"]


def test_an_unknown_scenario_is_refused(database_url: str, tmp_path: Path) -> None:
    refused = cityos(env_for(database_url, tmp_path / "data"), "demo", "--scenario", "tsunami")
    assert refused.returncode == 2
    assert "no scenario 'tsunami'" in refused.stderr
