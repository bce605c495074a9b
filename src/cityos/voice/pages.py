"""Pages of the citizens' voice. Residents: the consultations (意見募集), their documents, the
opinion form, supports (賛同) and the results after the period. Staff: the moderation queue,
consultations, imports and the analysis of every text. Thin: the logic is in ``service``."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cityos.core import text as jtext
from cityos.core.errors import NotFoundProblem, ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.ratelimit import rate_limited
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    files_of,
    require,
    session_user,
    settings_of,
    staff_or_login,
)
from cityos.voice import moderation, service
from cityos.voice.models import Consultation
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
OPINION_LIMIT = Depends(rate_limited("voice", lambda r: settings_of(r).opinions_per_minute))
# Reading a consultation, a resident may support many opinions in a minute; a script may not.
SUPPORT_LIMIT = Depends(
    rate_limited("voice_support", lambda r: 6 * settings_of(r).opinions_per_minute)
)
BROWSER_COOKIE = "cityos_voice"


def _labels(**extra: Any) -> dict[str, Any]:
    return {
        "sources": service.SOURCE_LABELS,
        "sentiments": service.SENTIMENT_LABELS,
        "states": service.STATE_LABELS,
        "phases": service.PHASE_LABELS,
        "kinds": moderation.KINDS,
        "phase": service.phase,
        "nickname_of": service.published_nickname,
        "percent": service.percent,
        "trend_points": service.trend_points,
        **extra,
    }


def _browser(request: Request) -> tuple[str, str | None]:
    """This browser's key for supports (a random cookie), and a new one to set if it had none."""
    key = request.cookies.get(BROWSER_COOKIE, "")
    fresh = None
    if len(key) < 20 or len(key) > 64:
        key = fresh = secrets.token_urlsafe(24)
    return service.browser_hash(settings_of(request).resolved_secret_key, key), fresh


def _with_browser(response: Response, request: Request, fresh: str | None) -> Response:
    if fresh is not None:
        response.set_cookie(
            BROWSER_COOKIE, fresh, max_age=2 * 365 * 24 * 3600, httponly=True, samesite="lax",
            secure=settings_of(request).secure_cookies,
        )  # fmt: skip
    return response


# --- residents -----------------------------------------------------------------------------


@router.get("/voice")
def consultations_page(request: Request, session: SessionDep) -> Response:
    found = service.consultations(session)
    order = {"open": 0, "upcoming": 1, "closed": 2}
    found.sort(key=lambda c: order[service.phase(c)])
    return render(request, "voice/index.html", _labels(consultations=found), session=session)


def _consultation_context(
    request: Request, session: Session, consultation: Consultation, **extra: Any
) -> dict[str, Any]:
    browser, _fresh = _browser(request)
    return _labels(
        consultation=consultation,
        opinions=service.published_opinions(session, consultation),
        supported=service.supported_by(session, consultation, browser),
        towns=service.city_towns(settings_of(request).city_name_ja),
        max_chars=service.MAX_OPINION_CHARS,
        needs_csrf=True,
        **{"values": {}, **extra},
    )


@router.get("/voice/{consultation_id}")
def consultation_page(request: Request, consultation_id: int, session: SessionDep) -> Response:
    consultation = service.get_consultation(session, consultation_id)
    context = _consultation_context(request, session, consultation)
    return render(request, "voice/consultation.html", context, session=session)


