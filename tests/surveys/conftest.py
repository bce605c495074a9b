"""Helpers: staff build and publish a survey through the real pages (CSRF token included)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.conftest import csrf_of

QUESTIONS: list[dict[str, Any]] = [
    {"id": "q1", "type": "single", "label": "公園をよく使いますか", "choices": ["はい", "いいえ"],
     "required": True},
    {"id": "q2", "type": "multiple", "label": "何に使いますか", "choices": ["散歩", "遊び", "運動"],
     "show_if": {"question": "q1", "equals": ["はい"]}, "required": True},
    {"id": "q3", "type": "scale", "label": "満足度", "min": 1, "max": 5, "required": True},
    {"id": "q4", "type": "text", "label": "ご意見"},
]  # fmt: skip


def survey_form(
    client: TestClient, path: str = "/staff/surveys/new", **fields: Any
) -> dict[str, Any]:
    token = csrf_of(client.get(path).text)
    return {
        "title": "公園の使い方アンケート",
        "description": "市内の公園について",
        "mode": "anonymous",
        "opens_at": "",
        "closes_at": "",
        "questions": json.dumps(QUESTIONS, ensure_ascii=False),
        "csrf_token": token,
        **fields,
    }


def create_survey(client: TestClient, *, publish: bool = True, **fields: Any) -> tuple[int, str]:
    """(survey id, answer page URL) of a new survey made on the staff pages."""
    response = client.post(
        "/staff/surveys/new", data=survey_form(client, **fields), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    survey_id = int(response.headers["location"].split("/")[3].split("?")[0])
    page = client.get(f"/staff/surveys/{survey_id}")
    if publish:
        client.post(
            f"/staff/surveys/{survey_id}/publish",
            data={"published": "1", "csrf_token": csrf_of(page.text)},
        )
        page = client.get(f"/staff/surveys/{survey_id}")
    url = page.text.split('id="survey-url">', 1)[1].split("<", 1)[0] if publish else ""
    return survey_id, url


def answer(client: TestClient, url: str, answers: dict[str, Any]) -> Any:
    path = urlsplit(url).path
    token = csrf_of(client.get(path).text)
    return client.post(path, data={**answers, "csrf_token": token})
