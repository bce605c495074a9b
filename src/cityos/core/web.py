"""What every domain's api.py and pages.py need from a request: settings, database, user."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from cityos.core import auth
from cityos.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AuthenticationProblem,
    ForbiddenProblem,
    ValidationProblem,
)
from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.db import Database
from cityos.settings import Settings


class Problem(BaseModel):
    """RFC 9457 problem details, as every JSON API of ours answers errors."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: dict[str, list[str]] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries saying which errors a route answers with a Problem."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        code: {
            "description": "Problem details",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
            "model": Problem,
        }
        for code in codes
    }


SESSION_USER_KEY = "uid"
CSRF_KEY = "csrf"
LANGUAGES = ("ja", "en")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def files_of(request: Request) -> FileStore:
    files: FileStore = request.app.state.files
    return files


def db_session(request: Request) -> Iterator[Session]:
    """A FastAPI dependency: one session per request, committed when the handler succeeds."""
    with database_of(request).session() as session:
        yield session


# Committed as soon as the handler returns and BEFORE the answer goes out ("function" scope):
# a client that reads right after a 201 sees its write, and a failed commit is an error
# answer instead of a success that is then lost.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def token_from(request: Request) -> str:
    return (
        request.headers.get("authorization")
        or request.headers.get("x-ckan-api-key")
        or request.headers.get("x-cityos-token")
        or ""
    )


def session_user(request: Request, session: Session) -> User | None:
    """The staff member logged in through the web session cookie, if any."""
    uid = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    if not isinstance(uid, int):
        return None
    user = session.get(User, uid)
    return user if user is not None and user.active else None


def api_user(request: Request, session: Session) -> User | None:
    """The user of an API request: its bearer token, else the web session."""
    token = token_from(request)
    if token:
        user = auth.user_for_token(session, token)
        if user is None:
            raise AuthenticationProblem(
                "APIトークンが無効です / the API token is not valid (revoked or mistyped)"
            )
        return user
    return session_user(request, session)


def require(user: User | None, permission: str) -> User:
    if user is None:
        raise AuthenticationProblem("ログインしてください / please log in")
    if not auth.can(user, permission):
        raise ForbiddenProblem(
            f"{user.name} にはこの操作の権限がありません / {user.name} may not do this"
        )
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, submitted: Any) -> None:
    expected = request.session.get(CSRF_KEY)
    if (
        not isinstance(expected, str)
        or not isinstance(submitted, str)
        or not secrets.compare_digest(expected, submitted)
    ):
        raise ValidationProblem(
            "フォームの有効期限が切れました。ページを読み込み直してください / the form expired "
            "(CSRF check failed); reload the page and try again",
            status=403,
        )


def language_of(request: Request) -> str:
    """Japanese first; English when asked for with ?lang=en or the lang cookie."""
    chosen = request.query_params.get("lang") or request.cookies.get("lang") or "ja"
    return chosen if chosen in LANGUAGES else "ja"
