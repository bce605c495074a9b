"""Pages of citizen reports. Thin: the logic is in ``service``.

Residents (no login): the public map and list, the report form (photo, place by GPS, by a
tap on the map or by address), one report's page with its history and photos, and "my
reports" — the reports this browser sent, kept as their tokens in a cookie.

Staff (login, ``reports.manage``): the inbox with map and filters, a report's page with the
reporter's contact (audited), status changes with a public note and a before/after photo,
department assignment, likely duplicates and merging; the numbers with a chart and a CSV.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import NotFoundProblem, ProblemError
from cityos.core.models import User
from cityos.core.ratelimit import client_address, rate_limited
from cityos.core.web import (
    Pager,
    SessionDep,
    check_csrf,
    database_of,
    files_of,
    language_of,
    require,
    settings_of,
    staff_or_login,
)
from cityos.db import utcnow
from cityos.reports import catalog, photos, service
from cityos.reports.models import PHOTO_KINDS, STATES, ReportPhoto, ServiceRequest
from cityos.reports.web import ReportForm, new_request, read_report_form
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

MINE_COOKIE = "my_reports"
MINE_KEEP = 50  # tokens a browser keeps (a cookie holds about 4 KB)
PUBLIC_PAGE = 30  # reports per page of the public list
STATE_COLOURS = {
    "received": "#b3261e",
    "in_progress": "#b35c00",
    "done": "#1b6e20",
    "declined": "#5f6368",
    "merged": "#5f6368",
}
PAGE_POST_LIMIT = rate_limited(
    "reports_page_post", lambda request: settings_of(request).reports_per_minute
)
PERIODS = (7, 30, 90, 365)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _labels() -> dict[str, Any]:
    return {
        "states": STATES,
        "staff_states": service.STAFF_STATES,
        "state_colours": STATE_COLOURS,
        "photo_kinds": PHOTO_KINDS,
        "departments": service.DEPARTMENTS,
    }


def _points(rows: list[ServiceRequest], lang: str, link: str) -> str:
    points = []
    for row in rows:
        state = STATES[row.state][1 if lang == "en" else 0]
        name = row.service.name_en if lang == "en" else row.service.name_ja
        points.append(
            {
                "lat": row.lat,
                "lon": row.lon,
                "name": f"{row.id}: {name}（{state}）",
                "url": f"{link}/{row.id}",
            }
        )
    return _json(points)


def _thumbs(session: Session, rows: list[ServiceRequest]) -> dict[int, ReportPhoto]:
    """The first photo of each request, for thumbnails in lists."""
    return service.first_photos(session, [row.id for row in rows])


def _mine(request: Request) -> list[str]:
    raw = request.cookies.get(MINE_COOKIE, "")
    return [t for t in raw.split(".") if t and len(t) <= 40][:MINE_KEEP]


# --- photos --------------------------------------------------------------------------------


@router.get("/reports/photos/{name}")
def photo_file(request: Request, session: SessionDep, name: str) -> Response:
    """A published photo or thumbnail (only files that are report photos)."""
    digest = name.removesuffix(".jpg")
    if not name.endswith(".jpg") or len(digest) != 64:
        raise NotFoundProblem("写真が見つかりません / photo not found")
    known = session.scalar(
        select(ReportPhoto.id)
        .where((ReportPhoto.digest == digest) | (ReportPhoto.thumb_digest == digest))
        .limit(1)
    )
    if known is None:
        raise NotFoundProblem("写真が見つかりません / photo not found")
    path = files_of(request).path_for(digest)
    if not path.exists():
        raise NotFoundProblem("写真が見つかりません / photo not found")
    return FileResponse(
        path,
        media_type=photos.MEDIA_TYPE,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- residents -----------------------------------------------------------------------------


@router.get("/reports")
def public_list(request: Request, session: SessionDep) -> Response:
    lang = language_of(request)
    services = service.list_services(session)
    status, kind, page, error = _public_filter(request, {s.code for s in services})
    query = service.RequestQuery(
        statuses=[status] if status else None,
        service_codes=[kind] if kind else None,
        limit=PUBLIC_PAGE,
        offset=(page - 1) * PUBLIC_PAGE,
    )
    counts = service.count_by_status(session, replace(query, statuses=None))
    found = counts[status] if status else sum(counts.values())
    rows = service.find_requests(session, query)
    kept = tuple((k, v) for k, v in (("status", status), ("service", kind)) if v)
    pager = Pager(page, PUBLIC_PAGE, found, "/reports", kept)
    context = {
        "rows": rows,
        "thumbs": _thumbs(session, rows),
        "points_json": _points(rows, lang, "/reports"),
        "counts": counts,
        "found": found,
        "first": pager.first,
        "last": pager.last(len(rows)),
        "pager": pager,
        "status": status,
        "kind": kind,
        "services": services,
        "error": error,
        **_labels(),
    }
    return render(request, "reports/list.html", context, session=session,
                  status=400 if error else 200)  # fmt: skip


def _public_filter(request: Request, codes: set[str]) -> tuple[str, str, int, str]:
    """status, kind and page of the public list; a bad value is named and the list shown whole."""
    params = request.query_params
    status, kind, page = (
        params.get("status", ""),
        params.get("service", ""),
        params.get("page", "1"),
    )
    if status not in ("", "open", "closed"):
        return "", "", 1, "状態は「対応中・受付」か「完了など」です / The status is open or closed."
    if kind and kind not in codes:
        return "", "", 1, "その種類の報告はありません / There is no such kind of report."
    if not (page.isascii() and page.isdigit() and 1 <= len(page) <= 6 and int(page) >= 1):
        return "", "", 1, "ページ番号は1以上の数字です / The page is a number from 1."
    return status, kind, int(page), ""


def _form_context(session: Session, **extra: Any) -> dict[str, Any]:
    services = service.list_services(session)
    return {
        "services": services,
        "attributes": {s.code: service.sorted_attributes(s) for s in services},
        "bounds": service.CITY_BOUNDS,
        "values": {},
        "errors": {},
        "needs_csrf": True,
        "max_photo_mb": 0,
        **_labels(),
        **extra,
    }


@router.get("/reports/new")
def new_form(request: Request, session: SessionDep) -> Response:
    settings = settings_of(request)
    code = request.query_params.get("service_code", "")
    context = _form_context(
        session,
        values={"service_code": code if code in catalog.SERVICE_CODES else ""},
        max_photo_mb=settings.reports_photo_max_bytes // (1024 * 1024),
    )
    return render(request, "reports/new.html", context, session=session)


@router.post("/reports/new")
async def new_submit(request: Request) -> Response:
    settings = settings_of(request)
    try:
        form = await read_report_form(request, settings.reports_photo_max_bytes)
    except ProblemError as exc:
        return await run_in_threadpool(_form_error, request, ReportForm(), exc)
    return await run_in_threadpool(_submit_sync, request, form)


def _first(form: ReportForm, name: str) -> str:
    values = form.fields.get(name) or [""]
    return values[0]


def _form_error(request: Request, form: ReportForm, exc: ProblemError) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        values = {name: _first(form, name) for name in form.fields}
        context = _form_context(
            session,
            values=values,
            chosen_attributes={
                name: vals for name, vals in form.fields.items() if name.startswith("attribute[")
            },
            errors=exc.errors or {"form": [exc.detail]},
            error=exc.detail,
            max_photo_mb=settings.reports_photo_max_bytes // (1024 * 1024),
        )
        status = {422: 400}.get(exc.status, exc.status)
        return render(request, "reports/new.html", context, status=status, headers=exc.headers)


def _submit_sync(request: Request, form: ReportForm) -> Response:
    settings = settings_of(request)
    try:
        check_csrf(request, _first(form, "csrf_token"))
        PAGE_POST_LIMIT(request)
        fields = {
            name: values
            for name, values in form.fields.items()
            if name in ("service_code", "lat", "long", "address_string", "description", "email")
            or name.startswith("attribute[")
        }
        # The map or GPS fills lat/long; a typed address is used when they are empty.
        if not _first(form, "lat") or not _first(form, "long"):
            fields.pop("lat", None)
            fields.pop("long", None)
        if not _first(form, "address_string").strip():
            fields.pop("address_string", None)
        new = new_request(fields)
        new.photo, new.photo_error = form.photo, form.photo_error
        with database_of(request).session() as session:
            created = service.submit_request(
                session,
                new,
                city=settings.city_name_ja,
                submitted_via="web",
                client=service.client_digest("web", client_address(request), ""),
                files=files_of(request),
                site_url=settings.site_url,
            )
            number, token = created.id, created.token
    except ProblemError as exc:
        return _form_error(request, form, exc)
    response = RedirectResponse(f"/reports/{number}?sent=1", status_code=303)
    kept = [token, *[t for t in _mine(request) if t != token]][:MINE_KEEP]
    response.set_cookie(
        MINE_COOKIE,
        ".".join(kept),
        max_age=2 * 365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@router.get("/reports/mine")
def mine_page(request: Request, session: SessionDep) -> Response:
    rows = service.requests_by_tokens(session, _mine(request))
    return render(
        request,
        "reports/mine.html",
        {"rows": rows, "thumbs": _thumbs(session, rows), **_labels()},
        session=session,
    )


@router.get("/reports/{request_id}")
def public_detail(request: Request, session: SessionDep, request_id: str) -> Response:
    found = service.get_request(session, request_id)
    lang = language_of(request)
    context = {
        "row": found,
        "changes": service.history(session, found.id),
        "sent": request.query_params.get("sent") == "1" and found.token in _mine(request),
        "points_json": _points([found], lang, "/reports"),
        **_labels(),
    }
    return render(request, "reports/detail.html", context, session=session)


# --- staff ---------------------------------------------------------------------------------


def _inbox_filter(request: Request) -> service.InboxFilter:
    params = request.query_params
    days = params.get("days", "")
    return service.InboxFilter(
        state=params.get("state", "open"),
        service_code=params.get("service_code", ""),
        town=params.get("town", ""),
        department=params.get("department", ""),
        days=int(days) if days.isdigit() and len(days) < 6 else 0,
    )


@router.get("/staff/reports")
def inbox_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    status = 200
    error = ""
    try:
        where = _inbox_filter(request).check()
    except ProblemError as exc:
        where, error, status = service.InboxFilter(state="open"), exc.detail, 400
    rows = service.inbox(session, where)
    lang = language_of(request)
    query = urlencode({k: v for k, v in vars(where).items() if v not in ("", 0)})
    context = {
        "user": user,
        "rows": rows,
        "where": where,
        "error": error,
        "query": query,
        "services": service.list_services(session),
        "towns": service.towns_with_reports(session),
        "periods": PERIODS,
        "points_json": _points(rows, lang, "/staff/reports"),
        "thumbs": _thumbs(session, rows),
        **_labels(),
    }
    return render(request, "reports/staff_inbox.html", context, status=status)


def _staff_detail(
    request: Request, session: Session, user: User, request_id: str, **extra: Any
) -> dict[str, Any]:
    found = service.get_request(session, request_id)
    lang = language_of(request)
    return {
        "user": user,
        "row": found,
        "changes": service.history(session, found.id),
        "contact": service.reporter_contact(session, found.id, actor=user),
        "duplicates": service.likely_duplicates(session, found.id),
        "merged": session.scalars(
            select(ServiceRequest).where(ServiceRequest.merged_into_id == found.id)
        ).all(),
        "next_states": sorted(
            service.NEXT_STATES[found.state] | {found.state}, key=list(STATES).index
        ),
        "points_json": _points([found], lang, "/staff/reports"),
        "needs_csrf": True,
        **_labels(),
        **extra,
    }


def _period(request: Request) -> tuple[int, datetime | None]:
    """The numbers' period (?days=7|30|90|365; anything else: all) and its start."""
    days = request.query_params.get("days", "")
    period = int(days) if days.isdigit() and len(days) < 4 and int(days) in PERIODS else 0
    return period, (utcnow() - timedelta(days=period) if period else None)


