"""Pages of the forms domain: filing a form, the resident's applications, the staff inbox,
the form editor and the printable PDF.

Thin: the logic is in ``service`` (checking, prefill, statuses) and ``pdf``. Resident pages
use the residents domain's session cookie; staff pages the staff session and ``forms.manage``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.ratelimit import rate_limited
from cityos.core.web import (
    Pager,
    SessionDep,
    check_csrf,
    database_of,
    files_of,
    language_of,
    require,
    session_user,
    settings_of,
    staff_or_login,
)
from cityos.forms import pdf, service
from cityos.forms.models import NEXT_STATUSES, STATUSES, FormDefinition, Submission
from cityos.residents import sessions
from cityos.residents.models import Resident
from cityos.web.templating import language_links, render, text_helpers, text_mode

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4096)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FormId = Annotated[str, Path(max_length=40)]
NaviQuery = Annotated[str, Query(max_length=1000)]
INBOX_PAGE = 50  # applications per page of the staff inbox
SubmitLimit = Depends(
    rate_limited("form-submit", lambda r: settings_of(r).form_submissions_per_minute)
)
NOT_OFFICIAL = (
    "City OS のデモ様式です。公式の様式ではありません / a City OS sample, not an official form"
)


def _page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    # Resident pages speak ja, en or やさしい日本語 (?easy=1); staff pages ja or en.
    mode = language_of(request) if request.url.path.startswith("/staff/") else text_mode(request)
    values = {"needs_csrf": True, "statuses": STATUSES, **text_helpers(mode), **context}
    return render(request, template, values, status=status)


# --- residents: the forms and filing them -----------------------------------------------------


@router.get("/forms")
def form_list(request: Request, session: SessionDep) -> Response:
    context = {"forms": service.forms(session), "note": NOT_OFFICIAL, "switch": language_links()}
    return _page(request, "forms/list.html", context)


def _form_page(
    request: Request,
    session: Session,
    resident: Resident,
    found: FormDefinition,
    *,
    values: dict[str, str] | None = None,
    idempotency_key: str = "",
    problem: ProblemError | None = None,
    navi: str = "",
) -> Response:
    navi, in_checklist = service.navi_checklist(session, navi)
    checklist_forms = [
        f.id for forms in service.online_forms(session, in_checklist).values() for f in forms
    ]
    known, prefilled, carried = service.prefill(
        session, found, resident, checklist_forms=checklist_forms
    )
    if values is not None:
        prefilled = {k for k in prefilled if values.get(k) == known[k]}
    context = {
        "form": found,
        "values": known if values is None else values,
        "prefilled": prefilled,
        "carried": carried & prefilled,
        "carried_ja": service.CARRIED_JA,
        "carried_en": service.CARRIED_EN,
        "navi": navi,
        "idempotency_key": idempotency_key or service.new_idempotency_key(),
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "prefilled_ja": service.PREFILLED_JA,
        "prefilled_en": service.PREFILLED_EN,
        "note": NOT_OFFICIAL,
        "switch": language_links(),
    }
    return _page(request, "forms/form.html", context, status=problem.status if problem else 200)


@router.get("/forms/{form_id}")
def form_page(
    request: Request, session: SessionDep, form_id: FormId, navi: NaviQuery = ""
) -> Response:
    """A form to fill; ``navi`` (the answers of a 手続きナビ checklist) when opened from one."""
    found = service.form(session, form_id)
    resident = sessions.signed_in_resident(request, session)
    return _form_page(request, session, resident, found, navi=navi)


async def _read_form(request: Request) -> tuple[dict[str, str], dict[str, service.Upload]]:
    limit = settings_of(request).max_upload_bytes
    form = await request.form(max_files=20, max_fields=200)
    raw: dict[str, str] = {}
    uploads: dict[str, service.Upload] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            raw[key] = value
        elif isinstance(value, UploadFile) and value.filename:
            # Read one byte past the largest limit so an oversized file is told, not cut.
            data = await value.read(limit + 1)
            uploads[key] = service.Upload(value.filename, data)
    return raw, uploads


@router.post("/forms/{form_id}", dependencies=[SubmitLimit])
async def form_submit(request: Request, form_id: FormId) -> Response:
    raw, uploads = await _read_form(request)
    return await run_in_threadpool(_submit, request, form_id, raw, uploads)


def _submit(
    request: Request, form_id: str, raw: dict[str, str], uploads: dict[str, service.Upload]
) -> Response:
    check_csrf(request, raw.pop("csrf_token", None))
    settings = settings_of(request)
    with database_of(request).session() as session:
        found = service.form(session, form_id)
        if raw.pop("form_id", None) != found.id:
            # The page's own form id was changed: refuse rather than file a different form.
            raise ValidationProblem(
                "フォームが一致しません。フォームを開き直してください / "
                "the form does not match this address; open the form again",
                status=400,
                errors={"form_id": ["mismatch"]},
            )
        resident = sessions.signed_in_resident(request, session)
        key = raw.pop("idempotency_key", "")
        navi = raw.pop("navi", "")[: service.NAVI_LIMIT]
        try:
            submission, _created = service.submit(
                session, files_of(request), service.cipher(settings), resident, form_id,
                raw=raw, uploads=uploads, idempotency_key=key,
                prefer_city=settings.city_name_ja,
            )  # fmt: skip
        except ValidationProblem as problem:
            if "idempotency_key" in problem.errors:
                raise
            session.rollback()
            return _form_page(
                request, session, resident, found, values=raw, idempotency_key=key,
                problem=problem, navi=navi,
            )  # fmt: skip
        navi = service.navi_checklist(session, navi)[0]
        back = "&" + urlencode({"navi": navi}) if navi else ""
        return RedirectResponse(f"/my/applications/{submission.id}?filed=1{back}", status_code=303)


# --- residents: their applications -------------------------------------------------------------


@router.get("/my/applications/{submission_id}")
def application(
    request: Request, session: SessionDep, submission_id: RowId, navi: NaviQuery = ""
) -> Response:
    resident = sessions.signed_in_resident(request, session)
    found = service.submission_for(session, resident, submission_id)
    context = {
        "submission": found,
        "rows": service.shown_values(found, service.cipher(settings_of(request))),
        "filed": request.query_params.get("filed") == "1",
        "resubmitted": request.query_params.get("resubmitted") == "1",
        "navi": service.navi_checklist(session, navi)[0],
        "reason": service.return_reason(found) if found.status == "returned" else None,
    }
    return _page(request, "forms/application.html", context)


def _correct_page(
    request: Request,
    found: Submission,
    *,
    values: dict[str, str] | None = None,
    idempotency_key: str = "",
    problem: ProblemError | None = None,
) -> Response:
    context: dict[str, Any] = {
        "submission": found,
        "form": found.form,
        "reason": service.return_reason(found),
        "values": service.correction_values(found) if values is None else values,
        "prefilled": set(),
        "idempotency_key": idempotency_key or service.new_idempotency_key(),
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "note": NOT_OFFICIAL,
    }
    return _page(request, "forms/correct.html", context, status=problem.status if problem else 200)


@router.get("/my/applications/{submission_id}/correct")
def correct_page(request: Request, session: SessionDep, submission_id: RowId) -> Response:
    resident = sessions.signed_in_resident(request, session)
    found = service.correctable(session, resident, submission_id)
    if found.status != "returned":
        raise service.not_returned(found)
    return _correct_page(request, found)


@router.post("/my/applications/{submission_id}/correct", dependencies=[SubmitLimit])
async def correct_submit(request: Request, submission_id: RowId) -> Response:
    raw, uploads = await _read_form(request)
    return await run_in_threadpool(_resubmit, request, submission_id, raw, uploads)


def _resubmit(
    request: Request, submission_id: int, raw: dict[str, str], uploads: dict[str, service.Upload]
) -> Response:
    check_csrf(request, raw.pop("csrf_token", None))
    settings = settings_of(request)
    with database_of(request).session() as session:
        resident = sessions.signed_in_resident(request, session)
        key = raw.pop("idempotency_key", "")
        try:
            found, _created = service.resubmit(
                session, files_of(request), service.cipher(settings), resident, submission_id,
                raw=raw, uploads=uploads, idempotency_key=key, prefer_city=settings.city_name_ja,
            )  # fmt: skip
        except ValidationProblem as problem:
            if "idempotency_key" in problem.errors:
                raise
            session.rollback()
            found = service.correctable(session, resident, submission_id)
            return _correct_page(request, found, values=raw, idempotency_key=key, problem=problem)
        return RedirectResponse(f"/my/applications/{found.id}?resubmitted=1", status_code=303)


def _pdf_response(request: Request, found: Submission) -> Response:
    settings = settings_of(request)
    token = service.counter_token(settings, found.id)
    body = pdf.render(
        title_ja=found.form.title_ja,
        title_en=found.form.title_en,
        department_ja=found.department_ja,
        city_ja=settings.city_name_ja,
        number=found.id,
        filed_at=found.created_at,
        status=found.status,
        rows=service.shown_values(found, service.cipher(settings)),
        staff_url=f"{settings.site_url.rstrip('/')}/staff/forms/counter/{token}",
        note=NOT_OFFICIAL,
    )
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="application-{found.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/my/applications/{submission_id}/form.pdf")
def application_pdf(request: Request, session: SessionDep, submission_id: RowId) -> Response:
    resident = sessions.signed_in_resident(request, session)
    return _pdf_response(request, service.submission_for(session, resident, submission_id))


# --- staff ---------------------------------------------------------------------------------------


@router.get("/staff/forms")
def staff_inbox(
    request: Request,
    session: SessionDep,
    department: str = "",
    status: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    user = staff_or_login(request, session, "forms.manage")
    if isinstance(user, Response):
        return user
    status = status if status in STATUSES else ""
    counts = service.inbox_counts(session, department)
    total = counts.get(status, 0) if status else sum(counts.values())
    pager = Pager.of(request, page, INBOX_PAGE, total)
    submissions = service.inbox(
        session, department=department, status=status, limit=INBOX_PAGE, offset=pager.offset
    )
    context = {
        "user": user,
        "submissions": submissions,
        "pager": pager,
        "counts": counts,
        "departments": service.departments(session),
        "department": department,
        "status": status,
        "forms": service.forms(session, active_only=False),
    }
    return _page(request, "forms/staff_inbox.html", context)


def _staff_submission_page(
    request: Request,
    session: Session,
    user: Any,
    submission_id: int,
    *,
    problem: ProblemError | None = None,
    via: str = "web",
) -> Response:
    found = service.staff_submission(session, user, submission_id, via=via)
    context = {
        "user": user,
        "submission": found,
        "rows": service.shown_values(found, service.cipher(settings_of(request))),
        "next_statuses": NEXT_STATUSES[found.status],
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "saved": request.query_params.get("saved") == "1",
    }
    return _page(
        request, "forms/staff_submission.html", context, status=problem.status if problem else 200
    )


@router.get("/staff/forms/submissions/{submission_id}")
def staff_submission(request: Request, session: SessionDep, submission_id: RowId) -> Response:
    user = staff_or_login(request, session, "forms.manage")
    if isinstance(user, Response):
        return user
    return _staff_submission_page(request, session, user, submission_id)


@router.get("/staff/forms/submissions/{submission_id}/form.pdf")
def staff_submission_pdf(request: Request, session: SessionDep, submission_id: RowId) -> Response:
    user = staff_or_login(request, session, "forms.manage")
    if isinstance(user, Response):
        return user
    return _pdf_response(request, service.staff_submission(session, user, submission_id))


@router.post("/staff/forms/submissions/{submission_id}/status")
def staff_status(
    request: Request,
    session: SessionDep,
    submission_id: RowId,
    status: Text = "",
    comment: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "forms.manage")
    found = service.staff_submission(session, user, submission_id)
    try:
        service.change_status(
            session, user, found, status, comment, site_url=settings_of(request).site_url
        )
    except ProblemError as problem:
        session.rollback()
        return _staff_submission_page(request, session, user, submission_id, problem=problem)
    return RedirectResponse(f"/staff/forms/submissions/{submission_id}?saved=1", status_code=303)


@router.get("/staff/forms/counter/{token}")
def staff_counter(
    request: Request, session: SessionDep, token: Annotated[str, Path(max_length=200)]
) -> Response:
    """Where a printed form's QR code leads: the submission, for staff at the counter."""
    submission_id = service.counter_submission_id(settings_of(request), token)
    user = staff_or_login(request, session, "forms.manage")
    if isinstance(user, Response):
        return user
    return _staff_submission_page(request, session, user, submission_id, via="counter-qr")


