"""JSON API of the disaster domain: status, shelters, nearest open shelter, alerts, mode.

``/api/disaster/status`` and the shelter lists are answered from the static snapshot by
``fastpath.SnapshotFastPath`` (the same bytes nginx would serve); the routes below describe
them for OpenAPI and answer when the snapshot is not there yet.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, Field

from cityos.core.ratelimit import rate_limited
from cityos.core.web import (
    JSON_INT,
    JSON_NUMBER,
    JsonBool,
    SessionDep,
    XmlNonBlank,
    XmlText,
    api_user,
    problem_responses,
    settings_of,
)
from cityos.disaster import alerts, public, service

# Public endpoints a crowd may hammer: each client address gets its share (then 429).
SEARCH_LIMIT = Depends(rate_limited("search", lambda r: settings_of(r).searches_per_minute))
CHECKIN_LIMIT = Depends(rate_limited("checkin", lambda r: settings_of(r).checkins_per_minute))

# Enumerations for the schema: what a client may send is what the service accepts.
Hazard = StrEnum("Hazard", {key: key for key in service.HAZARDS})  # type: ignore[misc]


def _exact(kind: type) -> BeforeValidator:
    """Python's literals let 0 stand for False and False for 0; JSON clients may not."""

    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"must be a JSON {'boolean' if kind is bool else 'integer'}")
        return value

    return BeforeValidator(check)


Level = Annotated[Literal[0, 3, 4, 5], _exact(int)]

(LAT_MIN, LAT_MAX), (LON_MIN, LON_MAX) = service.JAPAN_LAT, service.JAPAN_LON
TOWN_SCHEMAS = ("AlertIn", "AlertChange", "ModeIn")

