"""Pages of the push-notice domain: the resident's opt-in and "stop" buttons (their notices
show on my page), and the staff page to write, target, count and send a notice.

Thin: matching and reasons are in ``service``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ValidationProblem
from cityos.core.models import User
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    require,
    session_user,
    settings_of,
    staff_or_login,
)
from cityos.notices import service
from cityos.notices.models import INTERESTS
from cityos.residents import sessions
from cityos.voice import service as voice
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- residents -------------------------------------------------------------------------------------


@router.get("/my/notices")
def settings_form(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    context = {
        "pref": service.preference(session, resident),
        "facts": service.facts_of(resident),
        "email": resident.email,
        "interests": INTERESTS,
        "saved": request.query_params.get("saved") == "1",
        "needs_csrf": True,
    }
    return render(request, "notices/settings.html", context)


@router.post("/my/notices")
async def settings_save(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    interests = [v for v in form.getlist("interests") if isinstance(v, str)][: len(INTERESTS) + 1]
    return await run_in_threadpool(_settings_sync, request, fields, interests)


def _settings_sync(request: Request, fields: dict[str, str], interests: list[str]) -> Response:
    check_csrf(request, fields.get("csrf_token"))
    with database_of(request).session() as session:
        resident = sessions.signed_in_resident(request, session)
        service.save_preference(
            session, resident, enabled=fields.get("enabled") == "1",
            share_age=fields.get("share_age") == "1",
            share_children=fields.get("share_children") == "1",
            share_town=fields.get("share_town") == "1", interests=interests,
            by_email=fields.get("by_email") == "1",
        )  # fmt: skip
    return RedirectResponse("/my/notices?saved=1", status_code=303)


@router.post("/my/notices/{delivery_id}/stop")
def stop(
    request: Request,
    session: SessionDep,
    delivery_id: RowId,
    what: Text = "interest",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    service.stop(session, resident, delivery_id, "all" if what == "all" else "interest")
    return RedirectResponse("/my/notices?saved=1", status_code=303)


# --- staff ---------------------------------------------------------------------------------------


def _staff_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any],
    *,
    audience: int | None = None,
    rule: dict[str, Any] | None = None,
    problem: ValidationProblem | None = None,
) -> Response:
    context = {
        "user": user,
        "values": values,
        "interests": INTERESTS,
        "audience": audience,
        "rule_text": service.rule_summary(rule, "ja") if rule is not None else "",
        "rule_text_en": service.rule_summary(rule, "en") if rule is not None else "",
        "notices": service.sent_notices(session),
        "summary": service.rule_summary,
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "sent": request.query_params.get("sent", ""),
    }
    return render(request, "notices/staff.html", context, status=problem.status if problem else 200)


@router.get("/staff/notices")
def staff_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    return _staff_page(request, session, user, {})


@router.post("/staff/notices")
async def staff_post(request: Request) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {k: v[:5000] for k, v in form.items() if isinstance(v, str)}
    fields["interests"] = [v for v in form.getlist("interests") if isinstance(v, str)][:20]
    return await run_in_threadpool(_staff_sync, request, fields)


def _staff_sync(request: Request, fields: dict[str, Any]) -> Response:
    check_csrf(request, fields.get("csrf_token"))
    with database_of(request).session() as session:
        user = require(session_user(request, session), service.MANAGE_PERMISSION)
        towns = voice.city_towns(settings_of(request).city_name_ja)
        try:
            rule = service.parse_rule(
                fields.get("towns", ""), fields["interests"], fields.get("child_age", ""),
                fields.get("age", ""), towns,
            )  # fmt: skip
            if fields.get("action") != "send":
                size = service.audience_size(session, rule)
                return _staff_page(request, session, user, fields, audience=size, rule=rule)
            notice = service.send(
                session, user, fields.get("title", ""), fields.get("body", ""), rule,
                site_url=settings_of(request).site_url,
            )  # fmt: skip
        except ValidationProblem as problem:
            session.rollback()
            return _staff_page(request, session, user, fields, problem=problem)
        recipients = notice.recipients
    return RedirectResponse(f"/staff/notices?sent={recipients}", status_code=303)
