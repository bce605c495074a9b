"""Pages of the disaster domain: residents find an open shelter; staff run the response."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    settings_of,
    staff_or_login,
)
from cityos.disaster import alerts, cap, public, service
from cityos.disaster import api as disaster_api
from cityos.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def banner_context(request: Request) -> dict[str, Any]:
    """For every page: whether the city is in disaster mode (the layout then leads with it)."""
    try:
        shared = getattr(request.state, "db_session", None)
        if shared is not None:
            return {"disaster_mode": _active_mode(shared)}
        with database_of(request).session() as session:
            return {"disaster_mode": _active_mode(session)}
    except Exception:  # the banner must never break a page
        log.exception("disaster banner could not be read")
        return {"disaster_mode": None}


def _active_mode(session: Session) -> dict[str, Any] | None:
    # Read-only: a page's own transaction must not gain a write for the banner.
    return public.mode_dict(session) if service.active_mode(session) is not None else None


def _common(session: Session, request: Request) -> dict[str, Any]:
    settings = settings_of(request)
    return {
        "mode": public.mode_dict(session),
        "hazards": service.HAZARDS,
        "towns": service.city_towns(settings.city_name_ja),
        "levels": cap.LEVELS,
        "crowding_labels": service.CROWDING,
    }


# --- residents -----------------------------------------------------------------------------


@router.get("/disaster")
def disaster_home(request: Request, session: SessionDep) -> Response:
    settings = settings_of(request)
    context = _common(session, request)
    context["alerts"] = [public.alert_dict(a, settings) for a in alerts.active(session)]
    context["open_count"] = len(service.list_shelters(session, open_only=True))
    return render(request, "disaster/home.html", context, session=session)


@router.get("/disaster/nearest", dependencies=[disaster_api.SEARCH_LIMIT])
def nearest_page(
    request: Request,
    session: SessionDep,
    lat: Annotated[str, Query(max_length=30)] = "",
    lon: Annotated[str, Query(max_length=30)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    town: Annotated[str, Query(max_length=50)] = "",
    hazard: Annotated[str, Query(max_length=20)] = "",
    step_free: bool = False,
    welfare: bool = False,
) -> Response:
    settings = settings_of(request)
    context = _common(session, request)
    context.update(
        {"q": q, "town": town, "hazard": hazard, "step_free": step_free, "welfare": welfare}
    )
    try:
        # The form always sends lat and lon; they are empty unless the phone's location is used.
        point_lat, point_lon, label = service.locate(
            session, lat=_number(lat, "lat"), lon=_number(lon, "lon"), written=q, town=town,
            city=settings.city_name_ja,
        )  # fmt: skip
        chosen_hazard = hazard or (context["mode"]["hazard"] or None)
        found, via_network = service.nearest_open_shelters(
            session, point_lat, point_lon, hazard=chosen_hazard, limit=5, step_free=step_free,
            welfare=welfare,
        )  # fmt: skip
        designated: list[service.Candidate] = []
        if not found:
            # Nothing open (calm times, or none for this hazard): show the designated places.
            designated, via_network = service.nearest_open_shelters(
                session, point_lat, point_lon, hazard=chosen_hazard, limit=5,
                step_free=step_free, open_only=False, welfare=welfare,
            )  # fmt: skip
    except ValidationProblem as exc:
        context["error"] = exc.detail
        return render(request, "disaster/nearest.html", context, session=session, status=422)
    shown = found or designated
    context.update(
        {
            "origin": {"lat": point_lat, "lon": point_lon, "label": label},
            "results": found,
            "designated": designated,
            "via_network": via_network,
            "chosen_hazard": chosen_hazard,
            "points_json": _points([(c.lat, c.lon, c.name) for c in shown], (point_lat, point_lon)),
        }
    )
    return render(request, "disaster/nearest.html", context, session=session)


def _number(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationProblem(
            f"{name} は数値です / {name} must be a number", errors={name: ["not a number"]}
        ) from None


def _points(
    places: list[tuple[float, float, str]], origin: tuple[float, float] | None = None
) -> str:
    points = [{"lat": lat, "lon": lon, "name": name} for lat, lon, name in places]
    if origin:
        points.insert(
            0, {"lat": origin[0], "lon": origin[1], "name": "現在地 / you are here", "origin": True}
        )
    return json.dumps(points, ensure_ascii=False).replace("</", "<\\/")


@router.get("/disaster/shelters")
def shelters_page(request: Request, session: SessionDep, open_only: bool = False) -> Response:
    shelters = service.list_shelters(session, open_only=open_only)
    context = _common(session, request)
    context.update(
        {
            "shelters": shelters,
            "open_only": open_only,
            "points_json": _points(
                [
                    (s.lat, s.lon, s.name)
                    for s in shelters
                    if s.lat is not None and s.lon is not None
                ]
            ),
        }
    )
    return render(request, "disaster/shelters.html", context, session=session)


@router.get("/disaster/shelters/{shelter_id}")
def shelter_page(request: Request, shelter_id: str, session: SessionDep) -> Response:
    shelter = service.get_shelter(session, shelter_id)
    context = _common(session, request)
    context.update({"shelter": shelter, "info": public.shelter_dict(shelter), "needs_csrf": True})
    return render(request, "disaster/shelter.html", context, session=session)


@router.post("/disaster/shelters/{shelter_id}/checkin", dependencies=[disaster_api.CHECKIN_LIMIT])
def checkin_submit(
    request: Request,
    shelter_id: str,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    message: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    entry = service.check_in(session, shelter_id, display_name, message)
    return RedirectResponse(f"/disaster/checkins/{entry.token}", status_code=303)


def _family_text(settings: Any, shelter_name: str, display_name: str, link: str) -> tuple[str, str]:
    who = f"{display_name}です。" if display_name else ""
    ja = f"{who}{shelter_name}（{settings.city_name_ja}の避難所）に避難しました。無事です。{link}"
    en = f"{display_name + ' here. ' if display_name else ''}I am safe at {shelter_name}, a shelter in {settings.city_name_en}. {link}"
    return ja, en


@router.get("/disaster/checkins/{token}")
def checkin_done(request: Request, token: str, session: SessionDep) -> Response:
    """Shown once to the resident who checked in: the family link and ready messages."""
    settings = settings_of(request)
    entry = service.checkin_by_token(session, token)
    shelter = service.get_shelter(session, entry.shelter_id)
    link = f"{settings.site_url.rstrip('/')}/f/{entry.token}"
    text_ja, text_en = _family_text(settings, shelter.name, entry.display_name, link)
    context = {
        "shelter": shelter,
        "link": link,
        "text_ja": text_ja,
        "text_en": text_en,
        "line_url": "https://line.me/R/share?text=" + quote(text_ja),
        "mail_url": "mailto:?subject="
        + quote("避難しました / I am safe")
        + "&body="
        + quote(f"{text_ja}\n\n{text_en}"),
    }
    return render(request, "disaster/checkin_done.html", context, session=session)


@router.get("/f/{token}")
def family_page(request: Request, token: str, session: SessionDep) -> Response:
    """What a family member sees with the link: where their relative checked in, and when."""
    entry = service.checkin_by_token(session, token)
    shelter = service.get_shelter(session, entry.shelter_id)
    response = render(
        request, "disaster/family.html", {"entry": entry, "shelter": shelter}, session=session
    )
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get("/disaster/alerts")
def alerts_page(request: Request, session: SessionDep) -> Response:
    settings = settings_of(request)
    context = _common(session, request)
    context["alerts"] = [public.alert_dict(a, settings) for a in alerts.recent(session)]
    return render(request, "disaster/alerts.html", context, session=session)


@router.get("/disaster/alerts/{alert_id}.cap.xml")
def alert_cap(request: Request, alert_id: str, session: SessionDep) -> Response:
    alert = alerts.get(session, alert_id)
    body = alerts.render_cap(session, alert, settings_of(request))
    return Response(body, media_type="application/cap+xml")


@router.get("/disaster/alerts.atom")
def alerts_atom(request: Request, session: SessionDep) -> Response:
    return Response(alerts.atom(session, settings_of(request)), media_type="application/atom+xml")


@router.get("/disaster/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str, session: SessionDep) -> Response:
    settings = settings_of(request)
    context = _common(session, request)
    context["alert"] = public.alert_dict(alerts.get(session, alert_id), settings)
    return render(request, "disaster/alert.html", context, session=session)


# --- staff console -------------------------------------------------------------------------


def _console(request: Request, session: Session, user: User, **extra: Any) -> dict[str, Any]:
    settings = settings_of(request)
    context = _common(session, request)
    counts = service.checkin_counts(session)
    context.update(
        {
            "user": user,
            "shelters": service.list_shelters(session),
            "checkins": counts,
            "checkin_total": sum(counts.values()),
            "alerts": [public.alert_dict(a, settings) for a in alerts.active(session)],
            "history": service.mode_history(session, 10),
            "blocked": service.list_blocked(session),
            **extra,
        }
    )
    return context


@router.get("/staff/disaster")
def console(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "disaster.manage")
    if isinstance(user, Response):
        return user
    return render(request, "disaster/staff.html", _console(request, session, user))


@router.post("/staff/disaster/mode")
async def mode_submit(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_mode_sync, request, form)


def _mode_sync(request: Request, form: Any) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        try:
            with session.begin_nested():
                service.set_mode(
                    session, user, active=form.get("active") == "on", hazard=str(form.get("hazard") or ""),
                    towns=form.getlist("towns"), city=settings.city_name_ja,
                    message_ja=str(form.get("message_ja") or ""), message_en=str(form.get("message_en") or ""),
                )  # fmt: skip
        except ProblemError as exc:
            context = _console(request, session, user, error=exc.detail, errors=exc.errors)
            return render(request, "disaster/staff.html", context, status=exc.status)
        return RedirectResponse("/staff/disaster", status_code=303)


@router.post("/staff/disaster/alerts")
async def alert_submit(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_alert_sync, request, form)


def _alert_sync(request: Request, form: Any) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        data = {
            key: form.get(key, "")
            for key in (
                "level",
                "hazard",
                "headline_ja",
                "headline_en",
                "text_ja",
                "text_en",
                "text_easy",
                "expires_in_hours",
            )
        }
        data["towns"] = form.getlist("towns")
        follows = str(form.get("follows") or "")
        action = str(form.get("action") or "publish")
        try:
            with session.begin_nested():
                if action == "cancel" and follows:
                    alert = alerts.cancel(session, user, follows, data, settings)
                elif follows:
                    alert = alerts.update(session, user, follows, data, settings)
                else:
                    alert = alerts.publish(session, user, data, settings)
        except ProblemError as exc:
            context = _console(
                request,
                session,
                user,
                alert_error=exc.detail,
                alert_errors=exc.errors,
                alert_values=data,
            )
            return render(request, "disaster/staff.html", context, status=exc.status)
        return RedirectResponse(f"/disaster/alerts/{alert.id}", status_code=303)


@router.get("/staff/disaster/shelters/{shelter_id}")
def shelter_form(request: Request, shelter_id: str, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "disaster.manage")
    if isinstance(user, Response):
        return user
    return render(
        request, "disaster/staff_shelter.html", _shelter_context(request, session, user, shelter_id)
    )


def _shelter_context(
    request: Request, session: Session, user: User, shelter_id: str, **extra: Any
) -> dict[str, Any]:
    """What the staff page of one shelter shows: its status form, history and check-ins."""
    shelter = service.get_shelter(session, shelter_id)
    context = _common(session, request)
    context.update(
        {
            "user": user,
            "shelter": shelter,
            "history": service.status_history(session, shelter.id),
            "checkins": service.checkin_counts(session).get(shelter.id, 0),
            **extra,
        }
    )
    return context


@router.post("/staff/disaster/shelters/{shelter_id}")
async def shelter_submit(request: Request, shelter_id: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_shelter_sync, request, shelter_id, form)


def _shelter_sync(request: Request, shelter_id: str, form: Any) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        changes: dict[str, Any] = {
            flag: form.get(flag) == "on" for flag in ("is_open", *service.STATUS_FLAGS)
        }
        for key in ("people", "capacity", "supplies_short", "notes"):
            if key in form:
                changes[key] = form.get(key)
        try:
            with session.begin_nested():
                service.update_status(session, user, shelter_id, changes)
        except ProblemError as exc:
            context = _shelter_context(
                request, session, user, shelter_id, error=exc.detail, errors=exc.errors
            )
            return render(request, "disaster/staff_shelter.html", context, status=exc.status)
        return RedirectResponse("/staff/disaster#shelters", status_code=303)


@router.post("/staff/disaster/blocked")
async def blocked_submit(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_blocked_sync, request, form)


def _blocked_sync(request: Request, form: Any) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        try:
            with session.begin_nested():
                clear = form.get("clear")
                if clear:
                    service.clear_blocked(session, user, int(str(clear)))
                else:
                    service.add_blocked(
                        session, user, float(str(form.get("lat"))), float(str(form.get("lon"))),
                        float(str(form.get("radius_m") or 50)), str(form.get("reason") or ""),
                    )  # fmt: skip
        except (ValueError, TypeError):
            context = _console(
                request,
                session,
                user,
                blocked_error="緯度・経度は数値です / latitude and longitude are numbers",
            )
            return render(request, "disaster/staff.html", context, status=422)
        except ProblemError as exc:
            context = _console(request, session, user, blocked_error=exc.detail)
            return render(request, "disaster/staff.html", context, status=exc.status)
        return RedirectResponse("/staff/disaster#blocked", status_code=303)
