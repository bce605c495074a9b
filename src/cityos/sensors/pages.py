"""Pages of the sensors domain: the map and list of stations, a station's chart, and the
staff upload of readings. Thin: the logic is in ``service``, the chart geometry in ``chart``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cityos.core.errors import NotFoundProblem, ProblemError
from cityos.core.web import (
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
from cityos.sensors import chart, service
from cityos.sensors.kinds import (
    ATTRIBUTE_LABELS,
    KIND_LABELS,
    OFFLINE,
    RAIN_THRESHOLDS,
    RIVER_STATES,
    WATER,
    unit_symbol,
)
from cityos.sensors.service import StationView
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
RANGES = {
    "24h": (timedelta(hours=24), timedelta(minutes=10)),
    "7d": (timedelta(days=7), timedelta(hours=1)),
}
MAX_UPLOAD = 64 * 1024 * 1024

# Map and legend colours of each state; the state is always written out in words too.
STATE_COLOURS = {
    "level0": "#3b7dd8",
    "level1": "#2e8b57",
    "level2": "#f2c200",
    "level3": "#e53935",
    "level4": "#7b1fa2",
    "offline": "#9e9e9e",
}


def _legend() -> dict[str, tuple[str, str, str]]:
    """(colour, Japanese, English) of each state: the river's name, then the rain's."""
    legend = {}
    for rank in range(5):
        ja, en = RIVER_STATES[rank]
        if rank:
            ja, en = (
                f"{ja}（雨: {RAIN_THRESHOLDS[rank][0]}）",
                f"{en} (rain: {RAIN_THRESHOLDS[rank][1].lower()})",
            )
        legend[f"level{rank}"] = (STATE_COLOURS[f"level{rank}"], ja, en)
    legend["offline"] = (STATE_COLOURS["offline"], *OFFLINE)
    return legend


STATE_STYLES = _legend()


def _value_text(view: StationView) -> str:
    reading = view.primary_reading
    if reading is None:
        return ""
    return f"{reading.value:g} {unit_symbol(reading.unit_code)}"


def _state_label(view: StationView, lang: str) -> str:
    name = view.level_name_en if lang == "en" else view.level_name
    if view.offline:
        offline = OFFLINE[1] if lang == "en" else OFFLINE[0]
        last = "last: " if lang == "en" else "最後: "
        return f"{offline}（{last}{name}）" if lang != "en" else f"{offline} ({last}{name})"
    return name


def _row(view: StationView, lang: str) -> dict[str, Any]:
    station = view.station
    kind = KIND_LABELS[station.entity_type]
    reading = view.primary_reading
    return {
        "code": station.code,
        "name": station.name_en if lang == "en" and station.name_en else station.name,
        "kind": kind[1] if lang == "en" else kind[0],
        "town": station.town,
        "value": _value_text(view),
        "observed_at": reading.observed_at if reading else None,
        "state": view.state_key,
        "state_label": _state_label(view, lang),
        "colour": STATE_STYLES[view.state_key][0],
        "lat": station.lat,
        "lon": station.lon,
    }


@router.get("/sensors")
def stations_page(request: Request, session: SessionDep) -> Response:
    lang = language_of(request)
    views = service.all_stations(session)
    rows = [_row(view, lang) for view in views]
    points = [
        {
            "lat": row["lat"],
            "lon": row["lon"],
            "name": row["name"],
            "state": row["state_label"],
            "value": row["value"],
            "colour": row["colour"],
            "offline": row["state"] == "offline",
            "url": f"/sensors/{row['code']}",
        }
        for row in rows
        if row["lat"] is not None and row["lon"] is not None
    ]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return render(
        request,
        "sensors/index.html",
        {
            "rows": rows,
            "points_json": json.dumps(points, ensure_ascii=False).replace("</", "<\\/"),
            "point_count": len(points),
            "styles": STATE_STYLES,
            "counts": counts,
        },
        session=session,
    )


@router.get("/sensors/{code}")
def station_page(
    request: Request,
    code: str,
    session: SessionDep,
    range: Annotated[str, Query(pattern="^(24h|7d)$")] = "24h",
) -> Response:
    station = service.find_station(session, code)
    if station is None:
        raise NotFoundProblem(f"観測所 {code[:100]} はありません / no station {code[:100]}")
    lang = language_of(request)
    now = utcnow()
    view = service.view_of(session, station, now)
    span, table_step = RANGES[range]
    start = now - span
    attribute = view.primary
    unit = unit_symbol(view.unit_of(attribute))
    rows = service.series(session, station, attribute, start, now)
    points = [(at, value) for _id, value, at, _flag, _note in rows]
    levels = [
        chart.ChartLevel(t.rank, t.name_en if lang == "en" and t.name_en else t.name, t.value)
        for t in view.thresholds
        if t.attribute == attribute
    ]
    gap = max(timedelta(seconds=station.expected_interval_s * 3), timedelta(minutes=30))
    drawn = chart.build(points, levels, start, now, unit=unit, gap=gap, lang=lang)
    table = chart.downsample(points, start, now, int(span / table_step))
    peak = max(points, key=lambda p: p[1]) if points else None
    label = ATTRIBUTE_LABELS.get(attribute, (attribute, attribute))
    return render(
        request,
        "sensors/station.html",
        {
            "view": view,
            "station": station,
            "row": _row(view, lang),
            "range": range,
            "ranges": {"24h": ("24時間", "24 hours"), "7d": ("7日間", "7 days")},
            "range_href": lambda key: "?" + urlencode({"range": key}),
            "chart": drawn,
            "table": list(reversed(table)),
            "table_every": ("10分ごとの最高値", "highest every 10 minutes")
            if range == "24h"
            else ("1時間ごとの最高値", "highest every hour"),
            "reading_count": len(points),
            "peak": peak,
            "unit": unit,
            "attribute_label": label,
            "kind": KIND_LABELS[station.entity_type],
            "is_river": station.entity_type == WATER,
            "crossings": service.crossings(session, station),
            "english_names": {(t.attribute, t.rank): t.name_en for t in view.thresholds},
            "flagged": service.flagged_readings(session, station, now - timedelta(days=7), 20),
            "styles": STATE_STYLES,
            "site": settings_of(request).site_url.rstrip("/"),
        },
        session=session,
    )


# --- staff: readings from a CSV file -------------------------------------------------------


@router.get("/staff/sensors")
def staff_sensors(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.WRITE_PERMISSION)
    if isinstance(user, Response):
        return user
    return render(request, "sensors/staff_upload.html", _staff_context(session, user))


def _staff_context(session: Session, user: Any, **extra: Any) -> dict[str, Any]:
    return {
        "user": user,
        "uploads": service.recent_uploads(session),
        "stations": service.all_stations(session),
        **extra,
    }


@router.post("/staff/sensors/upload")
async def upload_submit(request: Request) -> Response:
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await run_in_threadpool(
            _upload_error, request, "ファイルを選んでください / choose a file", 422
        )
    limit = min(MAX_UPLOAD, settings_of(request).max_upload_bytes)
    try:
        digest, size, path = await run_in_threadpool(
            files_of(request).put, upload.file, max_bytes=limit
        )
    except ProblemError as exc:
        return await run_in_threadpool(_upload_error, request, exc.detail, exc.status)
    data = await run_in_threadpool(path.read_bytes)
    return await run_in_threadpool(
        _upload_sync, request, form.get("csrf_token"), data, upload.filename, digest, size
    )


def _upload_sync(
    request: Request, csrf: Any, data: bytes, filename: str, digest: str, size: int
) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, csrf)
        require(user, service.WRITE_PERMISSION)
        upload = service.upload_readings(session, user, data, filename, digest, size)
        return RedirectResponse(f"/staff/sensors/uploads/{upload.id}", status_code=303)


def _upload_error(request: Request, message: str, status: int) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        context = _staff_context(session, user, error=message)
        return render(request, "sensors/staff_upload.html", context, status=status)


@router.get("/staff/sensors/uploads/{upload_id}")
def upload_report_page(request: Request, upload_id: int, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.WRITE_PERMISSION)
    if isinstance(user, Response):
        return user
    upload = service.get_upload(session, upload_id)
    return render(
        request,
        "sensors/staff_report.html",
        {"user": user, "upload": upload, "summary": service.upload_summary(upload)},
    )
