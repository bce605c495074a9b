"""Shelters: synced from the portal's datasets, live status with history, nearest, check-in."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.models import User
from cityos.db import Database
from cityos.disaster import service
from cityos.disaster.models import Shelter
from tests.conftest import csrf_of, login
from tests.disaster.conftest import by_name, open_shelter

# A point in 中原二丁目, Mitaka (near 中原小学校).
NAKAHARA = (35.6703, 139.5690)


def test_shelters_come_from_both_datasets_with_their_hazards(shelters: list[Any]) -> None:
    school = by_name(shelters, "中原小学校（体育館・校舎）")
    assert school.is_emergency_site
    assert {"flood", "inland_flood", "landslide"} <= set(school.hazards)
    assert school.town == "中原二丁目"
    assert school.city == "三鷹市"
    both = by_name(shelters, "井の頭コミュニティ・センター")
    assert both.is_shelter, "one place listed in both datasets is one shelter"
    assert both.is_emergency_site
    park = by_name(shelters, "三鷹中央防災公園")
    assert park.hazards == ["earthquake"]
    assert not park.is_shelter
    assert all(s.lat and 35.6 < s.lat < 35.8 for s in shelters)


def test_reuploading_a_dataset_resyncs_and_keeps_vanished_places_inactive(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any], db: Database
) -> None:
    dataset = client.get(
        "/api/3/action/package_show", params={"id": "mitaka-designated-shelters"}
    ).json()["result"]
    resource_id = dataset["resources"][0]["id"]
    csv = (
        "名称,住所,緯度,経度,指定避難所との住所同一,災害種別_洪水,災害種別_地震,想定収容人数\n"
        "新しい避難所,東京都三鷹市下連雀三丁目22番,35.6990,139.5600,,1,1,350\n"
    ).encode()
    response = client.post(
        "/api/3/action/resource_update",
        data={"id": resource_id},
        files={"upload": ("shelters.csv", csv, "text/csv")},
        headers=auth_headers,
    )
    assert response.status_code == 200, response.text
    with db.session() as session:
        names = {s.name: s for s in service.list_shelters(session)}
        assert names["新しい避難所"].capacity == 350
        assert set(names["新しい避難所"].hazards) == {"flood", "earthquake"}
        # Places only in the replaced file are gone from the list but kept for their history.
        assert "だいちグループホーム三鷹中原" not in names
        query = select(Shelter).where(Shelter.name == "だいちグループホーム三鷹中原")
        kept = session.scalars(query).unique().one()
        assert kept.active is False


def test_staff_status_update_shows_crowding_and_keeps_who_and_when(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any], db: Database
) -> None:
    school = by_name(shelters, "中原小学校（体育館・校舎）")
    body = open_shelter(client, auth_headers, school.id, people=10, capacity=100, wifi=True)
    assert body["open"]
    assert body["crowding"] == "vacant"
    assert body["crowding_label"] == {"ja": "空きあり", "en": "Space available"}
    body = open_shelter(client, auth_headers, school.id, people=85)
    assert body["crowding_label"]["ja"] == "混雑"
    body = open_shelter(client, auth_headers, school.id, people=100)
    assert body["crowding_label"]["ja"] == "満員"
    with db.session() as session:
        history = service.status_history(session, school.id)
    assert [h.changes.get("people") for h in history][:3] == [[85, 100], [10, 85], [0, 10]]
    assert all(h.by == "admin" for h in history)
    audit = client.get("/staff/audit")  # not logged in: the page asks for a login
    assert audit.status_code in (200, 303)


def test_bad_status_values_are_refused_and_nothing_changes(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any], db: Database
) -> None:
    school = by_name(shelters, "北野小学校（体育館・校舎）")
    url = f"/api/disaster/shelters/{school.id}/status"
    bad = client.patch(url, json={"is_open": True, "people": -3}, headers=auth_headers)
    assert bad.status_code == 422
    assert "people" in str(bad.json()["errors"])
    assert client.patch(url, json={"is_open": True}).status_code == 401
    missing = client.patch(
        "/api/disaster/shelters/no-such-id/status", json={"is_open": True}, headers=auth_headers
    )
    assert missing.status_code == 404
    with db.session() as session:
        status = service.get_shelter(session, school.id).status
        assert status is not None
        assert status.is_open is False
        assert service.status_history(session, school.id) == []


def test_nearest_lists_open_shelters_for_the_hazard_with_straight_line_note(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any]
) -> None:
    flood_ok = by_name(shelters, "中原小学校（体育館・校舎）")
    quake_only = by_name(shelters, "中原小学校（校庭）")
    far = by_name(shelters, "井口コミュニティ・センター")
    for shelter in (flood_ok, quake_only, far):
        open_shelter(client, auth_headers, shelter.id, people=5, capacity=200)
    answer = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": NAKAHARA[0], "lon": NAKAHARA[1], "hazard": "flood", "limit": 5},
    ).json()
    names = [s["name"] for s in answer["shelters"]]
    assert names == ["中原小学校（体育館・校舎）", "井口コミュニティ・センター"]
    assert answer["distances"] == "straight-line"
    assert "直線距離" in answer["note"]["ja"]
    first = answer["shelters"][0]
    assert first["distance_m"] < 200
    assert first["walking_minutes"] <= 3
    assert first["open"] is True
    quake = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": NAKAHARA[0], "lon": NAKAHARA[1], "hazard": "earthquake", "limit": 1},
    ).json()
    assert [s["name"] for s in quake["shelters"]] == ["中原小学校（校庭）"]


def test_nearest_in_calm_times_offers_designated_places(
    client: TestClient, shelters: list[Any]
) -> None:
    answer = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": NAKAHARA[0], "lon": NAKAHARA[1], "open_only": "false", "limit": 3},
    ).json()
    assert len(answer["shelters"]) == 3
    assert all(s["open"] is False for s in answer["shelters"])
    # 福祉避難所 (here a group home for people who need care) are not offered to everyone.
    assert answer["shelters"][0]["name"].startswith("中原小学校")
    welfare = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": NAKAHARA[0], "lon": NAKAHARA[1], "open_only": "false", "welfare": "true"},
    ).json()
    assert welfare["shelters"][0]["name"] == "だいちグループホーム三鷹中原"
    closed = client.get(
        "/api/disaster/shelters/nearest", params={"lat": NAKAHARA[0], "lon": NAKAHARA[1]}
    ).json()
    assert closed["shelters"] == []


def test_nearest_refuses_points_outside_japan_and_unknown_hazards(
    client: TestClient, shelters: list[Any]
) -> None:
    outside = client.get("/api/disaster/shelters/nearest", params={"lat": 48.85, "lon": 2.35})
    assert outside.status_code == 422
    assert set(outside.json()["errors"]) == {"lat", "lon"}
    hazard = client.get(
        "/api/disaster/shelters/nearest",
        params={"lat": NAKAHARA[0], "lon": NAKAHARA[1], "hazard": "meteor"},
    )
    assert hazard.status_code == 422
    assert "hazard" in hazard.json()["errors"]
    assert (
        client.get("/api/disaster/shelters/nearest", params={"lat": "x", "lon": 1}).status_code
        == 422
    )


def test_resident_finds_a_shelter_by_town_or_address_in_the_page(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any]
) -> None:
    open_shelter(client, auth_headers, by_name(shelters, "北野小学校（校舎・体育館）").id)
    page = client.get("/disaster/nearest", params={"town": "北野三丁目", "hazard": "earthquake"})
    assert page.status_code == 200
    assert "北野小学校（校舎・体育館）" in page.text
    assert "直線距離" in page.text
    typed = client.get("/disaster/nearest", params={"q": "三鷹市北野3-6-1"})
    assert "北野小学校（校舎・体育館）" in typed.text
    # The form always sends the (empty) location fields next to the address.
    blank = client.get("/disaster/nearest", params={"lat": "", "lon": "", "town": "北野三丁目"})
    assert blank.status_code == 200
    assert "北野小学校（校舎・体育館）" in blank.text
    for bad in ("abc", "nan", "1e400"):
        wrong = client.get("/disaster/nearest", params={"lat": bad, "lon": "139.5"})
        assert wrong.status_code == 422, bad
    unknown = client.get("/disaster/nearest", params={"q": "どこでもない場所"})
    assert unknown.status_code == 422
    assert "場所がわかりませんでした" in unknown.text


def test_check_in_gives_a_private_family_link_and_staff_see_only_counts(
    client: TestClient, auth_headers: dict[str, str], shelters: list[Any]
) -> None:
    school = by_name(shelters, "南浦小学校（校舎・体育館）")
    closed = client.post("/api/disaster/checkins", json={"shelter_id": school.id})
    assert closed.status_code == 422
    assert "開設されていません" in closed.json()["detail"]
    open_shelter(client, auth_headers, school.id)
    page = client.get(f"/disaster/shelters/{school.id}")
    done = client.post(
        f"/disaster/shelters/{school.id}/checkin",
        data={"csrf_token": csrf_of(page.text), "display_name": "三鷹 花子", "message": "元気です"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    done_page = client.get(done.headers["location"])
    link = done_page.text.split('id="family-link" tabindex="0">', 1)[1].split("<", 1)[0]
    assert link.startswith("http://testserver/f/")
    assert "line.me/R/share" in done_page.text
    assert "mailto:" in done_page.text
    family = client.get(link.removeprefix("http://testserver"))
    assert "三鷹 花子" in family.text
    assert "南浦小学校" in family.text
    assert "元気です" in family.text
    assert family.headers["cache-control"] == "private, no-store"
    # Nobody else sees the name: not the public status, not the shelter list, not staff.
    assert "三鷹 花子" not in client.get("/api/disaster/status").text
    assert "三鷹 花子" not in client.get("/api/disaster/shelters").text
    login(client)
    console = client.get("/staff/disaster")
    assert "三鷹 花子" not in console.text
    assert client.get("/f/not-a-real-token").status_code == 404


def test_check_in_flood_from_one_address_gets_429(
    client: TestClient, app: Any, auth_headers: dict[str, str], shelters: list[Any]
) -> None:
    app.state.settings.checkins_per_minute = 3
    school = by_name(shelters, "東台小学校（校舎・体育館）")
    open_shelter(client, auth_headers, school.id)
    codes = [
        client.post("/api/disaster/checkins", json={"shelter_id": school.id}).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    refused = client.post("/api/disaster/checkins", json={"shelter_id": school.id})
    assert int(refused.headers["retry-after"]) >= 1
    assert "too many requests" in refused.json()["detail"]
    # Reading public information is not blocked by the check-in limit.
    assert client.get("/api/disaster/status").status_code == 200


def test_staff_console_updates_status_from_the_phone_form(
    client: TestClient, shelters: list[Any], admin: User, db: Database
) -> None:
    login(client)
    school = by_name(shelters, "大沢台小学校（校舎・体育館）")
    form = client.get(f"/staff/disaster/shelters/{school.id}")
    assert form.status_code == 200
    saved = client.post(
        f"/staff/disaster/shelters/{school.id}",
        data={"csrf_token": csrf_of(form.text), "is_open": "on", "people": "40",
              "capacity": "50", "pets": "on", "supplies_short": "毛布", "notes": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    info = client.get(f"/api/disaster/shelters/{school.id}").json()
    assert info["open"]
    assert info["people"] == 40
    assert info["services"]["pets"]
    assert info["supplies_short"] == "毛布"
    assert info["crowding"] == "crowded"
    bad = client.post(
        f"/staff/disaster/shelters/{school.id}",
        data={"csrf_token": csrf_of(form.text), "is_open": "on", "people": "たくさん"},
    )
    assert bad.status_code == 422
    assert "整数" in bad.text
    history = client.get(f"/staff/disaster/shelters/{school.id}")
    assert "people: 0 → 40" in history.text
    assert "admin" in history.text
