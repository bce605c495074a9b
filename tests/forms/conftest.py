"""Helpers: a resident with a profile opens a form and files it through the real pages."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import csrf_of
from tests.mail import mail_settings, smtp_server  # noqa: F401  (fixtures)
from tests.residents.conftest import form_token, sign_up

VALID_MY_NUMBER = "123456789018"  # check digit 8 is right for 12345678901


def resident_with_profile(client: TestClient, email: str = "hanako@example.jp") -> None:
    assert sign_up(client, email).status_code == 303
    answer = client.post(
        "/my/profile",
        data={
            "name": "三鷹 花子",
            "kana": "みたか はなこ",
            "birth_date": "昭和60年4月1日",
            "address": "東京都三鷹市下連雀3-22-14",
            "csrf_token": form_token(client),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


TENNYU = {
    "postcode": "181-8555",
    "previous_address": "東京都武蔵野市緑町2-2-28",
    "moved_on": "令和8年4月1日",
    "phone": "０４２２－４５－１１５１",
    "my_number": VALID_MY_NUMBER,
    "card_use": "yes",
}


def file_form(
    client: TestClient,
    form_id: str = "tennyu-pre",
    changes: dict[str, Any] | None = None,
    *,
    files: dict[str, Any] | None = None,
    page: str | None = None,
) -> httpx.Response:
    """Open the form, keep what it prefilled, add ``changes``, and submit it."""
    html = page or client.get(f"/forms/{form_id}").text
    data = {
        "csrf_token": csrf_of(html),
        "form_id": hidden(html, "form_id"),
        "idempotency_key": hidden(html, "idempotency_key"),
    }
    for name in ("name", "kana", "birth_date", "address"):
        if f'name="{name}" type="text" maxlength="300" value="' in html:
            data[name] = html.split(f'name="{name}" type="text" maxlength="300" value="', 1)[
                1
            ].split('"', 1)[0]
    if form_id == "tennyu-pre":
        data.update(TENNYU)
    data.update(changes or {})
    return client.post(f"/forms/{form_id}", data=data, files=files, follow_redirects=False)
