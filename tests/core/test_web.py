"""core.web through HTTP: how a staff page answers nobody, a colleague without the
permission, and a colleague with it (``staff_or_login``)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database
from tests.conftest import ADMIN_PASSWORD, csrf_of, login

NOT_ALLOWED = "analyst.a にはこの操作の権限がありません / analyst.a may not do this"


def analyst(db: Database) -> None:
    with db.session() as session:
        auth.create_user(session, "analyst.a", "analyst", ADMIN_PASSWORD)


def test_nobody_signed_in_is_sent_to_the_login_form_with_the_page_url_encoded(
    client: TestClient,
) -> None:
    answer = client.get("/staff/audit?lang=en&q=a%26b", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstaff%2Faudit%3Flang%3Den%26q%3Da%2526b"


@pytest.mark.parametrize(
    "page",
    [
        "/staff",
        "/staff/tokens",
        "/staff/chatbot?q=%E4%BD%8F%E6%B0%91%E7%A5%A8",
        "/staff/reservations",
        "/staff/procedures",
        "/staff/forms?status=received",
        "/staff/surveys",
        "/staff/notices",
        "/staff/notify",
        "/staff/disaster",
        "/staff/datasets/new",
        "/staff/sns/summaries?hours=3",
        "/staff/voice?lang=en",
        "/staff/reports?state=open",
        "/staff/sensors",
    ],
)
def test_every_staff_page_asks_for_a_login_the_same_way(client: TestClient, page: str) -> None:
    answer = client.get(page, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?" + urlencode({"next": page})


def test_the_login_form_brings_staff_back_to_the_page_and_query_they_asked_for(
    client: TestClient, admin: User
) -> None:
    asked = client.get("/staff/audit?lang=en", follow_redirects=False)
    form = client.get(asked.headers["location"])
    assert 'name="next" value="/staff/audit?lang=en"' in form.text
    answer = client.post(
        "/login",
        data={
            "name": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/staff/audit?lang=en",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/audit?lang=en"


def test_signed_in_without_the_permission_is_forbidden_in_both_languages(
    client: TestClient, db: Database
) -> None:
    analyst(db)
    login(client, "analyst.a")
    page = client.get("/staff/audit", follow_redirects=False)
    assert page.status_code == 403
    assert NOT_ALLOWED in page.text
    problem = client.get("/staff/audit", headers={"Accept": "application/json"})
    assert problem.status_code == 403
    assert problem.json()["detail"] == NOT_ALLOWED


def test_signed_in_with_the_permission_sees_the_page(client: TestClient, admin: User) -> None:
    login(client)
    page = client.get("/staff/audit")
    assert page.status_code == 200
    assert "user.login" in page.text


def test_a_page_that_needs_no_permission_opens_for_every_staff_member(
    client: TestClient, db: Database
) -> None:
    analyst(db)
    login(client, "analyst.a")
    assert client.get("/staff/tokens").status_code == 200


def test_a_deactivated_account_is_asked_to_log_in_again(client: TestClient, db: Database) -> None:
    analyst(db)
    login(client, "analyst.a")
    with db.session() as session:
        user = auth.get_user(session, "analyst.a")
        assert user is not None
        user.active = False
    answer = client.get("/staff/tokens", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fstaff%2Ftokens"
