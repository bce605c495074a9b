"""Disaster mode leads every page; the static snapshot follows every change; nginx serves it."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sqlalchemy_event

from cityos.db import Database
from cityos.disaster import nginx, service, snapshot
from cityos.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.disaster.conftest import by_name, open_shelter

MODE_ON: dict[str, Any] = {
    "active": True,
    "hazard": "flood",
    "towns": ["大沢"],
    "message_ja": "野川が増水しています。大沢の方は避難してください。",
    "message_en": "The Nogawa is rising: Osawa residents, please evacuate.",
}


def test_disaster_mode_leads_every_page_and_switching_back_is_logged(
    client: TestClient, auth_headers: dict[str, str], db: Database
) -> None:
    assert "disaster-banner" not in client.get("/").text
    response = client.put("/api/disaster/mode", json=MODE_ON, headers=auth_headers)
    assert response.status_code == 200
    assert response.json()["active"] is True
    for path in ("/", "/dataset", "/disaster"):
        page = client.get(path)
        assert "disaster-banner" in page.text, path
        assert MODE_ON["message_ja"] in page.text, path
    english = client.get("/dataset", params={"lang": "en"})
    assert MODE_ON["message_en"] in english.text
    assert "Flood" in english.text
    status = client.get("/api/disaster/status").json()
    assert status["disaster_mode"]["hazard"] == "flood"
    off = client.put("/api/disaster/mode", json={"active": False}, headers=auth_headers)
    assert off.status_code == 200
    assert "disaster-banner" not in client.get("/").text
    with db.session() as session:
        history = service.mode_history(session)
    assert [(h.active, h.hazard, h.by) for h in history] == [
        (False, "", "admin"),
        (True, "flood", "admin"),
    ]


def test_a_page_in_disaster_mode_takes_one_database_connection_not_two(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    # Under a surge every page render in disaster mode used to hold two pooled connections
    # (the page's and the banner's): at ~40 concurrent residents the pool ran dry and pages
    # stalled for 30 s. The banner now reads through the page's own session.
    assert client.put("/api/disaster/mode", json=MODE_ON, headers=auth_headers).status_code == 200
    engine = client.app.state.db.engine  # type: ignore[attr-defined]
    checkouts: list[object] = []

    def count(*_args: object) -> None:
        checkouts.append(object())

    sqlalchemy_event.listen(engine, "checkout", count)
    try:
        page = client.get("/disaster")
    finally:
        sqlalchemy_event.remove(engine, "checkout", count)
    assert page.status_code == 200
    assert MODE_ON["message_ja"] in page.text
    assert len(checkouts) == 1


def test_mode_refuses_unknown_towns_and_missing_hazard(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    town = client.put(
        "/api/disaster/mode", json={**MODE_ON, "towns": ["梅田"]}, headers=auth_headers
    )
    assert town.status_code == 422
    assert "梅田" in town.json()["detail"]
    hazard = client.put("/api/disaster/mode", json={"active": True}, headers=auth_headers)
    assert hazard.status_code == 422
    assert "hazard" in hazard.json()["errors"]
    assert client.put("/api/disaster/mode", json=MODE_ON).status_code == 401
    assert client.get("/api/disaster/mode").json()["active"] is False


def test_mode_hazard_narrows_the_nearest_search(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any]
) -> None:
    for name in ("中原小学校（校庭）", "中原小学校（体育館・校舎）"):
        open_shelter(client, auth_headers, by_name(shelters, name).id)
    point = {"lat": 35.6703, "lon": 139.5690, "limit": 1}
    calm = client.get("/api/disaster/shelters/nearest", params=point).json()
    assert calm["hazard"] is None
    client.put("/api/disaster/mode", json={**MODE_ON, "towns": []}, headers=auth_headers)
    flood = client.get("/api/disaster/shelters/nearest", params=point).json()
    assert flood["hazard"] == "flood"
    assert [s["name"] for s in flood["shelters"]] == ["中原小学校（体育館・校舎）"]


def read_snapshot(settings: Settings, relative: str) -> Any:
    return json.loads((settings.resolved_snapshot_dir / relative).read_bytes())


def test_every_change_rewrites_the_static_snapshot_before_the_answer(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any], settings: Settings
) -> None:
    school = by_name(shelters, "北野小学校（校舎・体育館）")
    open_shelter(client, auth_headers, school.id, people=12)
    status = read_snapshot(settings, snapshot.STATUS)
    assert [s["name"] for s in status["open_shelters"]] == [school.name]
    geo = read_snapshot(settings, snapshot.SHELTERS_GEOJSON)
    opened = [f for f in geo["features"] if f["properties"]["open"]]
    assert opened[0]["properties"]["people"] == 12
    client.put("/api/disaster/mode", json=MODE_ON, headers=auth_headers)
    assert read_snapshot(settings, snapshot.STATUS)["disaster_mode"]["active"] is True
    home = (settings.resolved_snapshot_dir / snapshot.HOME).read_text("utf-8")
    assert MODE_ON["message_ja"] in home
    assert school.name in home
    alert = client.post(
        "/api/disaster/alerts",
        json={"level": 4, "hazard": "flood", "towns": ["大沢"], "headline_ja": "避難指示",
              "text_ja": "避難してください"},
        headers=auth_headers,
    ).json()  # fmt: skip
    cap_file = settings.resolved_snapshot_dir / f"disaster/alerts/{alert['id']}.cap.xml"
    assert cap_file.read_bytes() == client.get(f"/disaster/alerts/{alert['id']}.cap.xml").content
    atom = (settings.resolved_snapshot_dir / snapshot.ATOM).read_text("utf-8")
    assert alert["identifier"] in atom


def test_busy_documents_are_answered_from_the_snapshot_with_etags(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any], settings: Settings
) -> None:
    first = client.get("/api/disaster/status")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=5"
    assert first.content == (settings.resolved_snapshot_dir / snapshot.STATUS).read_bytes()
    etag = first.headers["etag"]
    again = client.get("/api/disaster/status", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    open_shelter(client, auth_headers, by_name(shelters, "南浦小学校（校舎・体育館）").id)
    changed = client.get("/api/disaster/status", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["open_shelter_count"] == 1
    head = client.head("/api/disaster/shelters.geojson")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"].startswith("application/geo+json")
    light = client.get("/disaster/index.html")
    assert light.status_code == 200
    assert "南浦小学校" in light.text


def test_the_periodic_refresh_keeps_an_unchanged_snapshot_and_its_etag(
    client: TestClient, db: Database, settings: Settings, auth_headers: dict[str, str],
    shelters: list[Any],
) -> None:  # fmt: skip
    status_file = settings.resolved_snapshot_dir / snapshot.STATUS
    before = client.get("/api/disaster/status")
    written = status_file.stat().st_mtime_ns
    time.sleep(0.05)
    snapshot.write(db, settings)  # what the app does every minute
    assert status_file.stat().st_mtime_ns == written
    again = client.get("/api/disaster/status", headers={"If-None-Match": before.headers["etag"]})
    assert again.status_code == 304
    open_shelter(client, auth_headers, by_name(shelters, "南浦小学校（校舎・体育館）").id)
    after = client.get("/api/disaster/status")
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["generated_at"] > before.json()["generated_at"]


def test_snapshot_is_rebuilt_when_its_folder_is_lost(
    client: TestClient, settings: Settings
) -> None:
    import shutil

    client.get("/api/disaster/status")
    shutil.rmtree(settings.resolved_snapshot_dir)
    response = client.get("/api/disaster/shelters")
    assert response.status_code == 200
    assert "shelters" in response.json()
    assert (settings.resolved_snapshot_dir / snapshot.SHELTERS).exists()


@pytest.fixture
def nginx_front(tmp_path: Path, app: Any, settings: Settings, shelters: list[Any]) -> Any:
    """Debian's nginx with the configuration `cityos disaster nginx-config` prints."""
    with LiveServer(app) as server:
        port = free_port()
        work = tmp_path / "nginx"
        work.mkdir()
        conf = work / "nginx.conf"
        conf.write_text(
            nginx.standalone_config(
                settings.resolved_snapshot_dir,
                f"127.0.0.1:{port}",
                f"127.0.0.1:{server.port}",
                work,
            )
        )
        process = subprocess.Popen(
            ["/usr/sbin/nginx", "-c", str(conf), "-p", str(work)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(url + "/api/disaster/status", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    errors = process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"nginx did not start: {errors!r}") from None
                time.sleep(0.05)
        try:
            yield url, server
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_nginx_serves_the_snapshot_and_the_light_page_when_the_app_is_down(
    nginx_front: Any, settings: Settings
) -> None:
    url, server = nginx_front
    with urllib.request.urlopen(url + "/api/disaster/shelters") as response:
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.read() == (settings.resolved_snapshot_dir / snapshot.SHELTERS).read_bytes()
    with urllib.request.urlopen(url + "/dataset") as response:  # proxied to the app
        assert "データセット" in response.read().decode()
    server.__exit__(None, None, None)  # the app goes down
    with urllib.request.urlopen(url + "/api/disaster/status") as response:
        assert json.loads(response.read())["city"]["ja"] == "三鷹市"
    with urllib.request.urlopen(url + "/disaster/nearest?town=%E5%A4%A7%E6%B2%A2") as response:
        body = response.read().decode()
    assert "避難所" in body, "the light page stands in for the app"
    assert "三鷹市" in body
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url + "/disaster/alerts/0000-dead.cap.xml")
