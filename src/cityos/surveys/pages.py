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
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    language_of,
    require,
    session_user,
    settings_of,
    staff_or_login,
)
from cityos.residents import sessions
from cityos.surveys import service
from cityos.surveys.models import MODES, Survey
from cityos.web.templating import language_links, render, text_helpers, text_mode

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]
LongText = Annotated[str, Form(max_length=100_000)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Slug = Annotated[str, Path(max_length=32)]


def public_url(request: Request, survey: Survey) -> str:
    return f"{settings_of(request).site_url.rstrip('/')}/surveys/{survey.slug}"


# --- residents: answering ---------------------------------------------------------------------


def _resident_texts(mode: str) -> dict[str, Any]:
    """say/said for the fixed texts, and ``worded`` for what staff wrote.

    A survey's title and description, and a question's label, choices and scale ends, may have
    English (``title_en``, ``label_en``) wording; the title and the question's texts may have
    やさしい日本語 (``title_easy``, ``label_easy``) wording. Whatever is missing is shown in
    Japanese."""

    def worded(item: Any, key: str, index: int | None = None) -> str:
        def get(name: str) -> Any:
            if isinstance(item, dict):
                return item.get(name)
            return getattr(item, name, None)

        own = get(f"{key}_{mode}") if mode != "ja" else None
        if index is not None:
            texts = own if isinstance(own, list) else []
            own = texts[index] if index < len(texts) else None
            return str(own or get(key)[index])
        return str(own or get(key) or "")

    return {**text_helpers(mode), "worded": worded}


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
        "switch": language_links(),
        **_resident_texts(text_mode(request)),
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
        context = {
            "survey": survey,
            "switch": language_links(),
            **_resident_texts(text_mode(request)),
        }
        return render(request, "surveys/thanks.html", context)


# --- staff ---------------------------------------------------------------------------------------


@router.get("/staff/surveys")
def staff_list(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
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
        "title_en": survey.title_en,
        "title_easy": survey.title_easy,
        "description": survey.description,
        "description_en": survey.description_en,
        "mode": survey.mode,
        "opens_at": local(survey.opens_at),
        "closes_at": local(survey.closes_at),
        "questions": service.definition_text(survey.questions),
    }


@router.get("/staff/surveys/new")
def staff_new(request: Request, session: SessionDep) -> Response:
    """The builder's first step (title, who may answer, dates); ?advanced=1: the JSON editor."""
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    if request.query_params.get("advanced") == "1":
        values = {"mode": "anonymous", "questions": service.EXAMPLE_DEFINITION}
        return _edit_page(request, user, None, values)
    return _new_page(request, user, {"mode": "anonymous"})


def _new_page(
    request: Request, user: User, values: dict[str, Any], problem: ProblemError | None = None
) -> Response:
    context = {
        "user": user,
        "values": values,
        "modes": MODES,
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
    }
    status = problem.status if problem else 200
    return render(request, "surveys/staff_new.html", context, status=status)


def _given(
    title: str,
    description: str,
    mode: str,
    opens_at: str,
    closes_at: str,
    questions: str | None,
    title_en: str = "",
    description_en: str = "",
    title_easy: str = "",
) -> service.SurveyInput:
    return service.SurveyInput(
        title=title, description=description, mode=mode, opens_at=opens_at,
        closes_at=closes_at, questions=questions, title_en=title_en,
        description_en=description_en, title_easy=title_easy,
    )  # fmt: skip


@router.post("/staff/surveys/new")
def staff_create(
    request: Request,
    session: SessionDep,
    title: Text = "",
    title_en: Text = "",
    title_easy: Text = "",
    description: LongText = "",
    description_en: LongText = "",
    mode: Text = "anonymous",
    opens_at: Text = "",
    closes_at: Text = "",
    questions: Annotated[str | None, Form(max_length=100_000)] = None,
    csrf_token: Text = "",
) -> Response:
    """With ``questions`` (the JSON editor) the whole survey; without, a builder draft."""
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    given = _given(
        title, description, mode, opens_at, closes_at, questions, title_en, description_en,
        title_easy,
    )  # fmt: skip
    try:
        survey = service.create_survey(session, user, given)
    except ValidationProblem as problem:
        session.rollback()
        if questions is None:
            return _new_page(request, user, given.__dict__, problem)
        return _edit_page(request, user, None, given.__dict__, problem)
    if questions is None:
        return RedirectResponse(f"/staff/surveys/{survey.id}/edit?saved=1", status_code=303)
    return RedirectResponse(f"/staff/surveys/{survey.id}?saved=1", status_code=303)


@router.get("/staff/surveys/{survey_id}")
def staff_edit(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
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
    given = _given(
        title, description, mode, opens_at, closes_at, questions,
        survey.title_en, survey.description_en, survey.title_easy,
    )  # fmt: skip
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
    back: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), service.MANAGE_PERMISSION)
    survey = service.get_survey(session, survey_id)
    try:
        service.set_published(session, user, survey, published == "1")
    except ValidationProblem as problem:
        return _builder_page(request, session, user, survey, problem=problem)
    where = "/edit" if back == "edit" else ""
    return RedirectResponse(f"/staff/surveys/{survey.id}{where}?saved=1", status_code=303)