@router.get("/staff/reports/numbers")
def numbers_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    period, start = _period(request)
    numbers = service.numbers(session, start=start)
    names = {s.code: s for s in service.list_services(session)}
    most = max([t.open + t.closed for t in numbers.by_service.values()] + [1])
    context = {
        "user": user,
        "numbers": numbers,
        "names": names,
        "most": most,
        "period": period,
        "periods": PERIODS,
    }
    return render(request, "reports/staff_numbers.html", context)


@router.get("/staff/reports/numbers.csv")
def numbers_csv(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    _period_days, start = _period(request)
    return Response(
        service.numbers_csv(session, start=start),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="reports-numbers.csv"'},
    )


@router.get("/staff/reports/{request_id}")
def staff_detail(request: Request, session: SessionDep, request_id: str) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    return render(
        request, "reports/staff_detail.html", _staff_detail(request, session, user, request_id)
    )


@router.post("/staff/reports/{request_id}/status")
async def status_submit(request: Request, request_id: str) -> Response:
    settings = settings_of(request)
    try:
        form = await read_report_form(request, settings.reports_photo_max_bytes)
    except ProblemError as exc:
        # The body was not read (too large, not a form): nothing changes, the page says why.
        return await run_in_threadpool(_status_unread, request, request_id, exc)
    return await run_in_threadpool(_status_sync, request, request_id, form)


def _status_unread(request: Request, request_id: str, exc: ProblemError) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session, service.MANAGE_PERMISSION)
        if isinstance(user, Response):
            return user
        context = _staff_detail(request, session, user, request_id, error=exc.detail)
        return render(request, "reports/staff_detail.html", context, status=exc.status)