@router.get("/staff/forms/definitions/{form_id}")
def staff_definition(request: Request, session: SessionDep, form_id: FormId) -> Response:
    user = staff_or_login(request, session, "forms.manage")
    if isinstance(user, Response):
        return user
    found = service.form(session, form_id, active_only=False)
    context = {
        "user": user,
        "form": found,
        "definition": service.definition_json(found),
        "missing": service.missing_translations(found),
        "errors": {},
        "saved": request.query_params.get("saved") == "1",
        "values": {},
        "prefilled": set(),
        "idempotency_key": "",
    }
    return _page(request, "forms/staff_definition.html", context)


@router.post("/staff/forms/definitions/{form_id}")
def staff_definition_save(
    request: Request,
    session: SessionDep,
    form_id: FormId,
    definition: Annotated[str, Form(max_length=200_000)] = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "forms.manage")
    found = service.form(session, form_id, active_only=False)
    try:
        service.update_definition(session, user, form_id, definition)
    except ValidationProblem as problem:
        session.rollback()
        context = {
            "user": user,
            "form": found,
            "definition": definition,
            "missing": service.missing_translations(found),
            "errors": problem.errors,
            "error": problem.detail,
            "saved": False,
            "values": {},
            "prefilled": set(),
            "idempotency_key": "",
        }
        return _page(request, "forms/staff_definition.html", context, status=422)
    return RedirectResponse(f"/staff/forms/definitions/{form_id}?saved=1", status_code=303)
