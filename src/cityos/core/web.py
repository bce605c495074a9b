"""What every domain's api.py and pages.py need from a request: settings, database, user."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, BeforeValidator, Field
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
        # Shared with what every page renders (the disaster banner), so a page holds one
        # pooled connection, not two: under load the second checkout starved the pool.
        request.state.db_session = session
        try:
            yield session
        finally:
            request.state.db_session = None


# Committed as soon as the handler returns and BEFORE the answer goes out ("function" scope):
# a client that reads right after a 201 sees its write, and a failed commit is an error
# answer instead of a success that is then lost.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


# Characters XML 1.0 cannot carry (C0 controls other than tab/newline/return, U+FFFE, U+FFFF).
# Text that ends up in XML (CAP, Atom) declares these patterns, so the schema tells clients
# what is accepted and a bad character is a 422 naming its field, not a broken document.
_NOT_XML = r"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff"
# Python's whitespace (str.strip, str.isspace) spelled out: ``\s`` differs between regex
# engines (JSON Schema validators, test generators, Python, Rust), this class does not.
SPACE_CHARS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = rf"[^{SPACE_CHARS}]"
XML_TEXT_PATTERN = rf"^[^{_NOT_XML}]*$"
XML_NON_BLANK_PATTERN = rf"^[^{_NOT_XML}]*[^{SPACE_CHARS}{_NOT_XML}][^{_NOT_XML}]*$"
_CONTROL_CHARACTER = re.compile(f"[{_NOT_XML}]")
CONTROL_CHARACTER_MESSAGE = (
    "使えない制御文字が含まれています / contains a control character that cannot be used"
)


def has_control_characters(value: str) -> bool:
    """Whether form text holds characters no database text column or XML document takes
    (PostgreSQL refuses NUL): such input gets CONTROL_CHARACTER_MESSAGE next to its field."""
    return _CONTROL_CHARACTER.search(value) is not None


# What a person reads when a value does not match a field's pattern, by pattern.
_PATTERN_MESSAGES: dict[str, str] = {}


def explained(pattern: str, message: str) -> str:
    """Register the bilingual message shown when a value fails ``pattern``; answers it."""
    _PATTERN_MESSAGES[pattern] = message
    return pattern


XmlText = Annotated[
    str,
    Field(
        pattern=explained(
            XML_TEXT_PATTERN,
            "使えない制御文字が含まれています / contains a control character that cannot be used",
        )
    ),
]
XmlNonBlank = Annotated[
    str,
    Field(
        pattern=explained(
            XML_NON_BLANK_PATTERN,
            "空欄か、使えない制御文字が含まれています / "
            "is empty or contains a control character that cannot be used",
        )
    ),
]


def _json_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("整数で指定してください / must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("整数で指定してください / must be a JSON integer")
        return int(value)
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("数値で指定してください / must be a JSON number")
    return value


def _json_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("true か false で指定してください / must be true or false")
    return value


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DATETIME.match(value.strip()):
        return value.strip()
    raise ValueError(
        "ISO 8601 の日時で指定してください（例 2026-09-14T10:00:00+09:00） / "
        "must be an ISO 8601 date-time"
    )


# A date-time as ISO 8601 text only (not a Unix time, which pydantic would also take).
ISO_DATETIME = BeforeValidator(_iso_datetime)

# A body's values as JSON has them: true is not 1, 1 is not true, "30" is not a number, and
# 30.0 is the integer 30 (as JSON Schema says).
# With bounds, put them before: Annotated[int, Field(ge=0), JSON_INT] (the schema then shows them).
JSON_INT = BeforeValidator(_json_int)
JSON_NUMBER = BeforeValidator(_json_number)
JsonBool = Annotated[bool, BeforeValidator(_json_bool)]


def validation_message(error: dict[str, Any]) -> str:
    """A pydantic validation error as a person reads it, Japanese first with English."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(
            str(ctx.get("pattern")),
            "形式が正しくありません / the value is not in the expected form",
        )
    if kind == "missing":
        return "必須です / required"
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "文字" if kind == "string_too_long" else "件"
        unit_en = "characters" if kind == "string_too_long" else "items"
        return f"{limit}{unit}までです / at most {limit} {unit_en}"
    if kind in ("string_too_short", "too_short"):
        limit = ctx.get("min_length")
        unit = "文字" if kind == "string_too_short" else "件"
        unit_en = "characters" if kind == "string_too_short" else "items"
        return f"{limit}{unit}以上にしてください / at least {limit} {unit_en}"
    if kind == "extra_forbidden":
        return "この項目は受け付けていません / this field is not accepted"
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "invalid")))
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        words = {
            "greater_than_equal": ("以上", "at least"),
            "greater_than": ("より大きく", "more than"),
            "less_than_equal": ("以下", "at most"),
            "less_than": ("未満", "less than"),
        }[kind]
        return f"{bound}{words[0]}にしてください / must be {words[1]} {bound}"
    return str(error.get("msg", "invalid"))


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


def staff_or_login(
    request: Request,
    session: Session,
    permission: str | None = None,
    *,
    next_path: str | None = None,
) -> User | Response:
    """The signed-in staff member a staff page is for, or the way to the login form.

    Nobody signed in (or the account was deactivated): a 303 redirect to
    ``/login?next=...`` whose ``next`` is this page's path and query, url-encoded, so that
    the login form brings the person back to the very page they asked for. A form's POST
    handler, whose own address cannot be opened again with GET, names the page to come back
    to with ``next_path`` (a same-site path such as ``/staff/notify``).

    Signed in: the user, once ``require(user, permission)`` allows it when a permission is
    given (ForbiddenProblem, a 403 saying so in Japanese and English, when it does not);
    without a permission any active staff account will do. A handler reads::

        user = staff_or_login(request, session, "chatbot.manage")
        if isinstance(user, Response):
            return user
    """
    user = session_user(request, session)
    if user is None:
        target = next_path or request.url.path + (
            f"?{request.url.query}" if request.url.query else ""
        )
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return user if permission is None else require(user, permission)


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


# --- pages of a long list ------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """Where a page of a long list is (``page`` of ``per_page`` rows, ``total`` in all) and the
    links to its neighbours, which keep the list's other query parameters. Pages render it
    with ``{% include "_pager.html" %}``."""

    page: int
    per_page: int
    total: int
    path: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, request: Request, page: int, per_page: int, total: int) -> Pager:
        kept = tuple((k, v) for k, v in request.query_params.multi_items() if k != "page")
        return cls(page, per_page, total, request.url.path, kept)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The number of the page's first row (1-based)."""
        return self.offset + 1

    def last(self, shown: int) -> int:
        return self.offset + shown

    def href(self, page: int) -> str:
        return f"{self.path}?{urlencode([*self.params, ('page', str(page))])}"

    @property
    def previous(self) -> str:
        return self.href(self.page - 1) if self.page > 1 else ""

    @property
    def next(self) -> str:
        return self.href(self.page + 1) if self.page < self.pages else ""