# --- staff: the point-and-click builder -----------------------------------------------------


def _builder_page(
    request: Request,
    session: Session,
    user: User,
    survey: Survey,
    *,
    problem: ProblemError | None = None,
    editing: str = "",
    given: dict[str, Any] | None = None,
    settings: dict[str, str] | None = None,
) -> Response:
    """The builder: settings, each question with its own small form, add, publish.

    ``editing`` names the question (or "add") whose submitted ``given`` fields are shown back
    with their errors; every other question shows what is saved."""
    questions = survey.questions
    context = {
        "user": user,
        "survey": survey,
        "values": settings or _values_of(survey),
        "modes": MODES,
        "types": service.QUESTION_TYPES,
        "questions": questions,
        "forms": {q["id"]: _question_fields(q, questions) for q in questions},
        "conditions": {q["id"]: _condition_options(questions[:i]) for i, q in enumerate(questions)},
        "add_conditions": _condition_options(questions),
        "editing": editing,
        "given": given or {"type": "single"},
        "errors": problem.errors if problem else {},
        "error": problem.detail if problem else "",
        "saved": request.query_params.get("saved") == "1",
        "locked": service.survey_has_responses(session, survey),
        "url": public_url(request, survey),
        "state": service.state(survey),
    }
    status = problem.status if problem else 200
    return render(request, "surveys/staff_builder.html", context, status=status)


def _question_fields(question: dict[str, Any], questions: list[Any]) -> dict[str, Any]:
    """A saved question as the builder's form fields."""
    target = next(
        (q for q in questions if q["id"] == (question.get("show_if") or {}).get("question")),
        None,
    )
    return {
        "type": question["type"],
        "label": question["label"],
        "label_en": question.get("label_en", ""),
        "label_easy": question.get("label_easy", ""),
        "required": question.get("required", False),
        "choices": "\n".join(question.get("choices", [])),
        "choices_en": "\n".join(question.get("choices_en", [])),
        "choices_easy": "\n".join(question.get("choices_easy", [])),
        **{end: question.get(end, "") for end in service.SCALE_ENDS},
        "condition": service.condition_value(question, target),
    }


def _condition_options(earlier: list[Any]) -> list[tuple[str, str]]:
    """(value, label) for each answer of each earlier choice question."""
    options = []
    for number, question in enumerate(earlier, start=1):
        if question["type"] not in ("single", "multiple"):
            continue
        for index, choice in enumerate(question["choices"]):
            options.append(
                (f"{question['id']}:{index}", f"{number}. {question['label']} → {choice}")
            )
    return options