router = APIRouter(
    prefix="/api/disaster",
    tags=["Disaster / 防災"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.get("/status", summary="Disaster mode, alerts in force, open shelters / 現在の状況")
def status(request: Request, session: SessionDep) -> Response:
    return _json(public.status_document(session, settings_of(request)))


@router.get("/shelters", summary="All shelters with their live status / 避難所一覧")
def shelters(session: SessionDep) -> Response:
    return _json(public.shelters_document(session))


@router.get(
    "/shelters.geojson",
    summary="Shelters as GeoJSON / 避難所（GeoJSON）",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
def shelters_geojson(session: SessionDep) -> Response:
    body = orjson.dumps(public.shelters_geojson(session))
    return Response(body, media_type="application/geo+json")


class NearestShelter(BaseModel):
    id: str
    name: str
    address: str
    lat: float
    lon: float
    distance_m: int
    walking_minutes: int
    via_network: bool
    open: bool
    crowding: str
    crowding_label: dict[str, str]


class NearestAnswer(BaseModel):
    hazard: str | None
    distances: str = Field(description="network (along streets) or straight-line")
    note: dict[str, str]
    shelters: list[NearestShelter]


@router.get(
    "/shelters/nearest",
    response_model=NearestAnswer,
    summary="Nearest open shelters / 近くの避難所",
    dependencies=[SEARCH_LIMIT],
)
def nearest(
    request: Request,
    session: SessionDep,
    lat: Annotated[float, Query(ge=LAT_MIN, le=LAT_MAX, description="latitude in Japan")],
    lon: Annotated[float, Query(ge=LON_MIN, le=LON_MAX, description="longitude in Japan")],
    hazard: Hazard | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    step_free: bool = False,
    open_only: Annotated[
        bool, Query(description="false: every designated place, open or not (calm times)")
    ] = True,
    welfare: Annotated[
        bool, Query(description="include 福祉避難所 (for people who need care and their helpers)")
    ] = False,
) -> NearestAnswer:
    mode = service.mode_row(session)
    chosen_hazard = (hazard.value if hazard else None) or (mode.hazard if mode.active else None)
    found, via_network = service.nearest_open_shelters(
        session, lat, lon, hazard=chosen_hazard, limit=limit, step_free=step_free,
        open_only=open_only, welfare=welfare,
    )  # fmt: skip
    return NearestAnswer(
        hazard=chosen_hazard,
        distances="network" if via_network else "straight-line",
        note=_distance_note(via_network),
        shelters=[
            NearestShelter(
                id=c.id,
                name=c.name,
                address=c.address,
                lat=c.lat,
                lon=c.lon,
                distance_m=int(c.distance_m),
                walking_minutes=c.walking_minutes,
                via_network=c.via_network,
                crowding=c.crowding,
                open=c.is_open,
                crowding_label={
                    "ja": service.CROWDING[c.crowding][0],
                    "en": service.CROWDING[c.crowding][1],
                },
            )
            for c in found
        ],
    )


def _distance_note(via_network: bool) -> dict[str, str]:
    if via_network:
        return {"ja": "道のりの距離です。", "en": "Distances follow the streets."}
    return {
        "ja": "直線距離です。実際の道のりはこれより長くなります。",
        "en": "Straight-line distances; the walk is longer.",
    }


@router.get("/shelters/{shelter_id}", summary="One shelter / 避難所")
def shelter(shelter_id: str, session: SessionDep) -> Response:
    return _json(public.shelter_dict(service.get_shelter(session, shelter_id)))


class StatusIn(BaseModel):
    is_open: JsonBool | None = None
    people: Annotated[int, Field(ge=0, le=100_000), JSON_INT] | None = None
    capacity: Annotated[int, Field(ge=0, le=100_000), JSON_INT] | None = None
    wifi: JsonBool | None = None
    charging: JsonBool | None = None
    pets: JsonBool | None = None
    accessible_toilet: JsonBool | None = None
    nursing_room: JsonBool | None = None
    supplies_short: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=2000)


@router.patch(
    "/shelters/{shelter_id}/status", summary="Set a shelter's live status (staff) / 状況の更新"
)
def set_status(request: Request, shelter_id: str, body: StatusIn, session: SessionDep) -> Response:
    user = api_user(request, session)
    changes = body.model_dump(exclude_none=True)
    updated = service.update_status(session, user, shelter_id, changes, via="api")
    return _json(public.shelter_dict(updated))


class CheckInIn(BaseModel):
    shelter_id: str = Field(max_length=36)
    display_name: str = Field(default="", max_length=100)
    message: str = Field(default="", max_length=500)


@router.post(
    "/checkins",
    status_code=201,
    summary="Check in at a shelter / 避難所に到着",
    dependencies=[CHECKIN_LIMIT],
)
def check_in(request: Request, body: CheckInIn, session: SessionDep) -> Response:
    entry = service.check_in(session, body.shelter_id, body.display_name, body.message)
    site = settings_of(request).site_url.rstrip("/")
    return _json({"token": entry.token, "family_url": f"{site}/f/{entry.token}"}, status=201)


class AlertIn(BaseModel):
    level: Level = Field(description="警戒レベル 3, 4, 5, or 0 for a plain notice")
    hazard: Hazard
    towns: list[str] = Field(min_length=1, max_length=100, description="the city's 町名")
    headline_ja: XmlNonBlank = Field(max_length=200)
    headline_en: XmlText = Field(default="", max_length=200)
    text_ja: XmlNonBlank = Field(max_length=4000)
    text_en: XmlText = Field(default="", max_length=4000)
    text_easy: XmlText = Field(default="", max_length=4000)
    expires_in_hours: Annotated[float, Field(ge=0.5, le=336), JSON_NUMBER] | None = None


@router.get("/alerts", summary="Recent alerts / 避難情報の一覧")
def list_alerts(request: Request, session: SessionDep) -> Response:
    settings = settings_of(request)
    return _json({"alerts": [public.alert_dict(a, settings) for a in alerts.recent(session)]})


@router.post("/alerts", status_code=201, summary="Publish an alert (staff) / 発表")
def publish_alert(request: Request, body: AlertIn, session: SessionDep) -> Response:
    settings = settings_of(request)
    alert = alerts.publish(
        session, api_user(request, session), body.model_dump(mode="json"), settings, via="api"
    )
    return _json(public.alert_dict(alert, settings), status=201)


@router.get("/alerts/{alert_id}", summary="One alert / 避難情報")
def get_alert(request: Request, alert_id: str, session: SessionDep) -> Response:
    return _json(public.alert_dict(alerts.get(session, alert_id), settings_of(request)))


class AlertChange(BaseModel):
    level: Level | None = None
    towns: list[str] | None = Field(default=None, min_length=1, max_length=100)
    headline_ja: XmlNonBlank | None = Field(default=None, max_length=200)
    headline_en: XmlText | None = Field(default=None, max_length=200)
    text_ja: XmlNonBlank | None = Field(default=None, max_length=4000)
    text_en: XmlText | None = Field(default=None, max_length=4000)
    text_easy: XmlText | None = Field(default=None, max_length=4000)


@router.post("/alerts/{alert_id}/update", status_code=201, summary="Update an alert (staff) / 更新")
def update_alert(
    request: Request, alert_id: str, body: AlertChange, session: SessionDep
) -> Response:
    settings = settings_of(request)
    data = body.model_dump(exclude_none=True)
    alert = alerts.update(session, api_user(request, session), alert_id, data, settings)
    return _json(public.alert_dict(alert, settings), status=201)


@router.post("/alerts/{alert_id}/cancel", status_code=201, summary="Cancel an alert (staff) / 解除")
def cancel_alert(
    request: Request,
    alert_id: str,
    session: SessionDep,
    body: Annotated[AlertChange | None, Body()] = None,
) -> Response:
    settings = settings_of(request)
    data = body.model_dump(exclude_none=True) if body else {}
    alert = alerts.cancel(session, api_user(request, session), alert_id, data, settings)
    return _json(public.alert_dict(alert, settings), status=201)


@router.get("/mode", summary="Disaster mode / 災害モード")
def get_mode(session: SessionDep) -> Response:
    return _json(public.mode_dict(session))


class ModeIn(BaseModel):
    """Disaster mode on: for a hazard, in some towns (none = the whole city)."""

    active: Annotated[Literal[True], _exact(bool)]
    hazard: Hazard
    towns: list[str] = Field(default_factory=list, max_length=100)
    message_ja: str = Field(default="", max_length=2000)
    message_en: str = Field(default="", max_length=2000)


class ModeOff(BaseModel):
    """Back to normal operation."""

    active: Annotated[Literal[False], _exact(bool)]


@router.put("/mode", summary="Switch disaster mode (staff) / 災害モードの切替")
def set_mode(request: Request, body: ModeIn | ModeOff, session: SessionDep) -> Response:
    settings = settings_of(request)
    user = api_user(request, session)
    if isinstance(body, ModeOff):
        service.set_mode(
            session,
            user,
            active=False,
            hazard=None,
            towns=[],
            city=settings.city_name_ja,
            via="api",
        )
    else:
        service.set_mode(
            session, user, active=True, hazard=body.hazard.value, towns=body.towns,
            city=settings.city_name_ja, message_ja=body.message_ja, message_en=body.message_en,
            via="api",
        )  # fmt: skip
    return _json(public.mode_dict(session))


class BlockedIn(BaseModel):
    lat: Annotated[float, Field(ge=LAT_MIN, le=LAT_MAX), JSON_NUMBER]
    lon: Annotated[float, Field(ge=LON_MIN, le=LON_MAX), JSON_NUMBER]
    radius_m: Annotated[float, Field(ge=5, le=2000), JSON_NUMBER] = 50
    reason: str = Field(default="", max_length=200)


@router.post(
    "/blocked", status_code=201, summary="Report a flooded or blocked place (staff) / 通行止め"
)
def add_blocked(request: Request, body: BlockedIn, session: SessionDep) -> Response:
    place = service.add_blocked(
        session, api_user(request, session), body.lat, body.lon, body.radius_m, body.reason
    )
    return _json(
        {"id": place.id, "lat": place.lat, "lon": place.lon, "radius_m": place.radius_m}, status=201
    )


def document_towns(schema: dict[str, Any], towns: list[str]) -> dict[str, Any]:
    """Name the city's towns in the published schema: the only values ``towns`` accepts."""
    components = schema.get("components", {}).get("schemas", {})
    for name in TOWN_SCHEMAS:
        prop = components.get(name, {}).get("properties", {}).get("towns")
        if prop is None:
            continue
        for variant in prop.get("anyOf", [prop]):
            if variant.get("type") == "array":
                variant["items"] = {"type": "string", "enum": towns}
    return schema
