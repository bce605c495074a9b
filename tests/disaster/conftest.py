"""Disaster fixtures: Mitaka's real shelter datasets published in the portal, then synced."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.db import Database
from cityos.disaster import service
from cityos.opendata.demo import load_demo
from cityos.settings import Settings

SHELTER_DATASETS = ("mitaka-designated-shelters", "mitaka-emergency-evacuation-sites")


@pytest.fixture
def shelters(client: TestClient, db: Database, admin: User, settings: Settings) -> list[Any]:
    """The two shelter datasets of the demo (GSI data for Mitaka), published as staff would."""
    with db.session() as session:
        actor = session.get(User, admin.id)
        assert actor is not None
        load_demo(
            session, actor, FileStore(settings.files_dir), site_url=settings.site_url,
            only=SHELTER_DATASETS,
        )  # fmt: skip
    with db.session() as session:
        found = service.list_shelters(session)
        session.expunge_all()
    assert len(found) > 20, "the published datasets should have become shelters"
    return found


def by_name(shelters: list[Any], fragment: str) -> Any:
    return next(s for s in shelters if fragment in s.name)


def open_shelter(
    client: TestClient, headers: dict[str, str], shelter_id: str, **changes: Any
) -> dict[str, Any]:
    response = client.patch(
        f"/api/disaster/shelters/{shelter_id}/status",
        json={"is_open": True, **changes},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
