"""Pages of the reservations domain: counters and waiting times, booking, the staff queue.

Thin: the logic is in ``service``. Residents are those of the residents domain (its cookie);
staff need ``reservations.manage``. Every form carries the site's CSRF token.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError
from cityos.core.text import TOKYO
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    require,
    session_user,
    staff_or_login,
)
from cityos.procedures import service as procedures
from cityos.reservations import service
from cityos.reservations.models import STATUSES, WEEKDAYS, Booking, Counter
from cityos.residents import sessions
from cityos.residents.models import Resident
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DAYS_PER_PAGE = 7
WEEKS = service.BOOKABLE_DAYS // DAYS_PER_PAGE


def _page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    base = {"needs_csrf": True, "statuses": STATUSES, "weekdays": WEEKDAYS}
    return render(request, template, {**base, **context}, status=status)


def _release(session: Session) -> None:
    """End the request's transaction before rendering, so its connection goes back to the pool:
    the layout's banner takes a connection of its own, and a rush of refused bookings holding
    one each while asking for another would empty the pool (30 s waits on PostgreSQL)."""
    session.commit()


def _week(value: str) -> int:
    return int(value) if value.isdigit() and int(value) < WEEKS else 0


def _procedures_of(session: Session, counter: Counter) -> list[Any]:
    found = []
    for procedure_id in counter.procedure_ids:
        try:
            found.append(procedures.get(session, procedure_id))
        except ProblemError:
            continue
    return found


# --- public: counters and waiting times ------------------------------------------------------


@router.get("/reservations")
def counters_page(request: Request, session: SessionDep) -> Response:
    context = {"waiting": service.waiting_times(session)}
    return _page(request, "reservations/counters.html", context)


def _booking_context(
    session: Session, counter: Counter, week: int, resident: Resident | None
) -> dict[str, Any]:
    first = service.today() + timedelta(days=week * DAYS_PER_PAGE)
    return {
        "counter": counter,
        "days": service.calendar(session, counter, first, DAYS_PER_PAGE),
        "week": week,
        "weeks": WEEKS,
        "procedures": _procedures_of(session, counter),
        "resident": resident,
        "errors": {},
        "values": {},
    }


@router.get("/reservations/{counter_id}")
def counter_page(
    request: Request, session: SessionDep, counter_id: str, week: str = "", procedure: str = ""
) -> Response:
    counter = service.get_counter(session, counter_id[:40])
    resident = sessions.current_resident(request, session)
    context = _booking_context(session, counter, _week(week), resident)
    context["values"] = {"procedure_id": procedure[:40]}
    _release(session)
    return _page(request, "reservations/counter.html", context)


@router.post("/reservations/{counter_id}")
def book(
    request: Request,
    session: SessionDep,
    counter_id: str,
    slot: Text = "",
    procedure_id: Text = "",
    week: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    counter = service.get_counter(session, counter_id[:40])
    resident = sessions.current_resident(request, session)
    if resident is None:
        return RedirectResponse(
            "/residents/login?" + urlencode({"next": f"/reservations/{counter.id}"}),
            status_code=303,
        )
    try:
        booking = service.book(session, resident, counter.id, slot, procedure_id)
    except ProblemError as problem:
        if problem.status == 404:
            raise
        context = _booking_context(session, counter, _week(week), resident)
        context.update(
            errors=problem.errors,
            error=problem.detail,
            values={"slot": slot, "procedure_id": procedure_id},
        )
        _release(session)
        return _page(request, "reservations/counter.html", context, status=problem.status)
    return RedirectResponse(f"/my/reservations/{booking.id}?booked=1", status_code=303)


# --- a resident's own booking ---------------------------------------------------------------


def _own_context(
    session: Session, booking: Booking, week: int, resident: Resident
) -> dict[str, Any]:
    context = _booking_context(session, booking.counter, week, resident)
    procedure = None
    if booking.procedure_id:
        try:
            procedure = procedures.get(session, booking.procedure_id)
        except ProblemError:
            procedure = None
    changeable = booking.status == "booked" and booking.slot_start > service.now_utc()
    context.update(booking=booking, procedure=procedure, changeable=changeable)
    return context


@router.get("/my/reservations/{booking_id}")
def booking_page(
    request: Request, session: SessionDep, booking_id: RowId, week: str = ""
) -> Response:
    resident = sessions.signed_in_resident(request, session)
    booking = service.booking_of(session, resident, booking_id)
    context = _own_context(session, booking, _week(week), resident)
    context.update(
        booked=request.query_params.get("booked") == "1",
        changed=request.query_params.get("changed") == "1",
    )
    return _page(request, "reservations/booking.html", context)


@router.post("/my/reservations/{booking_id}/change")
def booking_change(
    request: Request,
    session: SessionDep,
    booking_id: RowId,
    slot: Text = "",
    week: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    try:
        service.change(session, resident, booking_id, slot)
    except ProblemError as problem:
        if problem.status == 404:
            raise
        booking = service.booking_of(session, resident, booking_id)
        context = _own_context(session, booking, _week(week), resident)
        context.update(errors=problem.errors, error=problem.detail, values={"slot": slot})
        _release(session)
        return _page(request, "reservations/booking.html", context, status=problem.status)
    return RedirectResponse(f"/my/reservations/{booking_id}?changed=1", status_code=303)


@router.post("/my/reservations/{booking_id}/cancel")
def booking_cancel(
    request: Request, session: SessionDep, booking_id: RowId, csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    resident = sessions.signed_in_resident(request, session)
    service.cancel(session, resident, booking_id)
    return RedirectResponse("/my#reservations", status_code=303)


# --- staff ---------------------------------------------------------------------------------------


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value) if value else service.today()
    except ValueError:
        return service.today()


@router.get("/staff/reservations")
def staff_counters(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "reservations.manage")
    if isinstance(user, Response):
        return user
    context = {"waiting": service.waiting_times(session), "today": service.today()}
    return render(request, "reservations/staff_counters.html", context, session=session)


@router.get("/staff/reservations/{counter_id}")
def staff_queue(request: Request, session: SessionDep, counter_id: str, day: str = "") -> Response:
    user = staff_or_login(request, session, "reservations.manage")
    if isinstance(user, Response):
        return user
    counter = service.get_counter(session, counter_id[:40])
    chosen = _day(day[:10])
    context = {
        "counter": counter,
        "day": chosen,
        "previous": chosen - timedelta(days=1),
        "next": chosen + timedelta(days=1),
        "queue": service.day_queue(session, user, counter.id, chosen),
        "statuses": STATUSES,
        "marks": service.MARKS,
        "user": user,
    }
    return render(request, "reservations/staff_queue.html", context, session=session)


@router.post("/staff/reservations/bookings/{booking_id}")
def staff_mark(
    request: Request,
    session: SessionDep,
    booking_id: RowId,
    action: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "reservations.manage")
    booking = service.mark(session, user, booking_id, action)
    day = booking.slot_start.astimezone(TOKYO).date().isoformat()
    return RedirectResponse(
        f"/staff/reservations/{booking.counter_id}?day={day}#booking-{booking.id}",
        status_code=303,
    )


def _counter_values(counter: Counter) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(counter, name) for name in ("name_ja", "name_en", "place_ja", "place_en")
    }
    values.update(
        slot_minutes=str(counter.slot_minutes),
        capacity=str(counter.capacity),
        closed_dates="\n".join(counter.closed_dates),
    )
    for weekday in range(7):
        opens, closes = counter.hours.get(str(weekday), ["", ""])
        values[f"open_{weekday}"] = opens
        values[f"close_{weekday}"] = closes
    return values


@router.get("/staff/reservations/{counter_id}/edit")
def staff_edit(request: Request, session: SessionDep, counter_id: str) -> Response:
    user = staff_or_login(request, session, "reservations.manage")
    if isinstance(user, Response):
        return user
    counter = service.get_counter(session, counter_id[:40])
    context = {
        "counter": counter,
        "values": _counter_values(counter),
        "errors": {},
        "saved": request.query_params.get("saved") == "1",
        "weekdays": WEEKDAYS,
    }
    return render(request, "reservations/staff_edit.html", context, session=session)


@router.post("/staff/reservations/{counter_id}/edit")
async def staff_save(request: Request, counter_id: str) -> Response:
    form = await request.form()
    fields = {k: v[:2000] for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_save_sync, request, counter_id[:40], fields)


def _save_sync(request: Request, counter_id: str, fields: dict[str, Any]) -> Response:
    check_csrf(request, fields.get("csrf_token"))
    with database_of(request).session() as session:
        user = require(session_user(request, session), "reservations.manage")
        counter = service.get_counter(session, counter_id)
        try:
            service.update_counter(session, user, counter_id, fields)
        except ProblemError as problem:
            context = {
                "counter": counter,
                "values": fields,
                "errors": problem.errors,
                "error": problem.detail,
                "saved": False,
                "user": user,
                "weekdays": WEEKDAYS,
            }
            return render(request, "reservations/staff_edit.html", context, status=422)
    return RedirectResponse(f"/staff/reservations/{counter_id}/edit?saved=1", status_code=303)
