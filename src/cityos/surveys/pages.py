"""Pages of the surveys domain: the answer page for residents (phone first), and the staff
pages to build, publish, tally, export and send free texts to the voice analysis.

Thin: the definition, the checks and the tallies are in ``service``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.web import SessionDep, check_csrf, database_of, require, session_user, settings_of
from cityos.residents import sessions
from cityos.surveys import service
from cityos.surveys.models import MODES, Survey
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]
LongText = Annotated[str, Form(max_length=100_000)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Slug = Annotated[str, Path(max_length=32)]


def public_url(request: Request, survey: Survey) -> str:
    return f"{settings_of(request).site_url.rstrip('/')}/surveys/{survey.slug}"


# --- residents: answering ---------------------------------------------------------------------


def _answer_page(
    request: Request,
    session: Session,
    survey: Survey,
    *,
    values: dict[str, list[str]] | None = None,
    problem: ProblemError | None = None,
) -> Response:
    resident = sessions.current_resident(request, session)
    context = {
        "survey": survey,
        "state": service.state(survey),
        "resident": resident,
        "answered": service.already_answered(session, survey, resident),
        "login_url": "/residents/login?" + urlencode({"next": request.url.path}),
        "values": values or {},
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "needs_csrf": True,
    }
    status = problem.status if problem else 200
    return render(request, "surveys/answer.html", context, session=session, status=status)


@router.get("/surveys/{slug}")
def answer_form(request: Request, session: SessionDep, slug: Slug) -> Response:
    return _answer_page(request, session, service.published_survey(session, slug))


@router.post("/surveys/{slug}")
async def answer_submit(request: Request, slug: Slug) -> Response:
    form = await request.form()
    submitted: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and len(submitted) < 200:
            submitted.setdefault(key[:40], []).append(value[: service.MAX_TEXT_ANSWER + 1])
    return await run_in_threadpool(_answer_sync, request, slug, submitted)


def _answer_sync(request: Request, slug: str, submitted: dict[str, list[str]]) -> Response:
    token = submitted.pop("csrf_token", [])
    check_csrf(request, token[0] if token else None)
    with database_of(request).session() as session:
        survey = service.published_survey(session, slug)
        resident = sessions.current_resident(request, session)
        try:
            service.submit(session, survey, resident, submitted)
        except ProblemError as problem:
            session.rollback()
            return _answer_page(request, session, survey, values=submitted, problem=problem)
        return render(request, "surveys/thanks.html", {"survey": survey})


# --- staff ---------------------------------------------------------------------------------------


def _staff(request: Request, session: Session) -> User | Response:
    user = session_user(request, session)
    if user is None:
        target = request.url.path
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return require(user, service.MANAGE_PERMISSION)


@router.get("/staff/surveys")
def staff_list(request: Request, session: SessionDep) -> Response:
    user = _staff(request, session)
    if isinstance(user, Response):
        return user
    rows = [(s, service.state(s)) for s in service.surveys(session)]
    return render(request, "surveys/staff_list.html", {"rows": rows, "user": user})


def _edit_page(
    request: Request,
    user: User,
    survey: Survey | None,
    values: dict[str, str],
    problem: ProblemError | None = None,
    saved: bool = False,
) -> Response:
    context = {
        "user": user,
        "survey": survey,
        "values": values,
        "modes": MODES,
        "types": service.QUESTION_TYPES,
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "saved": saved,
        "url": public_url(request, survey) if survey else "",
        "state": service.state(survey) if survey else "draft",
    }
    return render(
        request, "surveys/staff_edit.html", context, status=problem.status if problem else 200
    )


def _values_of(survey: Survey) -> dict[str, str]:
    def local(moment: Any) -> str:
        from cityos.web.templating import local_time

        return local_time(moment, "%Y-%m-%dT%H:%M") if moment else ""

    return {
        "title": survey.title,
        "description": survey.description,
        "mode": survey.mode,
        "opens_at": local(survey.opens_at),
        "closes_at": local(survey.closes_at),
        "questions": service.definition_text(survey.questions),
    }


@router.get("/staff/surveys/new")
def staff_new(request: Request, session: SessionDep) -> Response:
    user = _staff(request, session)
    if isinstance(user, Response):
        return user
    values = {"mode": "anonymous", "questions": service.EXAMPLE_DEFINITION}
    return _edit_page(request, user, None, values)


def _given(
    title: str, description: str, mode: str, opens_at: str, closes_at: str, questions: str
) -> service.SurveyInput:
    return service.SurveyInput(
        title=title, description=description, mode=mode, opens_at=opens_at,
        closes_at=closes_at, questions=questions,
    )  # fmt: skip


@router.post("/staff/surveys/new")
def staff_create(
    request: Request,
    session: SessionDep,
    title: Text = "",
    description: LongText = "",
    mode: Text = "anonymous",
    opens_at: Text = "",
    closes_at: Text = "",
    questions: LongText = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    given = _given(title, description, mode, opens_at, closes_at, questions)
    try:
        survey = service.create_survey(session, user, given)
    except ValidationProblem as problem:
        return _edit_page(request, user, None, given.__dict__, problem)
    return RedirectResponse(f"/staff/surveys/{survey.id}?saved=1", status_code=303)


@router.get("/staff/surveys/{survey_id}")
def staff_edit(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    user = _staff(request, session)
    if isinstance(user, Response):
        return user
    survey = service.get_survey(session, survey_id)
    saved = request.query_params.get("saved") == "1"
    return _edit_page(request, user, survey, _values_of(survey), saved=saved)


@router.post("/staff/surveys/{survey_id}")
def staff_save(
    request: Request,
    session: SessionDep,
    survey_id: RowId,
    title: Text = "",
    description: LongText = "",
    mode: Text = "anonymous",
    opens_at: Text = "",
    closes_at: Text = "",
    questions: LongText = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    survey = service.get_survey(session, survey_id)
    given = _given(title, description, mode, opens_at, closes_at, questions)
    try:
        service.update_survey(session, user, survey, given)
    except ValidationProblem as problem:
        session.rollback()
        return _edit_page(request, user, survey, given.__dict__, problem)
    return RedirectResponse(f"/staff/surveys/{survey.id}?saved=1", status_code=303)


@router.post("/staff/surveys/{survey_id}/publish")
def staff_publish(
    request: Request,
    session: SessionDep,
    survey_id: RowId,
    published: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    survey = service.get_survey(session, survey_id)
    service.set_published(session, user, survey, published == "1")
    return RedirectResponse(f"/staff/surveys/{survey.id}?saved=1", status_code=303)


@router.get("/staff/surveys/{survey_id}/qr.{kind}")
def staff_qr(request: Request, session: SessionDep, survey_id: RowId, kind: str) -> Response:
    require(session_user(request, session), service.MANAGE_PERMISSION)
    if kind not in ("svg", "png"):
        raise ValidationProblem(
            "QRコードは svg か png です / the QR code is svg or png", status=404
        )
    survey = service.get_survey(session, survey_id)
    media = "image/svg+xml" if kind == "svg" else "image/png"
    name = f"survey-{survey.id}-qr.{kind}"
    return Response(
        service.qr_code(public_url(request, survey), kind),
        media_type=media,
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/staff/surveys/{survey_id}/results")
def staff_results(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    user = _staff(request, session)
    if isinstance(user, Response):
        return user
    survey = service.get_survey(session, survey_id)
    total, tallies = service.tally(session, survey)
    context = {
        "user": user,
        "survey": survey,
        "total": total,
        "tallies": tallies,
        "state": service.state(survey),
        "sent": request.query_params.get("sent", ""),
        "has_text": any(q["type"] == "text" for q in survey.questions),
    }
    return render(request, "surveys/results.html", context, headers={"Cache-Control": "no-store"})


@router.get("/staff/surveys/{survey_id}/results.csv")
def staff_csv(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    require(session_user(request, session), service.MANAGE_PERMISSION)
    survey = service.get_survey(session, survey_id)
    return Response(
        service.export_csv(session, survey),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="survey-{survey.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/staff/surveys/{survey_id}/voice")
def staff_to_voice(
    request: Request, session: SessionDep, survey_id: RowId, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    survey = service.get_survey(session, survey_id)
    report = service.send_texts_to_voice(session, user, survey)
    sent = report.stored + report.updated
    return RedirectResponse(f"/staff/surveys/{survey.id}/results?sent={sent}", status_code=303)
