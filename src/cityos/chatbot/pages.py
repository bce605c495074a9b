"""Pages of the FAQ chatbot: the resident's chat page (works without JavaScript; the widget on
every page uses the JSON API) and the staff's FAQ editor, CSV import, synonym table and the
log of questions to answer. Thin: the logic is in ``service``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.chatbot import service
from cityos.chatbot.faqcsv import FIELD_LABELS
from cityos.core.errors import ProblemError
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
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=12000)]
IMPORT_LIMIT = 8 * 1024 * 1024
ENTRY_FIELDS = ("faq_id", "question", "answer", "category", "department", "url", "updated")


# --- residents -----------------------------------------------------------------------------


def _chat(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, "chatbot/chat.html", {"needs_csrf": True, **context}, status=status)


@router.get("/chatbot")
def chat_page(request: Request, session: SessionDep, faq: str = "") -> Response:
    """The chat page; ``?faq=ID`` shows one entry (a suggestion chosen)."""
    context: dict[str, Any] = {"question": "", "result": None}
    if faq:
        try:
            row = service.get_entry(session, faq[:64])
        except ProblemError:
            row = None
        if row is not None:
            answer = service.Answer(
                True, row.faq_id, row.question, row.answer, 1.0, [],
                speech=service.speech_text(row.answer), category=row.category,
                department=row.department, url=row.url,
                updated=row.updated.isoformat() if row.updated else "",
            )  # fmt: skip
            context["result"] = service.answer_json(service.Asked(answer, None))
    return _chat(request, context)


@router.post("/chatbot")
def chat_ask(
    request: Request, session: SessionDep, question: LongText = "", csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    written = question.strip()
    if not written:
        error = "質問を入力してください / Please type a question."
        return _chat(request, {"question": "", "result": None, "error": error}, 422)
    if len(written) > 1000:
        error = "質問は1000文字までです / A question can have up to 1000 characters."
        return _chat(request, {"question": written[:1000], "result": None, "error": error}, 422)
    settings = settings_of(request)
    asked = service.ask(
        session, written, channel="web", threshold=settings.chatbot_threshold,
        site_url=settings.site_url,
    )  # fmt: skip
    result = service.answer_json(asked, language_of(request))
    return _chat(request, {"question": written, "result": result})


@router.post("/chatbot/feedback")
def chat_feedback(
    request: Request,
    session: SessionDep,
    log_id: Annotated[int, Form(ge=1, le=2_000_000_000)],
    rating: Annotated[int, Form(ge=-1, le=1)] = 0,
    to_staff: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    service.feedback(session, log_id, rating=rating, to_staff=to_staff == "1")
    if to_staff == "1":
        thanks = "職員に質問を送りました。FAQ に答えを加えます / Sent to staff: they will add an answer to the FAQ."
    else:
        thanks = "ご評価ありがとうございます / Thank you for your feedback."
    return _chat(request, {"question": "", "result": None, "thanks": thanks})


# --- staff ---------------------------------------------------------------------------------


@router.get("/staff/chatbot")
def staff_entries(request: Request, session: SessionDep, q: str = "") -> Response:
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    context = {
        "entries": service.list_entries(session, q[:100]),
        "q": q[:100],
        "open_count": len(service.open_questions(session)),
        "saved": request.query_params.get("saved", "")[:64],
        "index": service.index_status(session),
    }
    return render(request, "chatbot/staff_entries.html", context, session=session)


def _entry_page(
    request: Request, session: Session, context: dict[str, Any], status: int = 200
) -> Response:
    base = {"errors": {}, "error": "", "labels": FIELD_LABELS, "existing": None, "from_log": ""}
    return render(request, "chatbot/staff_entry.html", {**base, **context}, session=session,
                  status=status)  # fmt: skip


@router.get("/staff/chatbot/new")
def staff_new(request: Request, session: SessionDep, from_log: str = "") -> Response:
    """A new entry; from the log (「回答を作成」) its question is filled in already."""
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    values: dict[str, str] = {}
    if from_log.isdigit() and len(from_log) < 10:
        values["question"] = service.asked_question(session, int(from_log)).text
    return _entry_page(request, session, {"values": values, "from_log": from_log[:10]})


@router.get("/staff/chatbot/entries/{faq_id}")
def staff_entry(request: Request, session: SessionDep, faq_id: str) -> Response:
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    row = service.get_entry(session, faq_id[:64])
    values = {name: str(getattr(row, name) or "") for name in ENTRY_FIELDS}
    return _entry_page(request, session, {"values": values, "existing": row.faq_id})


def _entry_input(form: dict[str, str]) -> service.EntryInput:
    return service.EntryInput(**{name: form.get(name, "") for name in ENTRY_FIELDS})


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:12000] for k, v in form.items() if isinstance(v, str)}


@router.post("/staff/chatbot/new")
async def staff_create(request: Request) -> Response:
    return await run_in_threadpool(_save_entry, request, await _form(request), None)


@router.post("/staff/chatbot/entries/{faq_id}")
async def staff_update(request: Request, faq_id: str) -> Response:
    return await run_in_threadpool(_save_entry, request, await _form(request), faq_id[:64])


def _save_entry(request: Request, form: dict[str, str], existing: str | None) -> Response:
    check_csrf(request, form.get("csrf_token"))
    with database_of(request).session() as session:
        user = require(session_user(request, session), "chatbot.manage")
        from_log = form.get("from_log", "")
        try:
            row = service.save_entry(session, user, _entry_input(form), existing=existing)
        except ProblemError as problem:
            if problem.status == 404:
                raise
            context = {
                "values": form, "errors": problem.errors, "error": problem.detail,
                "existing": existing, "user": user, "from_log": from_log[:10],
            }  # fmt: skip
            session.rollback()
            return _entry_page(request, session, context, status=422)
        if from_log.isdigit() and len(from_log) < 10:
            service.close_question(session, user, int(from_log), made_faq_id=row.faq_id)
        saved = row.faq_id
    return RedirectResponse("/staff/chatbot?" + urlencode({"saved": saved}), status_code=303)


@router.post("/staff/chatbot/entries/{faq_id}/delete")
def staff_delete(
    request: Request, session: SessionDep, faq_id: str, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "chatbot.manage")
    service.delete_entry(session, user, faq_id[:64])
    return RedirectResponse("/staff/chatbot", status_code=303)


@router.get("/staff/chatbot/import")
def staff_import_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    return render(request, "chatbot/staff_import.html", {"report": None, "labels": FIELD_LABELS},
                  session=session)  # fmt: skip


@router.post("/staff/chatbot/import")
async def staff_import(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    token = form.get("csrf_token")
    data = b""
    if isinstance(upload, UploadFile) or hasattr(upload, "read"):
        data = await upload.read(IMPORT_LIMIT + 1)  # type: ignore[union-attr]
    return await run_in_threadpool(_import_sync, request, token, data)


def _import_sync(request: Request, token: Any, data: bytes) -> Response:
    check_csrf(request, token)
    with database_of(request).session() as session:
        user = require(session_user(request, session), "chatbot.manage")
        context: dict[str, Any] = {"report": None, "labels": FIELD_LABELS, "user": user}
        if not data:
            context["error"] = "CSV ファイルを選んでください / choose a CSV file"
            return render(request, "chatbot/staff_import.html", context, status=422)
        if len(data) > IMPORT_LIMIT:
            context["error"] = "8 MB までです / the file is limited to 8 MB"
            return render(request, "chatbot/staff_import.html", context, status=413)
        try:
            imported = service.read_faq_csv(data)
        except ProblemError as problem:
            context["error"] = problem.detail
            return render(request, "chatbot/staff_import.html", context, status=problem.status)
        report = service.store_entries(session, imported, user)
        context["report"] = report
        return render(request, "chatbot/staff_import.html", context)


@router.get("/staff/chatbot/synonyms")
def staff_synonyms(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    context = {
        "text": service.synonyms_text(service.synonym_groups(session)),
        "saved": request.query_params.get("saved") == "1",
        "error": "",
        "index": service.index_status(session),
    }
    return render(request, "chatbot/staff_synonyms.html", context, session=session)


@router.post("/staff/chatbot/synonyms")
def staff_save_synonyms(
    request: Request,
    session: SessionDep,
    synonyms: Annotated[str, Form(max_length=200_000)] = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "chatbot.manage")
    try:
        service.save_synonyms(session, user, synonyms)
    except ProblemError as problem:
        session.rollback()
        context = {"text": synonyms, "saved": False, "error": problem.detail, "user": user}
        return render(request, "chatbot/staff_synonyms.html", context, status=422)
    return RedirectResponse("/staff/chatbot/synonyms?saved=1", status_code=303)


@router.get("/staff/chatbot/log")
def staff_log(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "chatbot.manage")
    if isinstance(user, Response):
        return user
    context = {"questions": service.open_questions(session)}
    return render(request, "chatbot/staff_log.html", context, session=session)


@router.post("/staff/chatbot/log/{log_id}/dismiss")
def staff_dismiss(
    request: Request, session: SessionDep, log_id: int, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "chatbot.manage")
    service.close_question(session, user, log_id)
    return RedirectResponse("/staff/chatbot/log", status_code=303)
