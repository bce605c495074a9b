"""Helpers: a resident signs up and logs in through the real forms (CSRF token included)."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from cityos.db import Database
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from tests.conftest import csrf_of
from tests.mail import mail_settings, smtp_server  # noqa: F401  (fixtures)
from tests.notify.conftest import SmtpServer

PASSWORD = "mitaka-hanako-2026"


def sign_up(
    client: TestClient, email: str = "hanako@example.jp", password: str = PASSWORD, **extra: str
) -> httpx.Response:
    token = csrf_of(client.get("/residents/signup").text)
    return client.post(
        "/residents/signup",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/residents/login").text)
    return client.post(
        "/residents/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def form_token(client: TestClient, path: str = "/my") -> str:
    return csrf_of(client.get(path).text)


CONFIRM_SUBJECT = "メールアドレスの確認"


def confirmation_link(message: object) -> str:
    """The path of the confirmation link in a confirmation e-mail."""
    body = message.get_content()  # type: ignore[attr-defined]
    found = re.search(r"https?://[^/\s]+(/residents/confirm/\S+)", body)
    assert found, body
    return found.group(1)


def confirm_by_email(
    client: TestClient, db: Database, config: NotifyConfig, smtp: SmtpServer, email: str
) -> None:
    """What a resident does after signing up: the confirmation e-mail goes out through notify
    and the real SMTP server, and they open its link."""
    notify.deliver_due(db, config)
    link = confirmation_link(smtp.take(email, CONFIRM_SUBJECT))
    answer = client.get(link)
    assert answer.status_code == 200, answer.text
    assert "メールアドレスを確認しました" in answer.text
