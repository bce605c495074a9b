"""Our own JSON errors are RFC 9457 problem details; pages get readable error pages."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.conftest import LiveServer


def test_unknown_api_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/not-found")
    assert "見つかりません" in body["title"]
    assert body["instance"] == "/api/nothing-here"


def test_unknown_page_is_an_html_page_in_japanese(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "ページが見つかりません" in response.text
    assert '<html lang="ja">' in response.text


def test_bad_query_parameter_on_a_page_is_a_4xx_not_a_crash(client: TestClient) -> None:
    response = client.get("/dataset?page=abc")
    assert response.status_code == 422
    assert "page" in response.text


def test_a_declared_oversize_upload_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/api/3/action/resource_create",
        content=b"x" * 10,
        headers={"Content-Length": str(3 * 1024**3), "Content-Type": "text/csv"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["__type"] == "Bad request"


def test_a_streamed_oversize_upload_is_cut_off_with_413(live_server: LiveServer) -> None:
    def body() -> object:
        chunk = b"a,b\n" * 65536
        for _ in range(40):  # 10 MB, past the 5 MB limit of the test settings
            yield chunk

    response = httpx.post(
        f"{live_server.url}/api/3/action/resource_create",
        content=body(),
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert response.status_code == 413
    assert "MB" in response.json()["error"]["message"]
    assert httpx.get(f"{live_server.url}/api/3/action/status_show").status_code == 200
