"""Alerts: composed by staff, published as CAP 1.2 (valid against the XSD), Atom, JSON, pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from cityos.disaster import cap
from tests.conftest import csrf_of, login

NS = {"cap": cap.CAP_NS, "atom": cap.ATOM_NS}
ALERT: dict[str, Any] = {
    "level": 4,
    "hazard": "flood",
    "towns": ["大沢", "野崎"],
    "headline_ja": "野川の増水のため避難指示を発令しました",
    "text_ja": "大沢・野崎の野川沿いにお住まいの方は、直ちに避難してください。",
    "text_en": "Residents along the Nogawa river in Osawa and Nozaki: evacuate now.",
    "text_easy": "のがわ の みず が ふえて います。すぐ にげて ください。",
}


def publish(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post("/api/disaster/alerts", json={**ALERT, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def cap_of(client: TestClient, alert_id: str) -> tuple[bytes, ET.Element]:
    response = client.get(f"/disaster/alerts/{alert_id}.cap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cap+xml")
    return response.content, ET.fromstring(response.content)


def test_published_alert_is_valid_cap_in_japanese_and_english(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    alert = publish(client, auth_headers)
    assert alert["level_label"]["ja"] == "避難指示"
    assert alert["msg_type"] == "Alert"
    xml, root = cap_of(client, alert["id"])
    assert cap.validation_errors(xml) == []
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:identifier", namespaces=NS) == alert["identifier"]
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["ja-JP", "en-US"]
    ja, en = infos
    assert ja.findtext("cap:urgency", namespaces=NS) == "Immediate"
    assert ja.findtext("cap:responseType", namespaces=NS) == "Evacuate"
    assert "大沢" in (ja.findtext("cap:area/cap:areaDesc", namespaces=NS) or "")
    assert len(ja.findall("cap:area/cap:circle", NS)) == 2  # one per town, from the address data
    assert en.findtext("cap:description", namespaces=NS) == ALERT["text_en"]
    assert "Evacuation order" in (en.findtext("cap:headline", namespaces=NS) or "")


def test_alert_appears_in_json_atom_status_and_pages(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    alert = publish(client, auth_headers)
    listed = client.get("/api/disaster/alerts").json()["alerts"]
    assert [a["id"] for a in listed] == [alert["id"]]
    status = client.get("/api/disaster/status").json()
    assert [a["id"] for a in status["active_alerts"]] == [alert["id"]]
    feed = ET.fromstring(client.get("/disaster/alerts.atom").content)
    entries = feed.findall("atom:entry", NS)
    assert len(entries) == 1
    assert entries[0].findtext("atom:title", namespaces=NS) == ALERT["headline_ja"]
    related = [link.get("href") for link in entries[0].findall("atom:link", NS)]
    assert f"http://testserver/disaster/alerts/{alert['id']}.cap.xml" in related
    page = client.get(f"/disaster/alerts/{alert['id']}")
    assert ALERT["text_easy"] in page.text
    assert "避難指示" in page.text
    english = client.get(f"/disaster/alerts/{alert['id']}", params={"lang": "en"})
    assert ALERT["text_en"] in english.text


def test_update_and_cancel_follow_cap_references(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    first = publish(client, auth_headers, level=3, headline_ja="高齢者等避難を発令しました")
    update = client.post(
        f"/api/disaster/alerts/{first['id']}/update",
        json={"level": 4, "headline_ja": "避難指示に引き上げました"},
        headers=auth_headers,
    )
    assert update.status_code == 201
    updated = update.json()
    xml, root = cap_of(client, updated["id"])
    assert cap.validation_errors(xml) == []
    assert root.findtext("cap:msgType", namespaces=NS) == "Update"
    references = root.findtext("cap:references", namespaces=NS) or ""
    assert references == f"{cap_sender(client, first)},{first['identifier']},{first['sent']}"
    # The original is replaced: acting on it again is a conflict, not a second branch.
    again = client.post(f"/api/disaster/alerts/{first['id']}/update", json={}, headers=auth_headers)
    assert again.status_code == 409
    status = client.get("/api/disaster/status").json()
    assert [a["id"] for a in status["active_alerts"]] == [updated["id"]]
    cancel = client.post(
        f"/api/disaster/alerts/{updated['id']}/cancel",
        json={"text_ja": "野川の水位が下がりました"},
        headers=auth_headers,
    )
    assert cancel.status_code == 201
    xml, root = cap_of(client, cancel.json()["id"])
    assert cap.validation_errors(xml) == []
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert root.findtext("cap:note", namespaces=NS) == "野川の水位が下がりました"
    assert client.get("/api/disaster/status").json()["active_alerts"] == []


def cap_sender(client: TestClient, alert: dict[str, Any]) -> str:
    _xml, root = cap_of(client, alert["id"])
    return root.findtext("cap:sender", namespaces=NS) or ""


def test_bad_alerts_are_refused_with_the_fields_named(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    no_towns = client.post(
        "/api/disaster/alerts", json={**ALERT, "towns": []}, headers=auth_headers
    )
    assert no_towns.status_code == 422
    assert "towns" in no_towns.json()["errors"]
    unknown = client.post(
        "/api/disaster/alerts", json={**ALERT, "towns": ["霞が関"]}, headers=auth_headers
    )
    assert unknown.status_code == 422
    assert "霞が関" in str(unknown.json()["errors"]["towns"])
    assert list(unknown.json()["errors"]) == ["towns"]
    level = client.post("/api/disaster/alerts", json={**ALERT, "level": 7}, headers=auth_headers)
    assert level.status_code == 422
    assert list(level.json()["errors"]) == ["level"]
    blank = client.post(
        "/api/disaster/alerts", json={**ALERT, "headline_ja": "   "}, headers=auth_headers
    )
    assert blank.status_code == 422
    assert "headline_ja" in blank.json()["errors"]
    # A control character cannot travel in CAP's XML: refused by name, never a broken alert.
    control = client.post(
        "/api/disaster/alerts",
        json={**ALERT, "text_en": "Evacuate\x18 now", "text_easy": "ok\u000e"},
        headers=auth_headers,
    )
    assert control.status_code == 422
    assert sorted(control.json()["errors"]) == ["text_easy", "text_en"]
    assert "制御文字" in control.json()["errors"]["text_en"][0]
    # JSON's own types: true is not a number of hours.
    boolean = client.post(
        "/api/disaster/alerts", json={**ALERT, "expires_in_hours": True}, headers=auth_headers
    )
    assert boolean.status_code == 422
    assert boolean.json()["errors"]["expires_in_hours"] == [
        "数値で指定してください / must be a JSON number"
    ]
    assert "control character" in control.json()["errors"]["text_en"][0]
    anonymous = client.post("/api/disaster/alerts", json=ALERT)
    assert anonymous.status_code == 401
    assert client.get("/api/disaster/alerts").json()["alerts"] == []
    assert client.get("/disaster/alerts/nope.cap.xml").status_code == 404


def test_cap_schema_catches_an_invalid_document() -> None:
    broken = (
        b'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        b"<identifier>x</identifier><sender>s</sender><sent>yesterday</sent></alert>"
    )
    assert cap.validation_errors(broken)
    assert cap.validation_errors(b"<not-xml")


def test_staff_publish_alert_from_the_console(client: TestClient, admin: Any) -> None:
    login(client)
    console = client.get("/staff/disaster")
    assert console.status_code == 200
    token = csrf_of(console.text)
    missing = client.post(
        "/staff/disaster/alerts",
        data={"csrf_token": token, "level": "4", "hazard": "flood", "headline_ja": "避難指示",
              "text_ja": "避難してください"},
    )  # fmt: skip
    assert missing.status_code == 422
    assert "対象の町" in missing.text
    assert 'value="避難指示"' in missing.text, "what staff typed is kept"
    done = client.post(
        "/staff/disaster/alerts",
        data={"csrf_token": token, "level": "4", "hazard": "flood", "towns": ["大沢", "野崎"],
              "headline_ja": "避難指示", "text_ja": "避難してください"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "避難してください" in page.text
    assert "大沢" in page.text
