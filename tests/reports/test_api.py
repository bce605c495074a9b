"""Open311 GeoReport v2 as a client written from the specification sees it: discovery, the
catalog, posting reports with an api_key and reading them back, filters, and every refusal
in the specification's error format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.reports import service
from cityos.settings import Settings
from tests.conftest import ADMIN_PASSWORD
from tests.reports.conftest import (
    BASE,
    CITY_HALL,
    STATION,
    Open311Client,
    count_requests,
    errors_of,
    parse,
    xml_requests,
)

CATALOG = [
    "road_damage", "streetlight", "park_equipment", "curve_mirror", "illegal_dumping",
    "graffiti", "abandoned_bicycle", "fallen_tree", "drainage", "other",
]  # fmt: skip
PRIVATE = {"email": "taro@example.jp", "phone": "0422-45-1151", "first_name": "花子",
           "last_name": "鈴木", "device_id": "device-123", "account_id": "acct-9"}  # fmt: skip


def test_discovery_points_at_this_endpoint(open311: Open311Client) -> None:
    found = open311.read("discovery")
    endpoint = found["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"http://testserver{BASE}"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = open311.read("discovery", "xml")
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_services_are_the_city_catalog_in_both_languages(open311: Open311Client) -> None:
    services = open311.read("services")
    assert [s["service_code"] for s in services] == CATALOG
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["road_damage"] == "道路の損傷（ひび割れ・穴）"
    assert names["streetlight"] == "街路灯の故障"
    assert all(s["type"] == "realtime" for s in services)
    metadata = {s["service_code"]: s["metadata"] for s in services}
    assert metadata["streetlight"] is True
    assert metadata["other"] is False

    english = {s["service_code"]: s for s in open311.read("services", lang="en")}
    assert english["streetlight"]["service_name"] == "Broken street light"
    assert english["streetlight"]["group"] == "Roads"

    root = open311.read("services", "xml")
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == CATALOG
    assert root.find("service/metadata") is not None


def test_a_service_definition_lists_its_attributes(open311: Open311Client) -> None:
    definition = open311.read("services/streetlight")
    assert definition["service_code"] == "streetlight"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert [a["code"] for a in definition["attributes"]] == ["pole_number", "symptom"]
    assert attributes["pole_number"]["datatype"] == "string"
    assert attributes["pole_number"]["required"] is False
    symptom = attributes["symptom"]
    assert symptom["datatype"] == "singlevaluelist"
    assert symptom["required"] is True
    assert symptom["variable"] is True
    assert {"key": "off", "name": "消えている"} in symptom["values"]

    root = open311.read("services/road_damage", "xml")
    assert root.tag == "service_definition"
    size = root.find("attributes/attribute")
    assert size is not None
    assert size.findtext("code") == "size"
    assert size.findtext("required") == "true"
    assert [v.findtext("key") for v in size.findall("values/value")] == ["small", "medium", "large"]

    english = open311.read("services/road_damage", lang="en")
    assert english["attributes"][0]["description"] == "Size of the damage"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_404(open311: Open311Client, fmt: str) -> None:
    [message] = errors_of(open311.get("services/potholes", fmt), 404, fmt)
    assert "potholes" in message
    assert "road_damage" in message


def test_post_then_read_back_by_id_and_by_token(open311: Open311Client, db: Database) -> None:
    created = open311.report(
        "streetlight",
        lat=STATION[0],
        long=STATION[1],
        description="駅前の街路灯が消えています",
        media_url="https://photos.example.org/lamp.jpg",
        **{"attribute[symptom]": "off", "attribute[pole_number]": "下連雀 12-3"},
        **PRIVATE,
    )
    request_id, token = created["service_request_id"], created["token"]
    assert request_id
    assert token
    assert created["account_id"] == "acct-9"
    assert "道路管理課" in created["service_notice"]

    [found] = open311.read(f"requests/{request_id}")
    assert found["service_request_id"] == request_id
    assert found["service_code"] == "streetlight"
    assert found["service_name"] == "街路灯の故障"
    assert found["status"] == "open"
    assert found["description"] == "駅前の街路灯が消えています"
    assert found["media_url"] == "https://photos.example.org/lamp.jpg"
    assert found["agency_responsible"] == "道路管理課"
    assert found["lat"] == pytest.approx(35.701)
    assert found["long"] == pytest.approx(139.561)
    assert found["address"] == "三鷹市下連雀三丁目"  # the nearest 町丁目
    assert found["requested_datetime"].endswith("+09:00")

    assert open311.read(f"tokens/{token}") == [{"service_request_id": request_id, "token": token}]
    token_root = open311.read(f"tokens/{token}", "xml")
    assert token_root.findtext("request/service_request_id") == request_id

    [as_xml] = xml_requests(open311.read(f"requests/{request_id}", "xml"))
    assert as_xml["service_request_id"] == request_id
    assert as_xml["status"] == "open"
    assert float(as_xml["lat"]) == pytest.approx(35.701)

    # Who sent it never leaves through a public answer, nor does the token.
    for resource in (f"requests/{request_id}", "requests", f"tokens/{token}"):
        for fmt in ("json", "xml"):
            text = open311.get(resource, fmt).text
            for value in PRIVATE.values():
                assert value not in text, (resource, fmt, value)
    assert token not in open311.get("requests").text
    with db.session() as session:
        stored = service.get_request(session, request_id)
        assert stored.email == "taro@example.jp"
        assert stored.attributes == {"symptom": "off", "pole_number": "下連雀 12-3"}
        assert stored.submitted_via == "key:tests"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_answers_in_the_format_asked_for(open311: Open311Client, fmt: str) -> None:
    response = open311.post(fmt, service_code="other", lat=CITY_HALL[0], long=CITY_HALL[1])
    assert response.status_code == 201, response.text
    answer = parse(response, fmt)
    if fmt == "xml":
        assert answer.tag == "service_requests"
        assert answer.findtext("request/service_request_id")
        assert answer.findtext("request/token")
    else:
        assert answer[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_needs_a_valid_api_key(open311: Open311Client, db: Database, fmt: str) -> None:
    report = {"service_code": "other", "lat": CITY_HALL[0], "long": CITY_HALL[1]}
    [missing] = errors_of(open311.post(fmt, key=False, **report), 403, fmt)
    assert "api_key" in missing
    [wrong] = errors_of(open311.post(fmt, api_key="o311_not-a-key", **report), 403, fmt)
    assert "api_key" in wrong
    assert count_requests(db) == 0


def test_a_revoked_key_and_a_token_without_the_permission_are_refused(
    client: TestClient, db: Database, api_key: str, admin: User
) -> None:
    report = {"service_code": "other", "lat": CITY_HALL[0], "long": CITY_HALL[1]}
    with db.session() as session:
        assert service.revoke_api_keys(session, ["tests"]) == 1
        analyst = auth.create_user(session, "analyst", "analyst", ADMIN_PASSWORD)
        analyst_token = auth.issue_token(session, analyst)
        staff = auth.create_user(session, "staff", "staff", ADMIN_PASSWORD)
        staff_token = auth.issue_token(session, staff)
    errors_of(client.post(f"{BASE}/requests.json", data={**report, "api_key": api_key}), 403)
    errors_of(
        client.post(f"{BASE}/requests.json", data=report, headers={"Authorization": analyst_token}),
        403,
    )
    # Staff taking a report by telephone post it with their own API token.
    by_phone = client.post(
        f"{BASE}/requests.json", data=report, headers={"Authorization": f"Bearer {staff_token}"}
    )
    assert by_phone.status_code == 201, by_phone.text
    with db.session() as session:
        stored = service.get_request(session, by_phone.json()[0]["service_request_id"])
        assert stored.submitted_via == "staff:staff"


def test_filters_by_id_status_service_code_and_dates(
    open311: Open311Client, db: Database, admin: User
) -> None:
    light = open311.report("streetlight", **{"attribute[symptom]": "flickering"})
    graffiti = open311.report("graffiti")
    dumping = open311.report("illegal_dumping", **{"attribute[items][]": ["bulky", "tyres"]})
    now = utcnow()
    with db.session() as session:
        service.change_status(
            session, graffiti["service_request_id"], "done", actor=admin, note="消しました"
        )
        old = service.submit_request(
            session,
            service.NewRequest(service_code="other", address_id="井の頭三丁目"),
            city="三鷹市",
            submitted_via="tests",
            now=now - timedelta(days=120),
        )
        old_id = str(old.id)

    def ids(**params: str) -> list[str]:
        return [r["service_request_id"] for r in open311.read("requests", **params)]

    recent = [dumping["service_request_id"], graffiti["service_request_id"], light["service_request_id"]]  # fmt: skip
    assert ids() == recent  # newest first, the last 90 days
    assert ids(status="closed") == [graffiti["service_request_id"]]
    assert ids(status="open") == [recent[0], recent[2]]
    assert ids(status="open,closed") == recent
    assert ids(service_code="streetlight,illegal_dumping") == [recent[0], recent[2]]
    start = (now - timedelta(days=200)).isoformat()
    assert ids(start_date=start) == [*recent, old_id]
    end = (now - timedelta(days=100)).isoformat()
    assert ids(start_date=start, end_date=end) == [old_id]
    assert ids(end_date=end) == [old_id]
    assert ids(start_date=(now + timedelta(hours=1)).isoformat()) == []
    # A list of ids overrides every other filter.
    assert ids(service_request_id=f"{old_id},{light['service_request_id']}", status="closed") == [
        light["service_request_id"],
        old_id,
    ]
    [closed] = open311.read(f"requests/{graffiti['service_request_id']}")
    assert closed["status_notes"] == "消しました"
    assert closed["service_notice"] == "完了"
    [old_entry] = open311.read(f"requests/{old_id}")
    assert old_entry["address_id"] == "井の頭三丁目"
    assert old_entry["address"] == "三鷹市井の頭三丁目"

    root = open311.read("requests", "xml", status="closed")
    assert [r["service_request_id"] for r in xml_requests(root)] == [graffiti["service_request_id"]]
    assert xml_requests(root)[0]["expected_datetime"] == ""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"service_code": "potholes"}, "service_code"),
        ({"service_request_id": "12,abc"}, "service_request_id"),
        ({"start_date": "2026-09-14"}, "start_date"),
        ({"end_date": "2026-02-30T10:00:00+09:00"}, "end_date"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_bad_filters_are_400_naming_the_field(
    open311: Open311Client, params: dict[str, str], field: str
) -> None:
    for fmt in ("json", "xml"):
        [message] = errors_of(open311.get("requests", fmt, **params), 400, fmt)
        assert message.startswith(f"{field}: ")


def test_jurisdiction_id_is_checked(open311: Open311Client, settings: Settings) -> None:
    assert settings.open311_jurisdiction == "mitaka.example"
    assert open311.read("services", jurisdiction_id="mitaka.example")
    [message] = errors_of(
        open311.get("services", "xml", jurisdiction_id="chofu.example"), 404, "xml"
    )
    assert "mitaka.example" in message
    report = {"service_code": "other", "lat": CITY_HALL[0], "long": CITY_HALL[1]}
    errors_of(open311.post(jurisdiction_id="chofu.example", **report), 404)
    assert open311.post(jurisdiction_id="mitaka.example", **report).status_code == 201


def test_a_point_outside_the_city_is_refused_with_the_city_bounds(
    open311: Open311Client, db: Database
) -> None:
    # East of the city (杉並区久我山) and Tokyo Station.
    for lat, lon in (("35.6900", "139.6100"), ("35.6812", "139.7671")):
        [message] = errors_of(open311.post(service_code="other", lat=lat, long=lon), 400)
        assert message.startswith("long: ")
        assert "35.655" in message
        assert "139.605" in message
        assert "三鷹市" in message
    [message] = errors_of(
        open311.post("xml", service_code="other", lat="35.0", long="139.56"), 400, "xml"
    )
    assert message.startswith("lat: ")
    assert "35.715" in message
    assert count_requests(db) == 0


def test_a_point_in_a_neighbouring_city_is_refused_naming_that_city(
    open311: Open311Client, db: Database
) -> None:
    # Inside the rectangle of CITY_BOUNDS, but 吉祥寺駅 is in 武蔵野市 and 深大寺 in 調布市.
    for (lat, lon), city_ja, city_en in (
        (("35.7033", "139.5797"), "武蔵野市", "Musashino City"),
        (("35.6657", "139.5478"), "調布市", "Chofu City"),
    ):
        assert service.CITY_BOUNDS.contains(float(lat), float(lon))
        [message] = errors_of(open311.post(service_code="other", lat=lat, long=lon), 400)
        assert message.startswith("lat: ")
        assert f"この地点は{city_ja}で、三鷹市の外です" in message
        assert city_en in message
    assert count_requests(db) == 0
    # Mitaka addresses within metres of the border, where the simplified boundary puts the
    # point on the other side (第五中学校, 新川1-7-20; ＭＵＧＥＮ, 野崎1-20-3): still taken.
    for lat, lon, town in (
        ("35.671082", "139.577317", "新川"),
        ("35.680954", "139.550156", "野崎"),
    ):
        created = open311.report("other", lat=lat, long=lon)
        with db.session() as session:
            stored = service.get_request(session, created["service_request_id"])
            assert stored.town.startswith(town)


def test_places_from_address_id_and_address_string(open311: Open311Client, db: Database) -> None:
    by_town = open311.report("other", lat=None, long=None, address_id="野崎一丁目")
    by_address = open311.report(
        "other", lat=None, long=None, address_string="三鷹市下連雀三丁目22番14号"
    )
    with db.session() as session:
        town = service.get_request(session, by_town["service_request_id"])
        assert (town.town, town.address_id) == ("野崎一丁目", "野崎一丁目")
        written = service.get_request(session, by_address["service_request_id"])
        assert written.town == "下連雀三丁目"
        assert written.address_string == "三鷹市下連雀三丁目22番14号"
        assert service.CITY_BOUNDS.contains(written.lat, written.lon)
    [outside] = errors_of(
        open311.post(service_code="other", address_string="東京都武蔵野市吉祥寺南町1-1"), 400
    )
    assert outside.startswith("address_string: ")
    assert "武蔵野市" in outside
    [unknown] = errors_of(open311.post(service_code="other", address_id="吉祥寺南町一丁目"), 400)
    assert unknown.startswith("address_id: ")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service_code": "potholes"}, "service_code"),
        ({"service_code": ""}, "service_code"),
        ({"lat": None, "long": None}, "location"),
        ({"long": None}, "long"),
        ({"lat": "north"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"description": "壊れています\x00"}, "description"),
        ({"description": "あ" * 4001}, "description"),
        ({"email": "not-an-address"}, "email"),
        ({"attribute[symptom]": "exploded"}, "attribute[symptom]"),
        ({"attribute[symptom]": None}, "attribute[symptom]"),
        ({"attribute[size]": "large"}, "attribute[size]"),
        ({"attribute[symptom][]": ["off", "damaged"]}, "attribute[symptom]"),
    ],
)
def test_bad_reports_are_400_naming_the_field_and_nothing_is_stored(
    open311: Open311Client, db: Database, fields: dict[str, object], field: str
) -> None:
    report: dict[str, object] = {
        "service_code": "streetlight",
        "lat": CITY_HALL[0],
        "long": CITY_HALL[1],
        "attribute[symptom]": "off",
    }
    report.update(fields)
    data = {name: value for name, value in report.items() if value is not None}
    for fmt in ("json", "xml"):
        messages = errors_of(open311.post(fmt, **data), 400, fmt)
        assert any(m.startswith(f"{field}: ") for m in messages), messages
        assert all(" / " in m for m in messages)  # Japanese, then English
    assert count_requests(db) == 0


def test_several_bad_fields_are_reported_together(open311: Open311Client) -> None:
    messages = errors_of(
        open311.post(
            service_code="road_damage", lat="36.5", long=CITY_HALL[1], media_url="ftp://x"
        ),
        400,
    )
    assert [m.split(":")[0] for m in messages] == ["lat", "media_url", "attribute[size]"]


def test_script_in_a_description_is_kept_as_text_and_escaped(open311: Open311Client) -> None:
    script = '<script>alert("x")</script> & <b>壊れた</b>'
    created = open311.report("graffiti", description=script)
    request_id = created["service_request_id"]
    [as_json] = open311.read(f"requests/{request_id}")
    assert as_json["description"] == script
    raw = open311.get(f"requests/{request_id}", "xml")
    assert b"<script>" not in raw.content
    assert b"&lt;script&gt;" in raw.content
    [as_xml] = xml_requests(parse(raw, "xml"))
    assert as_xml["description"] == script


def test_oversized_and_wrongly_encoded_bodies_are_refused(
    open311: Open311Client, client: TestClient, db: Database, api_key: str
) -> None:
    big = {"service_code": "other", "lat": CITY_HALL[0], "long": CITY_HALL[1], "api_key": api_key}
    [message] = errors_of(
        client.post(f"{BASE}/requests.xml", data={**big, "description": "x" * 300_000}), 413, "xml"
    )
    assert "KB" in message
    # Over the upload limit of the whole site (5 MB in tests): refused before it is read.
    huge = client.post(
        f"{BASE}/requests.json",
        content=b"description=" + b"x" * (6 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    errors_of(huge, 413)
    errors_of(client.post(f"{BASE}/requests.json", json=big), 415)
    errors_of(
        client.post(
            f"{BASE}/requests.json",
            content=b"service_code=other&description=%FF%FE",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        400,
    )
    assert count_requests(db) == 0


def test_a_flood_from_one_client_is_rate_limited(
    open311: Open311Client, settings: Settings, db: Database
) -> None:
    settings.reports_per_minute = 3
    for number in range(3):
        open311.report("graffiti", description=f"落書き {number}")
    flood = open311.post("xml", service_code="graffiti", lat=CITY_HALL[0], long=CITY_HALL[1])
    [message] = errors_of(flood, 429, "xml")
    assert int(flood.headers["retry-after"]) > 0
    assert "秒" in message
    assert count_requests(db) == 3


def test_unknown_paths_and_methods_answer_in_open311_format(open311: Open311Client) -> None:
    errors_of(open311.http.get(f"{BASE}/complaints.xml"), 404, "xml")
    errors_of(open311.http.get(f"{BASE}/requests/12345.json"), 404)
    errors_of(open311.http.get(f"{BASE}/tokens/no-such-token.json"), 404)
    errors_of(open311.http.delete(f"{BASE}/services.json"), 405)
