"""The public procedure API through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_catalog_is_public_json_with_its_attribution(client: TestClient) -> None:
    answer = client.get("/api/procedures")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == len(body["procedures"]) >= 40
    assert "not official" in body["attribution"]["en"]
    tennyu = next(p for p in body["procedures"] if p["id"] == "tennyu")
    assert tennyu["name"] == {
        "ja": "転入届",
        "en": "Moving-in notification",
        "easy": "ひっこして きた ときの とどけ",
    }
    assert tennyu["deadline"]["days"] == 14
    assert tennyu["online"] is False
    assert any("転出証明書" in item["ja"] for item in tennyu["bring"])


def test_filters(client: TestClient) -> None:
    def found(**params: str) -> list[str]:
        answer = client.get("/api/procedures", params=params)
        assert answer.status_code == 200, answer.text
        return [p["id"] for p in answer.json()["procedures"]]

    assert "shussho" in found(event="birth")
    assert "tennyu" not in found(event="birth")
    assert set(found(online="true")).isdisjoint({"tennyu", "shibou_todoke"})
    assert "tennyu" in found(online="false")
    assert found(q="婚姻") == ["kon_in"]
    assert set(found(department="子育て支援")) >= {"jido_teate", "jido_fuyo"}
    assert found(q="婚姻", event="death") == []


def test_one_procedure_and_bad_requests(client: TestClient) -> None:
    answer = client.get("/api/procedures/shibou_todoke")
    assert answer.status_code == 200
    assert answer.json()["deadline"]["days"] == 7
    missing = client.get("/api/procedures/no_such_thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no procedure" in missing.json()["detail"]
    assert client.get("/api/procedures/juminhyo%00").status_code == 404
    assert client.get("/api/procedures/" + "a" * 41).status_code == 404
    bad = client.get("/api/procedures", params={"event": "holiday"})
    assert bad.status_code == 422
    assert "event" in bad.json()["errors"]
    assert client.get("/api/procedures", params={"online": "maybe"}).status_code == 422


def test_the_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    listing = paths["/api/procedures"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"q", "event", "department", "online"}
    assert "404" in paths["/api/procedures/{procedure_id}"]["get"]["responses"]
