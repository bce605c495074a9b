"""Pages of the procedures domain: the public catalog, 手続きナビ, and the staff editor.

Thin: the catalog and the checklist rules are in ``service``. The checklist speaks Japanese,
English or やさしい日本語 (``?easy=1``, on top of the site's ja/en switch).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from cityos.core.errors import ValidationProblem
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    language_of,
    require,
    session_user,
    staff_or_login,
)
from cityos.forms import service as forms
from cityos.forms.models import STATUSES as FORM_STATUSES
from cityos.procedures import catalog, service
from cityos.procedures.models import LIFE_EVENTS, Procedure
from cityos.residents import sessions
from cityos.web.templating import language_links, render, text_helpers, text_mode

router = APIRouter(include_in_schema=False)


def _helpers(mode: str) -> dict[str, Any]:
    return {
        **text_helpers(mode),
        "life_events": LIFE_EVENTS,
        "attribution": catalog.attribution(),
    }


@router.get("/procedures")
def catalog_page(
    request: Request,
    session: SessionDep,
    q: str = "",
    event: str = "",
    online: str = "",
) -> Response:
    q = q[:200]
    chosen_event = event if event in LIFE_EVENTS else ""
    found = service.search(session, q=q, event=chosen_event, online=True if online == "1" else None)
    context = {
        "procedures": found,
        "q": q,
        "event": chosen_event,
        "online": online == "1",
        **_helpers(text_mode(request)),
    }
    return render(request, "procedures/catalog.html", context, session=session)


@router.get("/procedures/navi")
def navi_page(request: Request, session: SessionDep) -> Response:
    context = {
        "values": dict(request.query_params),
        "errors": {},
        "events": service.NAVI_EVENTS,
        "insurances": service.INSURANCES,
        "moving_from": service.MOVING_FROM,
        **_helpers(text_mode(request)),
    }
    return render(request, "procedures/navi.html", context, session=session)


@router.get("/procedures/navi/checklist")
def checklist_page(request: Request, session: SessionDep) -> Response:
    mode = text_mode(request)
    values = dict(request.query_params)
    try:
        answers = service.parse_answers(values)
    except ValidationProblem as problem:
        context = {
            "values": values,
            "errors": problem.errors,
            "error": problem.detail,
            "events": service.NAVI_EVENTS,
            "insurances": service.INSURANCES,
            "moving_from": service.MOVING_FROM,
            **_helpers(mode),
        }
        return render(request, "procedures/navi.html", context, session=session, status=422)
    items = service.checklist(session, answers)
    query = answers.as_query()
    procedure_ids = [item.procedure.id for item in items]
    resident = sessions.current_resident(request, session)
    context = {
        "answers": answers,
        "answer_fields": query,
        "items": items,
        "navi": urlencode(query),
        "online_forms": forms.online_forms(session, procedure_ids),
        "filed": forms.filed_for(session, resident, procedure_ids),
        "application_statuses": FORM_STATUSES,
        "switch": language_links(query),
        "needs_csrf": True,
        "insurances": service.INSURANCES,
        **_helpers(mode),
    }
    return render(request, "procedures/checklist.html", context, session=session)


@router.get("/procedures/{procedure_id}")
def procedure_page(request: Request, session: SessionDep, procedure_id: str) -> Response:
    procedure = service.get(session, procedure_id)
    related = service.checklist_of(session, list(procedure.related))
    context = {"procedure": procedure, "related": related, **_helpers(text_mode(request))}
    return render(request, "procedures/procedure.html", context, session=session)


# --- staff -----------------------------------------------------------------------------------


@router.get("/staff/procedures")
def staff_list(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "procedures.manage")
    if isinstance(user, Response):
        return user
    context = {"procedures": service.search(session), **_helpers(language_of(request))}
    return render(request, "procedures/staff_list.html", context, session=session)


def _edit_values(procedure: Procedure) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(procedure, name) for name in service.EDITABLE_TEXTS}
    values.update(
        deadline_days="" if procedure.deadline_days is None else str(procedure.deadline_days),
        online=procedure.online,
        events=list(procedure.events),
        related=", ".join(procedure.related),
        forms="\n".join(procedure.forms),
        keywords=", ".join(procedure.keywords),
        bring="\n".join(
            " | ".join([b["ja"], b.get("en", ""), *([b["easy"]] if b.get("easy") else [])])
            for b in procedure.bring
        ),
    )
    return values


@router.get("/staff/procedures/{procedure_id}")
def staff_edit(request: Request, session: SessionDep, procedure_id: str) -> Response:
    user = staff_or_login(request, session, "procedures.manage")
    if isinstance(user, Response):
        return user
    procedure = service.get(session, procedure_id)
    context = {
        "procedure": procedure,
        "values": _edit_values(procedure),
        "errors": {},
        "saved": request.query_params.get("saved") == "1",
        **_helpers(language_of(request)),
    }
    return render(request, "procedures/staff_edit.html", context, session=session)


@router.post("/staff/procedures/{procedure_id}")
async def staff_save(request: Request, procedure_id: str) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    fields["events"] = [v for v in form.getlist("events") if isinstance(v, str)]
    return await run_in_threadpool(_save_sync, request, procedure_id, fields)


def _save_sync(request: Request, procedure_id: str, fields: dict[str, Any]) -> Response:
    check_csrf(request, fields.get("csrf_token"))
    with database_of(request).session() as session:
        user = require(session_user(request, session), "procedures.manage")
        procedure = service.get(session, procedure_id)
        try:
            # Every field is checked before any is written: a refused edit changes nothing.
            service.update_procedure(session, user, procedure_id, fields)
        except ValidationProblem as problem:
            context = {
                "procedure": procedure,
                "values": {**fields, "online": bool(fields.get("online"))},
                "errors": problem.errors,
                "error": problem.detail,
                "saved": False,
                "user": user,
                **_helpers(language_of(request)),
            }
            return render(request, "procedures/staff_edit.html", context, status=422)
    return RedirectResponse(f"/staff/procedures/{procedure_id}?saved=1", status_code=303)
