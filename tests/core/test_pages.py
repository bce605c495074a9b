"""Login, logout, CSRF, the session cookie, API tokens and the audit log, through HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database
from tests.conftest import ADMIN_PASSWORD, create_dataset, csrf_of, login


def test_staff_pages_ask_for_login(client: TestClient) -> None:
    response = client.get("/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstaff"


def test_login_with_the_right_password_opens_the_console(client: TestClient, admin: User) -> None:
    login(client)
    page = client.get("/staff")
    assert page.status_code == 200
    assert "職員メニュー" in page.text
    assert "管理者" in page.text


def test_a_tampered_session_cookie_is_ignored(client: TestClient, admin: User) -> None:
    login(client)
    cookie = client.cookies.get("cityos_session")
    assert cookie
    payload, rest = cookie.split(".", 1)
    forged = ("A" if payload[0] != "A" else "B") + payload[1:] + "." + rest
    client.cookies.clear()
    client.cookies.set("cityos_session", forged)
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_with_a_message(client: TestClient, admin: User) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": "admin", "password": "wrong-password", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "パスワードが違います" in response.text
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_login_without_the_csrf_token_is_refused(client: TestClient, admin: User) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"name": "admin", "password": ADMIN_PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_login_never_redirects_off_site(client: TestClient, admin: User) -> None:
    page = client.get("/login?next=https://evil.example/")
    token = csrf_of(page.text)
    response = client.post(
        "/login",
        data={
            "name": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff"


def test_logout_ends_the_session(client: TestClient, admin: User) -> None:
    login(client)
    token = csrf_of(client.get("/staff").text)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_staff_create_an_api_token_that_works(client: TestClient, admin: User) -> None:
    login(client)
    page = client.get("/staff/tokens")
    response = client.post(
        "/staff/tokens", data={"name": "csv-loader", "csrf_token": csrf_of(page.text)}
    )
    token = response.text.split('<code id="new-token">', 1)[1].split("<", 1)[0]
    anonymous = TestClient(client.app)
    created = anonymous.post(
        "/api/3/action/package_create",
        json={"name": "via-token", "title": "トークンで作成"},
        headers={"Authorization": token},
    )
    assert created.status_code == 200
    assert "csv-loader" in client.get("/staff/tokens").text


def test_staff_writes_are_in_the_audit_log_with_who_and_what(
    client: TestClient, db: Database, admin: User, auth_headers: dict[str, str]
) -> None:
    create_dataset(client, auth_headers, name="audited", title="監査対象")
    login(client)
    page = client.get("/staff/audit")
    assert page.status_code == 200
    assert "dataset.create" in page.text
    assert "監査対象" in page.text
    assert "admin" in page.text


def test_only_admins_read_the_audit_log(client: TestClient, db: Database) -> None:
    with db.session() as session:
        auth.create_user(session, "clerk", "staff", "clerk-password")
    login(client, "clerk", "clerk-password")
    assert client.get("/staff/audit").status_code == 403
