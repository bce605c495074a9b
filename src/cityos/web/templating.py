"""Jinja2 rendering shared by every domain's pages: layout, language, CSRF, formatting."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from cityos.core.text import TOKYO
from cityos.core.web import csrf_token, language_of, session_user, settings_of

# Each domain keeps its templates in <domain>/templates/<domain>/; the layout is in web/.
TEMPLATE_PACKAGES = (
    "cityos.web",
    "cityos.core",
    "cityos.opendata",
    "cityos.disaster",
    "cityos.sensors",
    "cityos.notify",
    "cityos.sns",
    "cityos.procedures",
    "cityos.residents",
    "cityos.surveys",
    "cityos.notices",
    "cityos.forms",
    "cityos.reservations",
    "cityos.voice",
    "cityos.reports",
    "cityos.chatbot",
)


@pass_context
def bilingual(context: Context, ja: str, en: str) -> str:
    """Pick the Japanese or the English text for the page's language: {{ _("検索", "Search") }}."""
    return en if context.get("lang") == "en" else ja


@pass_context
def rows_label(context: Context, count: int) -> str:
    """「30 行」 / "30 rows" ("1 row")."""
    if context.get("lang") == "en":
        return f"{count:,} row" if count == 1 else f"{count:,} rows"
    return f"{count:,} 行"


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in Japan time."""
    if value is None:
        return ""
    return value.astimezone(TOKYO).strftime(fmt)


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def filesize(value: int | None) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


@cache
def environment() -> Environment:
    loader = ChoiceLoader(
        [FileSystemLoader(str(resources.files(pkg) / "templates")) for pkg in TEMPLATE_PACKAGES]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = bilingual
    env.globals["rows_label"] = rows_label
    env.filters["local_time"] = local_time
    env.filters["number"] = number
    env.filters["filesize"] = filesize
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    session: Session | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with what every page needs: language, user, settings, CSRF token."""
    settings = settings_of(request)
    lang = language_of(request)
    user = context.get("user") if context and "user" in context else None
    if user is None and session is not None:
        user = session_user(request, session)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "ja" else "ja",
        "settings": settings,
        "user": user,
        "csrf_token": csrf_token(request)
        if user is not None or (context or {}).get("needs_csrf")
        else "",
        "path": request.url.path,
    }
    # Context every page needs from other domains (the disaster banner): see create_app.
    for provide in getattr(request.app.state, "page_context", ()):
        values.update(provide(request))
    values.update(context or {})
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=headers)
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(
            "lang", lang, max_age=365 * 24 * 3600, samesite="lax", secure=settings.secure_cookies
        )
    return response