def _status_sync(request: Request, request_id: str, form: ReportForm) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, _first(form, "csrf_token"))
        require(user, service.MANAGE_PERMISSION)
        department = _first(form, "department") or None
        try:
            if form.photo_error:
                raise ProblemError(form.photo_error, status=400)
            with session.begin_nested():
                service.change_status(
                    session,
                    request_id,
                    _first(form, "status"),
                    actor=user,
                    note=_first(form, "note"),
                    department=department,
                    photo=form.photo,
                    photo_kind=_first(form, "photo_kind") or "after",
                    files=files_of(request),
                    site_url=settings.site_url,
                )
        except ProblemError as exc:
            context = _staff_detail(request, session, user, request_id, error=exc.detail)
            status = {422: 400}.get(exc.status, exc.status)
            return render(request, "reports/staff_detail.html", context, status=status)
        return RedirectResponse(f"/staff/reports/{request_id}?done=status", status_code=303)


@router.post("/staff/reports/{request_id}/merge")
async def merge_submit(request: Request, request_id: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_merge_sync, request, request_id, form)


def _merge_sync(request: Request, request_id: str, form: Any) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, service.MANAGE_PERMISSION)
        into = str(form.get("into") or "")
        try:
            with session.begin_nested():
                service.merge_into(
                    session, request_id, into, actor=user, site_url=settings.site_url
                )
        except ProblemError as exc:
            context = _staff_detail(request, session, user, request_id, error=exc.detail)
            status = {422: 400}.get(exc.status, exc.status)
            return render(request, "reports/staff_detail.html", context, status=status)
        return RedirectResponse(f"/staff/reports/{into}?done=merged", status_code=303)