@router.post("/voice/{consultation_id}/opinions", dependencies=[OPINION_LIMIT])
def opinion_submit(
    request: Request,
    consultation_id: int,
    session: SessionDep,
    text: Annotated[str, Form(max_length=service.MAX_OPINION_CHARS * 2)] = "",
    nickname: Annotated[str, Form(max_length=200)] = "",
    town: Annotated[str, Form(max_length=60)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    consultation = service.get_consultation(session, consultation_id)
    towns = service.city_towns(settings_of(request).city_name_ja)
    try:
        opinion = service.post_opinion(
            session, consultation, text=text, nickname=nickname, town=town, towns=towns
        )
    except ProblemError as exc:
        session.rollback()
        values = {"text": text, "nickname": nickname, "town": town}
        context = _consultation_context(
            request, session, consultation, error=exc.detail, errors=exc.errors, values=values
        )
        return render(request, "voice/consultation.html", context, status=exc.status)
    context = _labels(consultation=consultation, opinion=opinion)
    return render(request, "voice/thanks.html", context, session=session, status=201)


@router.post("/voice/{consultation_id}/opinions/{opinion_id}/support", dependencies=[SUPPORT_LIMIT])
def support_submit(
    request: Request,
    consultation_id: int,
    opinion_id: int,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    opinion = service.get_opinion(session, opinion_id)
    if opinion.consultation_id != consultation_id:
        raise NotFoundProblem(f"意見 {opinion_id} はありません / no opinion {opinion_id}")
    browser, fresh = _browser(request)
    counted = service.support(session, opinion, browser)
    target = f"/voice/{consultation_id}?supported={opinion_id}&counted={int(counted)}"
    response = RedirectResponse(f"{target}#opinion-{opinion_id}", status_code=303)
    return _with_browser(response, request, fresh)


@router.get("/voice/{consultation_id}/documents/{document_id}")
def document_download(
    request: Request, consultation_id: int, document_id: int, session: SessionDep
) -> Response:
    document = service.get_document(session, consultation_id, document_id)
    path = files_of(request).path_for(document.sha256)
    if not path.exists():
        raise NotFoundProblem("ファイルが見つかりません / the stored file is missing")

    def chunks() -> Any:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    name = quote(document.filename or f"document-{document.id}", safe="")
    return StreamingResponse(
        chunks(),
        media_type=document.media_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "Content-Length": str(document.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/voice/{consultation_id}/results")
def results_page(request: Request, consultation_id: int, session: SessionDep) -> Response:
    consultation = service.get_consultation(session, consultation_id)
    user = session_user(request, session)
    staff_preview = user is not None and _can(user)
    if service.phase(consultation) != "closed" and not staff_preview:
        context = _labels(consultation=consultation, not_yet=True)
        return render(request, "voice/results.html", context, session=session, status=409)
    context = _labels(consultation=consultation, **service.results(session, consultation))
    return render(request, "voice/results.html", context, session=session)


def _can(user: User) -> bool:
    from cityos.core import auth

    return auth.can(user, service.MANAGE_PERMISSION)


# --- staff: analysis -----------------------------------------------------------------------


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationProblem(
            f"日付は YYYY-MM-DD で指定してください / {name} must be a date YYYY-MM-DD",
            errors={name: ["YYYY-MM-DD"]},
        ) from None


def _filter_of(request: Request) -> tuple[service.VoiceFilter, dict[str, str]]:
    keys = ("source", "town", "since", "until", "topic")
    params = {k: request.query_params.get(k, "").strip()[:200] for k in keys}
    where = service.VoiceFilter(
        source=params["source"], town=params["town"], topic=params["topic"],
        since=_day(params["since"], "since"), until=_day(params["until"], "until"),
    ).check()  # fmt: skip
    return where, params


@router.get("/staff/voice")
def analysis_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.READ_PERMISSION)
    if isinstance(user, Response):
        return user
    error = None
    status = 200
    try:
        where, params = _filter_of(request)
    except ProblemError as exc:
        where, params, error, status = service.VoiceFilter(), {}, exc.detail, exc.status
    rows = service.texts(session, where)
    query = urlencode({k: v for k, v in params.items() if v})
    context = _labels(
        user=user,
        summary=service.summarize(rows),
        params=params,
        query=query,
        towns=service.city_towns(settings_of(request).city_name_ja),
        pending=len(service.moderation_queue(session)),
        error=error,
    )
    return render(request, "voice/analysis.html", context, status=status)


# --- staff: moderation ---------------------------------------------------------------------


@router.get("/staff/voice/moderation")
def moderation_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    status = request.query_params.get("status", "pending")
    status = status if status in service.STATE_LABELS else "pending"
    rows = service.moderation_queue(session, status=status)
    context = _labels(user=user, rows=rows, status=status,
                      done=request.query_params.get("done", ""))  # fmt: skip
    return render(request, "voice/moderation.html", context)


@router.post("/staff/voice/opinions/{opinion_id}/moderate")
def moderate_submit(
    request: Request,
    opinion_id: int,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    require(user, service.MANAGE_PERMISSION)
    opinion = service.get_opinion(session, opinion_id)
    try:
        service.moderate(session, user, opinion, action, reason)
    except ValidationProblem as exc:
        session.rollback()
        rows = service.moderation_queue(session)
        context = _labels(user=user, rows=rows, status="pending", error=exc.detail,
                          error_for=opinion_id)  # fmt: skip
        return render(request, "voice/moderation.html", context, status=exc.status)
    return RedirectResponse(f"/staff/voice/moderation?done={opinion_id}", status_code=303)


# --- staff: consultations ------------------------------------------------------------------


def _moment(day: str, clock: str, name: str) -> datetime:
    parsed = _day(day, name)
    if parsed is None:
        raise ValidationProblem(
            "期間を入力してください / the period is required",
            errors={name: ["必須です / required"]},
        )
    try:
        at = time.fromisoformat(clock.strip()) if clock.strip() else time(0, 0)
    except ValueError:
        raise ValidationProblem(
            "時刻は HH:MM で指定してください / times are HH:MM", errors={name: ["HH:MM"]}
        ) from None
    return datetime.combine(parsed, at, jtext.TOKYO)


@router.get("/staff/voice/consultations")
def staff_consultations(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    found = service.consultations(session)
    counts = {c.id: service.opinion_counts(session, c) for c in found}
    context = _labels(user=user, consultations=found, counts=counts, values={})
    return render(request, "voice/staff_consultations.html", context)


async def _stored_upload(request: Request, form: Any) -> tuple[str, int, str, str] | None:
    """The form's file (sha256, size, name, media type) once checked and stored, or None."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    head = await upload.read(8)
    await upload.seek(0)
    media = service.document_type(upload.filename, head)
    settings = settings_of(request)
    digest, size, _path = await run_in_threadpool(
        files_of(request).put, upload.file, max_bytes=settings.max_upload_bytes
    )
    return digest, size, upload.filename, media


@router.post("/staff/voice/consultations")
async def consultation_create(request: Request) -> Response:
    form = await request.form(max_files=1, max_fields=20)
    try:
        stored = await _stored_upload(request, form)
    except ProblemError as exc:
        return await run_in_threadpool(_consultations_error, request, form, exc)
    return await run_in_threadpool(_create_sync, request, form, stored)


def _consultations_error(request: Request, form: Any, exc: ProblemError) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session, service.MANAGE_PERMISSION)
        if isinstance(user, Response):
            return user
        found = service.consultations(session)
        counts = {c.id: service.opinion_counts(session, c) for c in found}
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        context = _labels(user=user, consultations=found, counts=counts, values=values,
                          error=exc.detail, errors=exc.errors)  # fmt: skip
        return render(request, "voice/staff_consultations.html", context, status=exc.status)


def _create_sync(request: Request, form: Any, stored: tuple[str, int, str, str] | None) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, service.MANAGE_PERMISSION)
        try:
            with session.begin_nested():
                consultation = service.create_consultation(
                    session, user,
                    title=str(form.get("title") or ""),
                    description=str(form.get("description") or ""),
                    opens_at=_moment(str(form.get("opens_on") or ""), str(form.get("opens_at") or ""), "opens_on"),
                    closes_at=_moment(str(form.get("closes_on") or ""), str(form.get("closes_at") or ""), "closes_on"),
                )  # fmt: skip
                _add_documents(session, user, consultation, form, stored)
        except ProblemError as exc:
            return _consultations_error(request, form, exc)
        return RedirectResponse(f"/staff/voice/consultations/{consultation.id}", status_code=303)


def _add_documents(
    session: Session, user: User, consultation: Consultation, form: Any,
    stored: tuple[str, int, str, str] | None,
) -> None:  # fmt: skip
    if stored is not None:
        digest, size, filename, media = stored
        service.add_document(session, user, consultation, title=str(form.get("file_title") or ""),
                             sha256=digest, size=size, filename=filename, media_type=media)  # fmt: skip
    for line in str(form.get("links") or "").splitlines():
        if line.strip():
            title, _sep, url = line.rpartition(" ")
            service.add_document(session, user, consultation, title=title.strip() or url,
                                 url=url)  # fmt: skip


@router.get("/staff/voice/consultations/{consultation_id}")
def staff_consultation(request: Request, consultation_id: int, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    consultation = service.get_consultation(session, consultation_id)
    context = _labels(user=user, consultation=consultation,
                      counts=service.opinion_counts(session, consultation),
                      saved=request.query_params.get("saved", ""))  # fmt: skip
    return render(request, "voice/staff_consultation.html", context)


@router.post("/staff/voice/consultations/{consultation_id}/documents")
async def document_add(request: Request, consultation_id: int) -> Response:
    form = await request.form(max_files=1, max_fields=20)
    try:
        stored = await _stored_upload(request, form)
    except ProblemError as exc:
        return await run_in_threadpool(_consultation_error, request, consultation_id, exc)
    return await run_in_threadpool(_document_sync, request, consultation_id, form, stored)


def _consultation_error(request: Request, consultation_id: int, exc: ProblemError) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session, service.MANAGE_PERMISSION)
        if isinstance(user, Response):
            return user
        consultation = service.get_consultation(session, consultation_id)
        context = _labels(user=user, consultation=consultation, error=exc.detail,
                          counts=service.opinion_counts(session, consultation))  # fmt: skip
        return render(request, "voice/staff_consultation.html", context, status=exc.status)


def _document_sync(
    request: Request, consultation_id: int, form: Any, stored: tuple[str, int, str, str] | None
) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, service.MANAGE_PERMISSION)
        consultation = service.get_consultation(session, consultation_id)
        try:
            with session.begin_nested():
                if stored is None and not str(form.get("links") or "").strip():
                    raise ValidationProblem(
                        "ファイルかリンクを指定してください / give a file or a link",
                        errors={"file": ["required"]},
                    )
                _add_documents(session, user, consultation, form, stored)
        except ProblemError as exc:
            return _consultation_error(request, consultation_id, exc)
        return RedirectResponse(
            f"/staff/voice/consultations/{consultation_id}?saved=documents", status_code=303
        )


@router.post("/staff/voice/consultations/{consultation_id}/response")
def response_submit(
    request: Request,
    consultation_id: int,
    session: SessionDep,
    response: Annotated[str, Form(max_length=40_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    require(user, service.MANAGE_PERMISSION)
    consultation = service.get_consultation(session, consultation_id)
    service.set_response(session, user, consultation, response)
    return RedirectResponse(
        f"/staff/voice/consultations/{consultation_id}?saved=response", status_code=303
    )


# --- staff: imports ------------------------------------------------------------------------


@router.get("/staff/voice/import")
def import_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    return render(request, "voice/import.html", _labels(user=user))


@router.post("/staff/voice/import")
async def import_submit(request: Request) -> Response:
    import tempfile
    from pathlib import Path

    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    data = b""
    if isinstance(upload, UploadFile) and upload.filename:
        limit = settings_of(request).max_upload_bytes
        data = await upload.read(limit + 1)
        if len(data) > limit:
            from cityos.core.uploads import too_large_message

            return await run_in_threadpool(
                _import_result, request, form, None, ValidationProblem(too_large_message(limit))
            )
    suffix = Path(upload.filename or "").suffix.lower() if isinstance(upload, UploadFile) else ""

    def work() -> Response:
        if form.get("pull") == "sns":
            return _import_result(request, form, None, None)
        if not data:
            problem = ValidationProblem("ファイルを選んでください / choose a file",
                                        errors={"file": ["required"]})  # fmt: skip
            return _import_result(request, form, None, problem)
        with tempfile.TemporaryDirectory() as folder:
            path = (
                Path(folder)
                / f"upload{suffix if suffix in ('.csv', '.jsonl', '.ndjson', '.txt') else ''}"
            )
            path.write_bytes(data)
            return _import_result(request, form, path, None)

    return await run_in_threadpool(work)


def _import_result(
    request: Request, form: Any, path: Any, problem: ProblemError | None
) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, service.MANAGE_PERMISSION)
        source = str(form.get("source") or "")
        try:
            if problem is not None:
                raise problem
            if form.get("pull") == "sns":
                report = service.pull_sns(session, user)
            else:
                towns = service.city_towns(settings_of(request).city_name_ja)
                report = service.import_file(session, user, source, path, towns,
                                             encoding=str(form.get("encoding") or ""))  # fmt: skip
        except ProblemError as exc:
            session.rollback()
            context = _labels(user=user, error=exc.detail, errors=exc.errors, source=source)
            return render(request, "voice/import.html", context, status=exc.status)
        status = 200 if report.stored + report.updated else 422
        return render(request, "voice/import.html",
                      _labels(user=user, report=report, source=source), status=status)  # fmt: skip
