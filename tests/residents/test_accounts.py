"""Resident sign-up, login, logout and sessions through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.db import Database
from cityos.residents import sessions
from cityos.residents.models import Resident
from tests.conftest import csrf_of
from tests.residents.conftest import PASSWORD, log_in, sign_up


def residents(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Resident)) or 0


def test_a_new_resident_signs_up_and_sees_my_page(client: TestClient, db: Database) -> None:
    assert (
        client.get("/my", follow_redirects=False)
        .headers["location"]
        .startswith("/residents/login?next=%2Fmy")
    )
    answer = sign_up(client, "Hanako@Example.JP")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/my"
    assert sessions.COOKIE in answer.cookies
    page = client.get("/my")
    assert page.status_code == 200
    assert "Hanako@example.jp" in page.text  # the domain is lower-cased
    for empty in ("申請の状況が表示されます", "予約が表示されます", "お知らせが、ここに届きます",
                  "対応状況が表示されます", "チェックリストを保存すると"):  # fmt: skip
        assert empty in page.text
    # A resident is not staff: the staff pages still ask for a staff login.
    assert client.get("/staff/procedures", follow_redirects=False).headers["location"] == (
        "/login?next=%2Fstaff%2Fprocedures"
    )
    with db.session() as session:
        stored = session.scalars(select(Resident)).one()
        assert stored.password_hash.startswith("$argon2")
        assert PASSWORD not in stored.password_hash


def test_double_sign_up_is_refused_next_to_the_field(client: TestClient, db: Database) -> None:
    assert sign_up(client).status_code == 303
    client.cookies.clear()
    again = sign_up(client, "hanako@EXAMPLE.jp", "another-password-1")
    assert again.status_code == 409
    assert 'id="email-error"' in again.text
    assert "既に登録されています" in again.text
    assert residents(db) == 1


def test_bad_sign_up_input(client: TestClient, db: Database) -> None:
    answer = sign_up(client, "not-an-address", "short")
    assert answer.status_code == 422
    assert 'id="email-error"' in answer.text
    assert 'id="password-error"' in answer.text
    assert 'value="not-an-address"' in answer.text
    assert residents(db) == 0


def test_login_wrong_password_and_logout_everywhere(client: TestClient, app: FastAPI) -> None:
    sign_up(client)
    old_cookie = client.cookies[sessions.COOKIE]
    client.cookies.delete(sessions.COOKIE)
    wrong = log_in(client, "hanako@example.jp", "not-the-password")
    assert wrong.status_code == 401
    assert "メールアドレスまたはパスワードが違います" in wrong.text
    unknown = log_in(client, "nobody@example.jp")
    assert unknown.status_code == 401
    assert log_in(client, "hanako@example.jp\x00").status_code == 401
    right = log_in(client, "hanako@example.jp")
    assert right.status_code == 303
    token = csrf_of(client.get("/my").text)
    assert client.post("/residents/logout", data={"csrf_token": token}).status_code == 200
    assert client.get("/my", follow_redirects=False).status_code == 303
    # A cookie from before the logout no longer opens the page.
    with TestClient(app) as other:
        other.cookies.set(sessions.COOKIE, old_cookie)
        assert other.get("/my", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_no_session(client: TestClient) -> None:
    sign_up(client)
    value = client.cookies[sessions.COOKIE].strip('"')
    assert value.startswith("1.0.")  # account 1, session epoch 0, timestamp, signature
    client.cookies.clear()
    client.cookies.set(sessions.COOKIE, "2" + value[1:])  # someone else's account id
    assert client.get("/my", follow_redirects=False).status_code == 303
    client.cookies.set(sessions.COOKIE, value)
    assert client.get("/my", follow_redirects=False).status_code == 200


def test_forms_without_csrf_are_refused(client: TestClient, db: Database) -> None:
    client.get("/residents/signup")
    answer = client.post("/residents/signup", data={"email": "a@example.jp", "password": PASSWORD})
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert residents(db) == 0
    sign_up(client)
    answer = client.post("/my/profile", data={"name": "三鷹 花子", "csrf_token": "forged"})
    assert answer.status_code == 403
    assert "三鷹 花子" not in client.get("/my/profile").text


def test_login_attempts_are_rate_limited(client: TestClient) -> None:
    codes = [log_in(client, "who@example.jp", "wrong-password").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
