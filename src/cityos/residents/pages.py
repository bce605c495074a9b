"""Pages of the residents domain: sign-up, login, my page, profile, export and deletion.

Thin: the logic is in ``service``; the session cookie in ``sessions``. Forms carry the
site's CSRF token; login and sign-up are rate-limited per client address.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.pages import safe_next
from cityos.core.ratelimit import rate_limited
from cityos.core.web import SessionDep, check_csrf, database_of, language_of, settings_of
from cityos.forms import service as forms
from cityos.forms.models import STATUSES as FORM_STATUSES
from cityos.notices import service as notices
from cityos.notify import kinds as mail_kinds
from cityos.procedures import service as procedures
from cityos.reservations import service as reservations
from cityos.reservations.models import STATUSES as RESERVATION_STATUSES
from cityos.residents import service, sessions
from cityos.residents.models import RELATIONS, Resident
from cityos.surveys import service as surveys
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]
Texts = Annotated[list[str], Form()]
# Row ids fit the database's integer column (a bigger number is a 422, not a database error).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LoginLimit = Depends(
    rate_limited("resident-login", lambda r: settings_of(r).resident_logins_per_minute)
)
ConfirmLimit = Depends(
    rate_limited("resident-email", lambda r: settings_of(r).resident_logins_per_minute)
)


def _page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    return render(request, template, {"needs_csrf": True, **context}, status=status)


def _signed_in(response: Response, request: Request, resident: Resident) -> Response:
    sessions.start(request, response, resident)
    return response


# --- sign-up, login, logout --------------------------------------------------------------------


@router.get("/residents/signup")
def signup_form(request: Request, next: str = "/my", saving: str = "") -> Response:
    context = {"next": safe_next(next, "/my"), "errors": {}, "saving": saving == "1"}
    return _page(request, "residents/signup.html", context)


@router.post("/residents/signup", dependencies=[LoginLimit])
def signup(
    request: Request,
    session: SessionDep,
    email: Text = "",
    password: Text = "",
    csrf_token: Text = "",
    next: Text = "/my",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        resident = service.sign_up(session, email, password)
    except ProblemError as problem:
        context = {
            "next": safe_next(next, "/my"),
            "email": email,
            "errors": problem.errors,
            "error": problem.detail,
        }
        return _page(request, "residents/signup.html", context, status=problem.status)
    # Where e-mails to this address were stopped, my page says so when asked to resend.
    with contextlib.suppress(ProblemError):
        _send_confirmation(request, session, resident)
    response = RedirectResponse(safe_next(next, "/my"), status_code=303)
    return _signed_in(response, request, resident)


def _send_confirmation(
    request: Request, session: Session, resident: Resident, *, resend: bool = False
) -> str:
    settings = settings_of(request)
    return service.send_confirmation(
        session, resident, site_url=settings.site_url, secret=settings.resolved_secret_key,
        resend=resend,
    )  # fmt: skip


@router.get("/residents/confirm/{token}")
def confirm(
    request: Request, session: SessionDep, token: Annotated[str, Path(max_length=1000)]
) -> Response:
    """Where the link in a confirmation e-mail leads; works without being logged in."""
    try:
        resident = service.confirm_email(session, settings_of(request).resolved_secret_key, token)
    except ProblemError as problem:
        session.rollback()
        context = {"error": problem.detail, "title": problem.title}
        return _page(request, "residents/confirm.html", context, status=problem.status)
    return _page(request, "residents/confirm.html", {"confirmed": resident.email})


@router.post("/my/email/confirm", dependencies=[ConfirmLimit])
def confirm_resend(request: Request, session: SessionDep, csrf_token: Text = "") -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    try:
        _send_confirmation(request, session, resident, resend=True)
    except ProblemError as problem:
        session.rollback()
        context = {**_my_context(session, resident), "confirm_error": problem.detail}
        return _page(request, "residents/my.html", context, status=problem.status)
    return RedirectResponse("/my?confirmation=sent#email-confirm", status_code=303)


@router.post("/my/email", dependencies=[ConfirmLimit])
def email_change(
    request: Request,
    session: SessionDep,
    email: Text = "",
    password: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    try:
        service.change_email(session, resident, email, password)
        _send_confirmation(request, session, resident)
    except ProblemError as problem:
        session.rollback()
        values = {**_profile_values(resident), "new_email": email}
        return _profile_page(request, session, resident, values=values, problem=problem)
    return RedirectResponse("/my/profile?email_sent=1#email", status_code=303)


@router.get("/residents/login")
def login_form(request: Request, next: str = "/my") -> Response:
    return _page(request, "residents/login.html", {"next": safe_next(next, "/my")})


@router.post("/residents/login", dependencies=[LoginLimit])
def login(
    request: Request,
    session: SessionDep,
    email: Text = "",
    password: Text = "",
    csrf_token: Text = "",
    next: Text = "/my",
) -> Response:
    check_csrf(request, csrf_token)
    resident = service.log_in(session, email, password)
    if resident is None:
        context = {"next": safe_next(next, "/my"), "email": email, "error": True}
        return _page(request, "residents/login.html", context, status=401)
    response = RedirectResponse(safe_next(next, "/my"), status_code=303)
    return _signed_in(response, request, resident)


@router.post("/residents/logout")
def logout(request: Request, session: SessionDep, csrf_token: Text = "") -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.current_resident(request, session)
    if resident is not None:
        service.end_sessions(resident)
    response = RedirectResponse("/", status_code=303)
    sessions.end(response)
    return response


# --- my page ---------------------------------------------------------------------------------------


def _my_context(session: Session, resident: Resident) -> dict[str, Any]:
    saved = [
        (c, procedures.checklist_of(session, list(c.procedure_ids))) for c in resident.checklists
    ]
    in_checklists = {p.id for _c, items in saved for p in items}
    return {
        "resident": resident,
        "email_confirmed": service.is_confirmed(resident),
        "address_to_confirm": service.address_to_confirm(resident),
        "profile": resident.profile,
        "address_line": service.formatted_address(resident.profile),
        "saved": saved,
        "filed": forms.filed_for(session, resident, in_checklists),
        "life_events": procedures.LIFE_EVENTS,
        "relations": RELATIONS,
        "notice_pref": notices.preference(session, resident),
        "notice_inbox": notices.inbox(session, resident),
        "notice_reason": notices.reason_sentence,
        "applications": forms.submissions_of(session, resident),
        "application_statuses": FORM_STATUSES,
        "reservations": reservations.bookings_of(session, resident),
        "reservation_statuses": RESERVATION_STATUSES,
    }


@router.get("/my")
def my_page(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    context = {
        **_my_context(session, resident),
        "confirmation_sent": request.query_params.get("confirmation") == "sent",
    }
    return _page(request, "residents/my.html", context)


# --- which e-mails the resident receives ---------------------------------------------------------


def _email_settings_page(
    request: Request,
    session: Session,
    resident: Resident,
    *,
    problem: ProblemError | None = None,
    saved: bool = False,
) -> Response:
    context = {
        "resident": resident,
        "address": service.mail_address(resident),
        "address_to_confirm": service.address_to_confirm(resident),
        "kinds": mail_kinds.DIRECT_KINDS,
        "receiving": service.email_preferences(session, resident),
        "error": problem.detail if problem else "",
        "saved": saved,
    }
    status = problem.status if problem else 200
    return _page(request, "residents/email_settings.html", context, status=status)


@router.get("/my/email-settings")
def email_settings(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    saved = request.query_params.get("saved") == "1"
    return _email_settings_page(request, session, resident, saved=saved)


@router.post("/my/email-settings")
def email_settings_save(
    request: Request,
    session: SessionDep,
    kind: Texts = [],  # noqa: B006 (FastAPI copies defaults)
    csrf_token: Text = "",
) -> Response:
    """The checked kinds are received from now on, the others stopped."""
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    try:
        service.set_email_preferences(session, resident, kind)
    except ProblemError as problem:
        session.rollback()
        return _email_settings_page(request, session, resident, problem=problem)
    return RedirectResponse("/my/email-settings?saved=1#saved", status_code=303)


def _profile_values(resident: Resident) -> dict[str, str]:
    profile = resident.profile
    if profile is None:
        return {}
    return {
        "name": profile.name,
        "kana": profile.kana,
        "birth_date": profile.birth_date.isoformat() if profile.birth_date else "",
        "address": profile.address_input,
    }


def _profile_page(
    request: Request,
    session: Session,
    resident: Resident,
    *,
    values: dict[str, str] | None = None,
    problem: ProblemError | None = None,
    saved: bool = False,
    email_sent: bool = False,
) -> Response:
    context = {
        **_my_context(session, resident),
        "values": values if values is not None else _profile_values(resident),
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "saved": saved,
        "email_sent": email_sent,
    }
    return _page(
        request, "residents/profile.html", context, status=problem.status if problem else 200
    )


@router.get("/my/profile")
def profile_form(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    return _profile_page(
        request, session, resident, saved=request.query_params.get("saved") == "1",
        email_sent=request.query_params.get("email_sent") == "1",
    )  # fmt: skip


@router.post("/my/profile")
def profile_save(
    request: Request,
    session: SessionDep,
    name: Text = "",
    kana: Text = "",
    birth_date: Text = "",
    address: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    given = service.ProfileInput(name=name, kana=kana, birth_date=birth_date, address=address)
    try:
        service.update_profile(
            session, resident, given, prefer_city=settings_of(request).city_name_ja
        )
    except ValidationProblem as problem:
        values = {"name": name, "kana": kana, "birth_date": birth_date, "address": address}
        return _profile_page(request, session, resident, values=values, problem=problem)
    return RedirectResponse("/my/profile?saved=1", status_code=303)


@router.post("/my/household")
def member_add(
    request: Request,
    session: SessionDep,
    member_name: Text = "",
    member_kana: Text = "",
    member_relation: Text = "",
    member_birth_date: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    try:
        service.add_member(
            session, resident, name=member_name, kana=member_kana,
            relation=member_relation, birth_date=member_birth_date,
        )  # fmt: skip
    except ValidationProblem as problem:
        values = {
            **_profile_values(resident),
            "member_name": member_name,
            "member_kana": member_kana,
            "member_relation": member_relation,
            "member_birth_date": member_birth_date,
        }
        return _profile_page(request, session, resident, values=values, problem=problem)
    return RedirectResponse("/my/profile?saved=1#household", status_code=303)


@router.post("/my/household/{member_id}/delete")
def member_remove(
    request: Request, session: SessionDep, member_id: RowId, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    service.remove_member(session, resident, member_id)
    return RedirectResponse("/my/profile#household", status_code=303)


@router.get("/my/export.json")
def export(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    kept = {
        **service.export(resident),
        "notices": notices.export_of(session, resident),
        "survey_responses": surveys.export_of(session, resident),
        "reservations": reservations.export_of(session, resident),
    }
    body = orjson.dumps(kept, option=orjson.OPT_INDENT_2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="cityos-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/my/delete")
def delete_form(request: Request, session: SessionDep) -> Response:
    resident = sessions.signed_in_resident(request, session)
    return _page(request, "residents/delete.html", {"resident": resident, "errors": {}})


@router.post("/my/delete")
def delete(
    request: Request,
    session: SessionDep,
    password: Text = "",
    confirm: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    errors: dict[str, list[str]] = {}
    if confirm != "yes":
        errors["confirm"] = [
            "削除してよいか確認のチェックを入れてください / tick the box to confirm the deletion"
        ]
    else:
        try:
            service.delete_account(session, resident, password)
        except ValidationProblem as problem:
            errors = problem.errors
    if errors:
        context = {"resident": resident, "errors": errors}
        return _page(request, "residents/delete.html", context, status=422)
    response = _page(request, "residents/deleted.html", {})
    sessions.end(response)
    return response


# --- saved checklists (from 手続きナビ) ---------------------------------------------------------


@router.post("/my/checklists")
async def checklist_save(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_checklist_save, request, fields)


def _checklist_save(request: Request, fields: dict[str, str]) -> Response:
    check_csrf(request, fields.pop("csrf_token", None))
    answers = procedures.parse_answers(fields)
    with database_of(request).session() as session:
        resident = sessions.current_resident(request, session)
        if resident is None:
            back = "/procedures/navi/checklist?" + urlencode(answers.as_query())
            return RedirectResponse(
                "/residents/signup?" + urlencode({"next": back, "saving": "1"}), status_code=303
            )
        saved = service.save_checklist(session, resident, answers)
        return RedirectResponse(f"/my#checklist-{saved.id}", status_code=303)


def _checklist_texts(lang: str) -> dict[str, Any]:
    """What procedures/_apply_online.html speaks with: say() and pick() in ja or en."""
    mode = "en" if lang == "en" else "ja"

    def say(ja: str, en: str, easy: str = "") -> str:
        return en if mode == "en" else ja

    def pick(procedure: Any, name: str) -> str:
        return str(getattr(procedure, f"{name}_{mode}") or getattr(procedure, f"{name}_ja"))

    return {"mode": mode, "say": say, "pick": pick}


@router.get("/my/checklists/{checklist_id}")
def checklist_show(request: Request, session: SessionDep, checklist_id: RowId) -> Response:
    resident = sessions.signed_in_resident(request, session)
    saved = service.checklist(session, resident, checklist_id)
    items = procedures.checklist_of(session, list(saved.procedure_ids))
    ids = [p.id for p in items]
    context = {
        "saved_checklist": saved,
        "items": items,
        "query": urlencode(saved.answers),
        "navi": urlencode(saved.answers),
        "life_events": procedures.LIFE_EVENTS,
        "online_forms": forms.online_forms(session, ids),
        "filed": forms.filed_for(session, resident, ids),
        "application_statuses": FORM_STATUSES,
        **_checklist_texts(language_of(request)),
    }
    return _page(request, "residents/checklist.html", context)


@router.post("/my/checklists/{checklist_id}/delete")
def checklist_remove(
    request: Request, session: SessionDep, checklist_id: RowId, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    service.remove_checklist(session, resident, checklist_id)
    return RedirectResponse("/my", status_code=303)