def _question_input(form: dict[str, str]) -> service.QuestionInput:
    """The builder's fields; an English or easy-Japanese field the form did not carry is None
    (the saved wording stays), one sent empty is "" (it is cleared)."""
    return service.QuestionInput(
        type=form.get("type", "single"),
        label=form.get("label", ""),
        label_en=form.get("label_en"),
        label_easy=form.get("label_easy"),
        required=form.get("required") == "1",
        choices=form.get("choices", ""),
        choices_en=form.get("choices_en"),
        choices_easy=form.get("choices_easy"),
        min_label=form.get("min_label", ""),
        min_label_en=form.get("min_label_en"),
        min_label_easy=form.get("min_label_easy"),
        max_label=form.get("max_label", ""),
        max_label_en=form.get("max_label_en"),
        max_label_easy=form.get("max_label_easy"),
        condition=form.get("condition", ""),
    )


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=40)
    return {k: v[:5000] for k, v in form.items() if isinstance(v, str)}


@router.get("/staff/surveys/{survey_id}/edit")
def staff_builder(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    return _builder_page(request, session, user, service.get_survey(session, survey_id))


@router.post("/staff/surveys/{survey_id}/edit")
async def staff_builder_settings(request: Request, survey_id: RowId) -> Response:
    fields = await _form_fields(request)
    return await run_in_threadpool(_settings_sync, request, survey_id, fields)


def _settings_sync(request: Request, survey_id: int, fields: dict[str, str]) -> Response:
    check_csrf(request, fields.get("csrf_token"))
    with database_of(request).session() as session:
        user = require(session_user(request, session), service.MANAGE_PERMISSION)
        survey = service.get_survey(session, survey_id)
        names = ("title", "title_en", "title_easy", "description", "description_en", "mode")
        values = {name: fields.get(name, "") for name in (*names, "opens_at", "closes_at")}
        given = service.SurveyInput(**values, questions=None)
        try:
            service.update_survey(session, user, survey, given)
        except ValidationProblem as problem:
            session.rollback()
            return _builder_page(request, session, user, survey, problem=problem, settings=values)
    return RedirectResponse(f"/staff/surveys/{survey_id}/edit?saved=1", status_code=303)


@router.post("/staff/surveys/{survey_id}/questions")
async def staff_add_question(request: Request, survey_id: RowId) -> Response:
    fields = await _form_fields(request)
    return await run_in_threadpool(_question_sync, request, survey_id, "", fields)


@router.post("/staff/surveys/{survey_id}/questions/{qid}")
async def staff_change_question(
    request: Request, survey_id: RowId, qid: Annotated[str, Path(max_length=20)]
) -> Response:
    fields = await _form_fields(request)
    return await run_in_threadpool(_question_sync, request, survey_id, qid, fields)


def _question_sync(request: Request, survey_id: int, qid: str, fields: dict[str, str]) -> Response:
    """Add (no ``qid``), or save, move up or down, or delete one question."""
    check_csrf(request, fields.get("csrf_token"))
    action = fields.get("action", "save") if qid else "add"
    with database_of(request).session() as session:
        user = require(session_user(request, session), service.MANAGE_PERMISSION)
        survey = service.get_survey(session, survey_id)
        anchor = f"question-{qid}"
        try:
            if action == "add":
                anchor = "question-" + service.add_question(
                    session, user, survey, _question_input(fields)
                )
            elif action in ("up", "down"):
                service.move_question(session, user, survey, qid, -1 if action == "up" else 1)
            elif action == "delete":
                service.delete_question(session, user, survey, qid)
                anchor = "questions"
            else:
                service.edit_question(session, user, survey, qid, _question_input(fields))
        except ValidationProblem as problem:
            session.rollback()
            survey = service.get_survey(session, survey_id)
            editing = "add" if action == "add" else qid if action == "save" else ""
            return _builder_page(
                request, session, user, survey, problem=problem, editing=editing, given=fields
            )
    return RedirectResponse(f"/staff/surveys/{survey_id}/edit?saved=1#{anchor}", status_code=303)


@router.get("/staff/surveys/{survey_id}/preview")
def staff_preview(request: Request, session: SessionDep, survey_id: RowId) -> Response:
    """The answer page as a resident sees it, with nothing sent."""
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    survey = service.get_survey(session, survey_id)
    context = {
        "user": user,
        "survey": survey,
        "state": "open",
        "resident": None,
        "answered": False,
        "preview": True,
        "values": {},
        "errors": {},
        "error": "",
        "login_url": "",
        **_resident_texts(language_of(request)),
    }
    return render(request, "surveys/answer.html", context)


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
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
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
