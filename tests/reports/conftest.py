"""An Open311 GeoReport v2 client written from the specification alone, and report fixtures.

The client speaks only what http://wiki.open311.org/GeoReport_v2 says: paths ending in the
format, form-encoded POSTs with an ``api_key``, JSON lists or XML documents back, errors as a
list of ``{code, description}`` or ``<errors><error>``.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from fastapi.testclient import TestClient

from cityos.core.models import User
from cityos.db import Database
from cityos.reports import service
from tests.conftest import login
from tests.mail import mail_settings, smtp_server  # noqa: F401  (fixtures)

BASE = "/open311/v2"
# Inside Mitaka: near the city hall (野崎一丁目) and near 三鷹駅 (下連雀三丁目).
CITY_HALL = ("35.6830", "139.5597")
STATION = ("35.7010", "139.5610")


class Open311Client:
    def __init__(self, http: TestClient, api_key: str | None = None) -> None:
        self.http = http
        self.api_key = api_key

    def get(self, resource: str, fmt: str = "json", **params: str) -> httpx.Response:
        return self.http.get(f"{BASE}/{resource}.{fmt}", params=params)

    def read(self, resource: str, fmt: str = "json", **params: str) -> Any:
        """The parsed answer of a GET that must succeed (JSON data, or the XML root element)."""
        response = self.get(resource, fmt, **params)
        assert response.status_code == 200, response.text
        return parse(response, fmt)

    def post(self, fmt: str = "json", *, key: bool = True, **fields: Any) -> httpx.Response:
        data = {name: value for name, value in fields.items() if value is not None}
        if key and self.api_key is not None:
            data.setdefault("api_key", self.api_key)
        return self.http.post(f"{BASE}/requests.{fmt}", data=data)

    def report(self, service_code: str = "graffiti", **fields: Any) -> dict[str, Any]:
        """Post a report that must be accepted; its entry in the answer."""
        fields.setdefault("lat", CITY_HALL[0])
        fields.setdefault("long", CITY_HALL[1])
        response = self.post(service_code=service_code, **fields)
        assert response.status_code == 201, response.text
        answer = response.json()
        assert isinstance(answer, list)
        assert len(answer) == 1
        entry: dict[str, Any] = answer[0]
        return entry


def parse(response: httpx.Response, fmt: str) -> Any:
    if fmt == "xml":
        assert response.headers["content-type"].startswith("text/xml")
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return ET.fromstring(response.content)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def errors_of(response: httpx.Response, status: int, fmt: str = "json") -> list[str]:
    """The descriptions of an Open311 error answer, checking its shape and codes."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = parse(response, "xml")
        assert root.tag == "errors"
        found = root.findall("error")
        assert found
        assert all(e.findtext("code") == str(status) for e in found)
        return [e.findtext("description") or "" for e in found]
    body = parse(response, "json")
    assert isinstance(body, list)
    assert body
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in body)
    return [e["description"] for e in body]


def xml_requests(root: ET.Element) -> list[dict[str, str]]:
    assert root.tag == "service_requests"
    return [{child.tag: child.text or "" for child in item} for item in root.findall("request")]


@pytest.fixture
def api_key(db: Database) -> str:
    with db.session() as session:
        return service.issue_api_key(session, "tests", "dev@example.org")


@pytest.fixture
def open311(client: TestClient, api_key: str) -> Open311Client:
    return Open311Client(client, api_key)


def count_requests(db: Database) -> int:
    with db.session() as session:
        return service.count_requests(session)


@pytest.fixture
def staff_client(client: TestClient, admin: User) -> TestClient:
    """The test client logged in as a staff member (an admin) through the real form."""
    login(client)
    return client


def first_photo_path(html: str) -> str:
    return "/reports/photos/" + html.split('src="/reports/photos/', 1)[1].split('"', 1)[0]
