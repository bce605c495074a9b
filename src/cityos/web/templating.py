"""Jinja2 rendering shared by every domain's pages: layout, language, CSRF, formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from cityos.core.errors import Message
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


# --- ja, en and やさしい日本語 -------------------------------------------------------------------
# Pages for residents (the 手続きナビ checklist, the online forms) also speak やさしい日本語:
# ?easy=1 on top of the site's ja/en switch. Their templates get say/pick/label/said below.


def text_mode(request: Request) -> str:
    """ja, en or easy (やさしい日本語): what a resident page's texts are shown in.

    Easy Japanese is a kind of Japanese: the site header's English link (?easy=1&lang=en)
    leads to English."""
    language = language_of(request)
    if request.query_params.get("easy") == "1" and language == "ja":
        return "easy"
    return language


def language_links(keep: Mapping[str, str] | None = None) -> dict[str, str]:
    """The query strings of the 日本語 / English / やさしい日本語 switch, keeping ``keep``."""
    kept = dict(keep or {})
    return {
        "ja": "?" + urlencode({**kept, "lang": "ja"}),
        "en": "?" + urlencode({**kept, "lang": "en"}),
        "easy": "?" + urlencode({**kept, "lang": "ja", "easy": "1"}),
    }


def text_helpers(mode: str) -> dict[str, Any]:
    """Template helpers that pick the text of ``mode``, Japanese where that one is missing."""

    def say(ja: str, en: str, easy: str = "") -> str:
        """Page text: {{ say("持ち物", "What to bring", "もちもの") }}."""
        return en if mode == "en" else (easy or ja) if mode == "easy" else ja

    def pick(item: Any, name: str = "") -> str:
        """{"ja", "en", "easy"} dicts, or an object's name_ja / name_en / name_easy."""
        if isinstance(item, Mapping):
            return str(item.get(mode) or item.get("ja") or "")
        value = getattr(item, f"{name}_{mode}", "") if mode != "ja" else ""
        return str(value or getattr(item, f"{name}_ja"))

    def label(choices: Mapping[str, tuple[str, ...]], key: str) -> str:
        """One of (ja, en, easy) tuples keyed by a value (life events, statuses ...)."""
        texts = choices.get(key, (key, key, key))
        index = {"ja": 0, "en": 1, "easy": 2}[mode]
        return texts[min(index, len(texts) - 1)]

    def said(message: str) -> str:
        """A validation message in the mode (a plain "ja / en" message is shown whole)."""
        return message.in_mode(mode) if isinstance(message, Message) else message

    helpers: dict[str, Callable[..., str] | str] = {
        "mode": mode, "say": say, "pick": pick, "label": label, "said": said,
    }  # fmt: skip
    return helpers


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
