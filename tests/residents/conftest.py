"""Helpers: a resident signs up and logs in through the real forms (CSRF token included)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.conftest import csrf_of

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
