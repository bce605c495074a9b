"""Staff pages of the SNS domain: the live triage queue with its map and marks, the area
summaries, and questions to the posts. Thin: the logic is in ``service``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError
from cityos.core.models import User
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    language_of,
    require,
    staff_or_login,
)
from cityos.db import utcnow
from cityos.sns import gazetteer, service
from cityos.sns.models import SnsPost
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

URGENCY_COLOURS = {"high": "#c62828", "medium": "#b34700", "low": "#546e7a"}  # white text >= 5:1
LEVEL_COLOURS = {0: "#cfd8dc", 1: "#fdd835", 2: "#fb8c00", 3: "#c62828"}
LEVEL_LABELS = {
    0: ("支援の必要の報告なし", "No need reported"),
    1: ("少し", "Some"),
    2: ("多い", "Many"),
    3: ("深刻（救助要請あり）", "Severe (rescue requests)"),
}
HOUR_CHOICES = (1, 3, 6, 12, 24, 72)


def _labels() -> dict[str, Any]:
    return {
        "categories": service.CATEGORY_LABELS,
        "urgencies": service.URGENCY_LABELS,
        "hazards": service.HAZARD_LABELS,
        "marks": service.MARK_LABELS,
        "urgency_colours": URGENCY_COLOURS,
        "hour_choices": HOUR_CHOICES,
    }


def _points(rows: list[SnsPost], lang: str) -> str:
    points = [
        {
            "lat": row.lat,
            "lon": row.lon,
            "colour": URGENCY_COLOURS[row.urgency],
            "label": (service.CATEGORY_LABELS[row.category][1 if lang == "en" else 0]),
            "town": row.town or "",
            "text": row.text[:120],
            "anchor": f"post-{row.id}",
            "radius": 7 + 2 * row.urgency_rank,
        }
        # The most urgent drawn last, on top of the others at the same place.
        for row in sorted(rows, key=lambda r: r.urgency_rank)
        if row.lat is not None and row.lon is not None
    ]
    return json.dumps(points, ensure_ascii=False).replace("</", "<\\/")


def _queue_context(
    request: Request, session: Session, user: User, params: dict[str, str], **extra: Any
) -> dict[str, Any]:
    hours = int(params["hours"]) if params.get("hours", "").isdigit() else 0
    where = service.QueueFilter(
        category=params.get("category", ""),
        town=params.get("town", "").strip()[:60],
        hazard=params.get("hazard", ""),
        mark=params.get("mark", "open"),
        since=utcnow() - timedelta(hours=hours) if hours else None,
    ).check()
    rows = service.queue(session, where, limit=200)
    lang = language_of(request)
    query = urlencode({k: v for k, v in params.items() if v})
    refresh = request.query_params.get("refresh", "")
    return {
        "refresh_seconds": min(300, max(2, int(refresh))) if refresh.isdigit() else 20,
        "user": user,
        "rows": rows,
        "where": where,
        "hours": hours,
        "facets": service.facets(session),
        "totals": service.totals(session),
        "points_json": _points(rows, lang),
        "point_count": sum(1 for r in rows if r.lat is not None),
        "query": query,
        "back": "/staff/sns" + (f"?{query}" if query else ""),
        "needs_csrf": True,
        **_labels(),
        **extra,
    }


def _params(request: Request) -> dict[str, str]:
    keys = ("category", "town", "hazard", "mark", "hours")
    return {k: request.query_params.get(k, "open" if k == "mark" else "") for k in keys}


@router.get("/staff/sns")
def queue_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.READ_PERMISSION)
    if isinstance(user, Response):
        return user
    try:
        context = _queue_context(request, session, user, _params(request))
    except ProblemError as exc:
        context = _queue_context(request, session, user, {"mark": "open"}, error=exc.detail)
        return render(request, "sns/queue.html", context, status=exc.status)
    template = "sns/_queue_list.html" if request.headers.get("x-partial") else "sns/queue.html"
    return render(request, template, context)


@router.post("/staff/sns/posts/{post_uuid}/mark")
async def mark_submit(request: Request, post_uuid: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_mark_sync, request, post_uuid, form)


def _safe_back(target: str) -> str:
    return target if target.startswith("/staff/sns") and "//" not in target else "/staff/sns"


def _mark_sync(request: Request, post_uuid: str, form: Any) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, service.MARK_PERMISSION)
        back = _safe_back(str(form.get("back") or "/staff/sns"))
        try:
            with session.begin_nested():
                row = service.set_mark(
                    session,
                    user,
                    post_uuid,
                    str(form.get("mark") or ""),
                    str(form.get("note") or ""),
                )
        except ProblemError as exc:
            context = _queue_context(request, session, user, _params(request), error=exc.detail)
            return render(request, "sns/queue.html", context, status=exc.status)
        return RedirectResponse(f"{back}#post-{row.id}", status_code=303)


@router.get("/staff/sns/summaries")
def summaries_page(
    request: Request,
    session: SessionDep,
    hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24,
) -> Response:
    user = staff_or_login(request, session, service.READ_PERMISSION)
    if isinstance(user, Response):
        return user
    since, until = service.window(None, None, hours)
    areas = service.area_summaries(session, since, until)
    points = [
        {
            "lat": a.lat,
            "lon": a.lon,
            "colour": LEVEL_COLOURS[a.level],
            "radius": min(28, 8 + 3 * a.posts**0.5),
            "label": a.town,
            "text": f"{a.posts}",
            "anchor": f"town-{a.town}",
            "permanent": True,
        }
        for a in areas
        if a.lat is not None and a.lon is not None
    ]
    context = {
        "user": user,
        "areas": areas,
        "hours": hours,
        "since": since,
        "until": until,
        "points_json": json.dumps(points, ensure_ascii=False).replace("</", "<\\/"),
        "point_count": len(points),
        "level_colours": LEVEL_COLOURS,
        "level_labels": LEVEL_LABELS,
        **_labels(),
    }
    return render(request, "sns/summaries.html", context)


EXAMPLES = (
    "大沢で何が不足している？",
    "停電しているのはどこ？",
    "救助を求めている人はどこ？",
    "避難所の様子は？",
    "Where is the power out?",
)


@router.get("/staff/sns/ask")
def ask_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    user = staff_or_login(request, session, service.READ_PERMISSION)
    if isinstance(user, Response):
        return user
    context: dict[str, Any] = {"user": user, "q": q, "examples": EXAMPLES, **_labels()}
    status = 200
    if q.strip():
        try:
            context["answer"] = service.answer(session, q, gazetteer.gazetteer_from(session))
        except ProblemError as exc:
            context["error"] = exc.detail
            status = exc.status
    return render(request, "sns/ask.html", context, status=status)
