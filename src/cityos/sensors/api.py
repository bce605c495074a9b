"""JSON APIs of the sensors domain. Thin: formats are in ``ngsi``, logic in ``service``.

* ``/ngsi-ld/v1/`` — an NGSI-LD (ETSI GS CIM 009) subset: entities (create, retrieve, query
  with ``q`` and geo-queries, update and append attributes, delete), the batch upsert that
  feeds readings, and the temporal retrieval of an entity. Errors are NGSI-LD
  ProblemDetails (``https://uri.etsi.org/ngsi-ld/errors/...``) as ``application/json``.
* ``/api/sensors/uploads`` — readings as a CSV file, answered with a report by line number.

Reads are public; writes need the API token of a staff member (``service.WRITE_PERMISSION``).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos.core.errors import (
    AuthenticationProblem,
    ConflictProblem,
    NotFoundProblem,
    PayloadTooLargeProblem,
    ProblemError,
    UnsupportedMediaProblem,
    ValidationProblem,
)
from cityos.core.models import User
from cityos.core.uploads import too_large_message
from cityos.core.web import (
    api_user,
    database_of,
    files_of,
    problem_responses,
    require,
    settings_of,
    token_from,
)
from cityos.db import utcnow
from cityos.sensors import kinds, ngsi, service
from cityos.sensors.ngsi import NgsiError

router = APIRouter()
NGSI = "/ngsi-ld/v1"
JSON = "application/json"
LD_JSON = "application/ld+json"
MAX_BATCH_ENTITIES = 5000
MAX_BATCH_INSTANCES = 100_000
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_CSV_BYTES = 64 * 1024 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_INSTANCES = 10_000
# The NGSI-LD subset is in /openapi.json (ETSI publishes the OpenAPI of the full API). Some of
# its rules no JSON Schema can say (georel needs geometry and coordinates, timerel needs
# timeAt, thresholds rise with their rank, a town must exist): those answer BadRequestData.
IN_SCHEMA = True


# --- request and answer helpers ------------------------------------------------------------


def _ngsi_answer(exc: NgsiError, request: Request) -> Response:
    body = orjson.dumps(exc.to_problem(request.url.path))
    return Response(body, status_code=exc.status, media_type=JSON)


def ngsi_too_large_body(path: str, message: str) -> tuple[bytes, str] | None:
    """The 413 answer for an over-limit body on an NGSI-LD route (else None)."""
    if not path.startswith(NGSI + "/"):
        return None
    return orjson.dumps(NgsiError("BadRequestData", message, status=413).to_problem(path)), JSON


def _as_ngsi(exc: ProblemError) -> NgsiError | None:
    """The NGSI-LD error of a service error; None for login and permission problems."""
    if isinstance(exc, NotFoundProblem):
        return NgsiError("ResourceNotFound", exc.detail)
    if isinstance(exc, ConflictProblem):
        return NgsiError("AlreadyExists", exc.detail)
    if isinstance(exc, PayloadTooLargeProblem):
        return NgsiError("BadRequestData", exc.detail, status=413)
    if exc.status in (401, 403):
        return None
    return NgsiError("BadRequestData", exc.detail)


def _problem_answer(exc: ProblemError, request: Request) -> Response:
    translated = _as_ngsi(exc)
    if translated is not None:
        return _ngsi_answer(translated, request)
    response = Response(
        orjson.dumps(exc.to_problem(request.url.path)), status_code=exc.status, media_type=JSON
    )
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cityos"'
    return response


async def _guarded(request: Request, work: Callable[[], Awaitable[Response]]) -> Response:
    """Run an NGSI-LD operation; every refusal is a ProblemDetails answer, never a 500."""
    try:
        return await work()
    except NgsiError as exc:
        return _ngsi_answer(exc, request)
    except ProblemError as exc:
        return _problem_answer(exc, request)
    except StarletteHTTPException as exc:  # a body that could not be read
        return _ngsi_answer(
            NgsiError("InvalidRequest", str(exc.detail), status=exc.status_code), request
        )


async def _in_thread(request: Request, sync: Callable[..., Response], *args: Any) -> Response:
    """``sync(request, *args)`` in the thread pool; every refusal a ProblemDetails answer."""

    async def work() -> Response:
        return await run_in_threadpool(sync, request, *args)

    return await _guarded(request, work)


async def _with_body(request: Request, sync: Callable[..., Response], *args: Any) -> Response:
    """Read the JSON or JSON-LD body, then ``sync(request, *args, body, ld)`` as above."""

    async def work() -> Response:
        ld = _content_is_ld(request)
        body = await _json_body(request)
        return await run_in_threadpool(sync, request, *args, body, ld)

    return await _guarded(request, work)


def _content_is_ld(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == LD_JSON:
        return True
    if media == JSON:
        return False
    raise NgsiError(
        "InvalidRequest",
        "Content-Type は application/json か application/ld+json です / the Content-Type "
        f"must be application/json or application/ld+json, not {media or 'none'!r}",
        status=415,
    )


def _accepts_ld(request: Request) -> bool:
    """Content negotiation: application/ld+json (with @context) or application/json."""
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return False
    choices = {
        "application/json": False,
        "application/ld+json": True,
        "application/*": False,
        "*/*": False,
    }
    best: tuple[float, bool] | None = None
    for part in accept.split(","):
        media, *params = part.split(";")
        choice = choices.get(media.strip().lower())
        if choice is None:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, choice)
    if best is None:
        raise NgsiError(
            "InvalidRequest",
            "application/json か application/ld+json で答えます / answers are application/json "
            "or application/ld+json",
            status=406,
        )
    return best[1]


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise NgsiError(
            "BadRequestData",
            f"本文は {MAX_BODY_BYTES // 1024 // 1024} MB までです / body too large",
            status=413,
        )
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise NgsiError("BadRequestData", "本文が大きすぎます / body too large", status=413)
    if not raw.strip():
        raise NgsiError("InvalidRequest", "本文がありません / the request has no body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NgsiError(
            "InvalidRequest", f"本文の JSON が読めません / the body is not valid JSON: {exc}"
        ) from None


def _json_answer(
    body: Any, *, ld: bool, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(
        orjson.dumps(body), status_code=status, media_type=LD_JSON if ld else JSON, headers=headers
    )
    if not ld:
        response.headers["Link"] = ngsi.LINK_HEADER
    return response


def _writer(request: Request, session: Session) -> User:
    if not token_from(request):
        raise AuthenticationProblem(
            "書き込みには職員の APIトークンが必要です（Authorization: Bearer ...） / writing needs "
            "a staff API token in the Authorization header"
        )
    return require(api_user(request, session), service.WRITE_PERMISSION)


def _params(request: Request, *names: str) -> dict[str, str | None]:
    """Query parameters by name; a repeated one is refused (NGSI-LD takes lists as a,b,c)."""
    params = request.query_params
    found: dict[str, str | None] = {}
    for name in names:
        values = params.getlist(name)
        if len(values) > 1:
            raise ngsi.bad(f"{name} が二度指定されています / {name} is given twice")
        found[name] = values[0] if values else None
    return found


def _list_param(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if len(items) > 100:
        raise ngsi.bad("一覧は100個までです / lists are limited to 100 items")
    return items


def _int_param(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ngsi.bad(f"{name} は整数です / {name} must be an integer") from None
    if not low <= number <= high:
        if name == "limit" and number > high:
            raise NgsiError(
                "TooManyResults", f"limit は {high} までです / limit must not exceed {high}"
            )
        raise ngsi.bad(f"{name} は {low}〜{high} です / {name} must be {low} to {high}")
    return number


def _options(value: str | None, allowed: set[str]) -> set[str]:
    options = set(_list_param(value) or [])
    unknown = options - allowed
    if unknown:
        raise ngsi.bad(f"options {sorted(unknown)} には対応していません / unsupported options")
    return options


def _entity_path_id(entity_id: str) -> str:
    ngsi.check_entity_id(entity_id)
    return entity_id


# --- OpenAPI description ------------------------------------------------------------------

_NGSI_ERROR = {
    "description": "NGSI-LD ProblemDetails",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["type", "title"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            }
        }
    },
}
_ENTITY = {"type": "object", "required": ["id", "type"], "additionalProperties": True}
_ENTITY_CONTENT = {JSON: {"schema": _ENTITY}, LD_JSON: {"schema": _ENTITY}}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return dict.fromkeys(codes, _NGSI_ERROR)


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {JSON: {"schema": schema}, LD_JSON: {"schema": schema}},
        },
        "security": [{"ApiToken": []}],
    }


_TAGS: list[str | Any] = ["NGSI-LD / センサー"]


# --- entities ------------------------------------------------------------------------------


@router.post(
    f"{NGSI}/entities",
    status_code=201,
    summary="Create entity / 観測所を登録",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        201: {"description": "Created; Location names the entity"},
        **_errors(400, 401, 403, 409, 415),
    },
    openapi_extra=_body(_ENTITY, "A WaterObserved or WeatherObserved entity"),
)
async def create_entity(request: Request) -> Response:
    """Register a station (WaterObserved or WeatherObserved) with its readings, if any."""

    return await _with_body(request, _create_sync)


def _create_sync(request: Request, body: Any, ld: bool) -> Response:
    received = utcnow()
    change = ngsi.parse_entity(body, received_at=received, ld_json=ld)
    with database_of(request).session() as session:
        user = _writer(request, session)
        service.create_entity(
            session,
            user,
            change,
            prefer_city=settings_of(request).city_name_ja,
            received_at=received,
        )
    return Response(status_code=201, headers={"Location": f"{NGSI}/entities/{change.entity_id}"})


@router.get(
    f"{NGSI}/entities/{{entity_id}}",
    summary="Retrieve entity / 観測所の現在の値",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        200: {"content": _ENTITY_CONTENT, "description": "The entity"},
        **_errors(400, 404, 406),
    },
    openapi_extra={
        "parameters": [
            _query("attrs", "Attributes to return, comma separated"),
            _query("options", "keyValues, sysAttrs"),
        ]
    },
)
async def retrieve_entity(request: Request, entity_id: str) -> Response:
    return await _in_thread(request, _retrieve_sync, entity_id)


def _retrieve_sync(request: Request, entity_id: str) -> Response:
    ld = _accepts_ld(request)
    params = _params(request, "attrs", "options", "format")
    options = _options(params["options"], {"keyValues", "sysAttrs", "normalized", "concise"})
    attrs = _list_param(params["attrs"])
    key_values = "keyValues" in options or params["format"] == "simplified"
    _entity_path_id(entity_id)
    with database_of(request).session() as session:
        station = service.find_station_by_entity_id(session, entity_id)
        if station is None:
            raise NgsiError("ResourceNotFound", f"{entity_id} はありません / no entity {entity_id}")
        view = service.view_of(session, station)
        body = ngsi.entity_json(
            view,
            attrs=set(attrs) if attrs is not None else None,
            key_values=key_values,
            sys_attrs="sysAttrs" in options,
            context=ld,
        )
    return _json_answer(body, ld=ld)


@router.get(
    f"{NGSI}/entities",
    summary="Query entities / 観測所を検索",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        200: {
            "description": "Entities",
            "content": {
                JSON: {"schema": {"type": "array"}},
                LD_JSON: {"schema": {"type": "array"}},
            },
        },
        **_errors(400, 403, 406),
    },
    openapi_extra={
        "parameters": [
            _query("type", "WaterObserved, WeatherObserved (comma separated)"),
            _query("id", "Entity ids, comma separated"),
            _query("attrs", "Attributes to return; entities having one of them"),
            _query("q", 'Query, e.g. height>2.5;town=="大沢四丁目"'),
            _query("georel", "near;maxDistance==2000, within, equals, disjoint, intersects"),
            _query("geometry", "Point or Polygon"),
            _query("coordinates", "GeoJSON coordinates, e.g. [139.56,35.68]"),
            _query("geoproperty", "location"),
            _query("limit", f"1–{MAX_LIMIT} (default {DEFAULT_LIMIT})", {"type": "integer"}),
            _query("offset", "Entities skipped", {"type": "integer"}),
            _query("count", "true: the total in the NGSILD-Results-Count header"),
            _query("options", "keyValues, sysAttrs"),
        ]
    },
)
async def query_entities(request: Request) -> Response:
    return await _in_thread(request, _query_sync)


def _query_sync(request: Request) -> Response:
    ld = _accepts_ld(request)
    p = _params(
        request, "type", "id", "attrs", "q", "georel", "geometry", "coordinates", "geoproperty",
        "limit", "offset", "count", "options", "format", "idPattern",
    )  # fmt: skip
    if p["idPattern"] is not None:
        raise NgsiError(
            "OperationNotSupported",
            "idPattern には対応していません（id を使ってください） / idPattern is not supported",
        )
    options = _options(p["options"], {"keyValues", "sysAttrs", "normalized", "concise", "count"})
    limit = _int_param(p["limit"], "limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
    offset = _int_param(p["offset"], "offset", 0, 0, 1_000_000)
    types = {ngsi.TYPE_IRIS.get(t, t) for t in _list_param(p["type"]) or []} or None
    ids = set(_list_param(p["id"]) or []) or None
    attrs = _list_param(p["attrs"])
    query = ngsi.parse_q(p["q"]) if p["q"] is not None else None
    geo = ngsi.parse_geo_query(p["georel"], p["geometry"], p["coordinates"], p["geoproperty"])
    count = p["count"] == "true" or "count" in options
    key_values = "keyValues" in options or p["format"] == "simplified"
    with database_of(request).session() as session:
        found = []
        for view in service.all_stations(session):
            station = view.station
            if types is not None and station.entity_type not in types:
                continue
            if ids is not None and station.entity_id not in ids:
                continue
            if geo is not None and not geo.matches(station.lat, station.lon):
                continue
            if query is not None or attrs is not None:
                simple = ngsi.entity_json(view, key_values=True)
                if attrs is not None and not any(a in simple for a in attrs):
                    continue
                if query is not None and not ngsi.matches(query, simple):
                    continue
            found.append(view)
        found.sort(key=lambda v: v.station.entity_id)
        page = found[offset : offset + limit]
        body = [
            ngsi.entity_json(
                view,
                attrs=set(attrs) if attrs is not None else None,
                key_values=key_values,
                sys_attrs="sysAttrs" in options,
                context=ld,
            )
            for view in page
        ]
    headers = {"NGSILD-Results-Count": str(len(found))} if count else None
    return _json_answer(body, ld=ld, headers=headers)


@router.delete(
    f"{NGSI}/entities/{{entity_id}}",
    status_code=204,
    summary="Delete entity / 観測所を削除",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={204: {"description": "Deleted"}, **_errors(400, 401, 403, 404)},
    openapi_extra={"security": [{"ApiToken": []}]},
)
async def delete_entity(request: Request, entity_id: str) -> Response:
    return await _in_thread(request, _delete_sync, entity_id)


def _delete_sync(request: Request, entity_id: str) -> Response:
    _entity_path_id(entity_id)
    with database_of(request).session() as session:
        user = _writer(request, session)
        station = service.find_station_by_entity_id(session, entity_id)
        if station is None:
            raise NgsiError("ResourceNotFound", f"{entity_id} はありません / no entity {entity_id}")
        service.delete_station(session, user, station)
    return Response(status_code=204)


_UPDATE_RESULT = {
    "description": "Some attributes were not updated",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "properties": {"updated": {"type": "array"}, "notUpdated": {"type": "array"}},
            }
        }
    },
}


@router.patch(
    f"{NGSI}/entities/{{entity_id}}/attrs",
    status_code=204,
    summary="Update attributes / 属性を更新",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        204: {"description": "Updated"},
        207: _UPDATE_RESULT,
        **_errors(400, 401, 403, 404, 415),
    },
    openapi_extra=_body({"type": "object"}, "An entity fragment: the attributes to change"),
)
async def update_attributes(request: Request, entity_id: str) -> Response:
    """Change existing attributes; a new value of height or precipitation is a reading."""

    return await _with_body(request, _attrs_sync, entity_id, False)


@router.post(
    f"{NGSI}/entities/{{entity_id}}/attrs",
    status_code=204,
    summary="Append attributes / 属性を追加",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        204: {"description": "Appended"},
        207: _UPDATE_RESULT,
        **_errors(400, 401, 403, 404, 415),
    },
    openapi_extra=_body({"type": "object"}, "An entity fragment: attributes to add or replace"),
)
async def append_attributes(request: Request, entity_id: str) -> Response:
    return await _with_body(request, _attrs_sync, entity_id, True)


def _attrs_sync(request: Request, entity_id: str, append: bool, body: Any, ld: bool) -> Response:
    received = utcnow()
    options = _options(_params(request, "options")["options"], {"noOverwrite"})
    change = ngsi.parse_entity(
        body, received_at=received, entity_id=entity_id, ld_json=ld, need_type=False
    )
    with database_of(request).session() as session:
        user = _writer(request, session)
        updated, not_updated = service.change_attributes(
            session,
            user,
            change,
            append=append,
            overwrite="noOverwrite" not in options,
            prefer_city=settings_of(request).city_name_ja,
            received_at=received,
        )
    if not not_updated:
        return Response(status_code=204)
    body_out = {
        "updated": updated,
        "notUpdated": [{"attributeName": name, "reason": reason} for name, reason in not_updated],
    }
    return Response(orjson.dumps(body_out), status_code=207, media_type=JSON)


# --- batch upsert: the fast path for readings ----------------------------------------------


@router.post(
    f"{NGSI}/entityOperations/upsert",
    summary="Batch upsert / 一括登録（観測値）",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        201: {
            "description": "Ids of the entities created",
            "content": {JSON: {"schema": {"type": "array", "items": {"type": "string"}}}},
        },
        204: {"description": "All entities existed and were updated"},
        207: {
            "description": "BatchOperationResult",
            "content": {
                JSON: {
                    "schema": {
                        "type": "object",
                        "properties": {"success": {"type": "array"}, "errors": {"type": "array"}},
                    }
                }
            },
        },
        **_errors(400, 401, 403, 413, 415),
    },
    openapi_extra=_body(
        # As the standard says: an entity that is not valid fails on its own, in the 207.
        {
            "type": "array",
            "items": {"type": "object"},
            "minItems": 1,
        },
        f"Entities (each with id and type; at most {MAX_BATCH_ENTITIES}, and at most "
        f"{MAX_BATCH_INSTANCES} instances in all); an attribute may be an array of instances. "
        "An entity that is not valid is listed in the 207 answer's errors.",
    ),
)
async def batch_upsert(request: Request) -> Response:
    """Create missing stations and record readings of many stations at once.

    Each entity succeeds or fails on its own (207 lists the failures); a failed entity
    leaves nothing written. An attribute may carry many instances, each with observedAt.
    """

    return await _with_body(request, _upsert_sync)


def _upsert_sync(request: Request, body: Any, ld: bool) -> Response:
    _options(_params(request, "options")["options"], {"update", "replace"})
    if not isinstance(body, list) or not body:
        raise ngsi.bad(
            "本文はエンティティの配列です / the body must be a non-empty array of entities"
        )
    if len(body) > MAX_BATCH_ENTITIES:
        raise ngsi.bad(
            f"一度に送れるのは {MAX_BATCH_ENTITIES} 件までです / at most {MAX_BATCH_ENTITIES} entities"
        )
    if not all(isinstance(item, dict) for item in body):
        # Not an array of entities at all (an entity that is wrong fails on its own, below).
        raise ngsi.bad(
            "配列の要素はエンティティ（JSONオブジェクト）です / each item must be an entity"
        )
    received = utcnow()
    changes: list[service.EntityChange] = []
    failed: list[tuple[str, NgsiError]] = []
    instances = 0
    for item in body:
        try:
            change = ngsi.parse_entity(item, received_at=received, ld_json=ld)
        except NgsiError as exc:
            entity_id = item.get("id") if isinstance(item, dict) else None
            failed.append((entity_id if isinstance(entity_id, str) else "", exc))
            continue
        instances += len(change.readings)
        changes.append(change)
    if instances > MAX_BATCH_INSTANCES:
        raise ngsi.bad(
            f"一度に送れる観測値は {MAX_BATCH_INSTANCES} 件までです / at most {MAX_BATCH_INSTANCES} instances"
        )
    with database_of(request).session() as session:
        user = _writer(request, session)
        result = service.apply_changes(
            session,
            user,
            changes,
            prefer_city=settings_of(request).city_name_ja,
            received_at=received,
        )
    for entity_id, problem in result.errors:
        translated = _as_ngsi(problem) if isinstance(problem, ProblemError) else None
        failed.append((entity_id, translated or NgsiError("BadRequestData", str(problem))))
    if failed:
        succeeded = list(dict.fromkeys(result.created + result.updated))
        errors = [{"entityId": entity_id, "error": exc.to_problem()} for entity_id, exc in failed]
        return Response(
            orjson.dumps({"success": succeeded, "errors": errors}), status_code=207, media_type=JSON
        )
    if result.created:
        return Response(
            orjson.dumps(list(dict.fromkeys(result.created))), status_code=201, media_type=JSON
        )
    return Response(status_code=204)


# --- temporal ------------------------------------------------------------------------------


@router.get(
    f"{NGSI}/temporal/entities/{{entity_id}}",
    summary="Temporal evolution of an entity / 観測値の履歴",
    tags=_TAGS,
    include_in_schema=IN_SCHEMA,
    response_class=Response,
    responses={
        200: {"content": _ENTITY_CONTENT, "description": "Temporal representation"},
        206: {
            "content": _ENTITY_CONTENT,
            "description": "The first instances; Content-Range says which",
        },
        **_errors(400, 404, 406),
    },
    openapi_extra={
        "parameters": [
            _query("attrs", "Attributes, e.g. height"),
            _query("timerel", "before, after or between"),
            _query("timeAt", "ISO 8601 date-time"),
            _query("endTimeAt", "ISO 8601 date-time (between)"),
            _query("lastN", "Only the newest N instances", {"type": "integer"}),
            _query("options", "temporalValues: [value, observedAt] pairs"),
            _query(
                "includeFlagged",
                "true: also readings set apart (duplicate, out of order, impossible) with their flag",
            ),
        ]
    },
)
async def temporal_entity(request: Request, entity_id: str) -> Response:
    return await _in_thread(request, _temporal_sync, entity_id)


def _temporal_sync(request: Request, entity_id: str) -> Response:
    ld = _accepts_ld(request)
    p = _params(
        request, "attrs", "timerel", "timeAt", "endTimeAt", "lastN", "options", "format",
        "timeproperty", "includeFlagged",
    )  # fmt: skip
    options = _options(p["options"], {"temporalValues", "sysAttrs"})
    temporal_values = "temporalValues" in options or p["format"] == "temporalValues"
    if p["timeproperty"] not in (None, "observedAt"):
        raise ngsi.bad("timeproperty は observedAt だけです / timeproperty must be observedAt")
    start, end = _time_range(p["timerel"], p["timeAt"], p["endTimeAt"])
    last_n = (
        _int_param(p["lastN"], "lastN", 0, 1, MAX_INSTANCES) if p["lastN"] is not None else None
    )
    _entity_path_id(entity_id)
    with database_of(request).session() as session:
        station = service.find_station_by_entity_id(session, entity_id)
        if station is None:
            raise NgsiError("ResourceNotFound", f"{entity_id} はありません / no entity {entity_id}")
        view = service.view_of(session, station)
        known = kinds.timeseries_units(station.entity_type)
        wanted = _list_param(p["attrs"]) or list(known)
        partial: tuple[datetime, datetime] | None = None
        series = {}
        for attribute in wanted:
            if attribute not in known:
                continue
            rows = service.series(
                session, station, attribute, start, end,
                include_flagged=p["includeFlagged"] == "true", last_n=last_n, limit=MAX_INSTANCES + 1,
            )  # fmt: skip
            if len(rows) > MAX_INSTANCES:
                rows = rows[:MAX_INSTANCES]
                partial = (rows[0][2], rows[-1][2])
            if rows or p["attrs"] is not None:
                series[attribute] = rows
        body = ngsi.temporal_json(view, series, temporal_values=temporal_values, context=ld)
    if partial is not None:
        headers = {
            "Content-Range": f"date-time {ngsi.format_datetime(partial[0])}-{ngsi.format_datetime(partial[1])}/*"
        }
        return _json_answer(body, ld=ld, status=206, headers=headers)
    return _json_answer(body, ld=ld)


def _time_range(
    timerel: str | None, time_at: str | None, end_time_at: str | None
) -> tuple[datetime | None, datetime | None]:
    """[start, end) of a temporal query; None on a side means open."""
    if timerel is None:
        if time_at is not None or end_time_at is not None:
            raise ngsi.bad("timeAt には timerel が必要です / timeAt needs timerel")
        return None, None
    if timerel not in ("before", "after", "between"):
        raise ngsi.bad(
            "timerel は before, after, between です / timerel must be before, after or between"
        )
    if time_at is None:
        raise ngsi.bad("timerel には timeAt が必要です / timerel needs timeAt")
    at = ngsi.parse_datetime(time_at, "timeAt")
    if timerel == "before":
        return None, at
    if timerel == "after":
        return at + _TICK, None
    if end_time_at is None:
        raise ngsi.bad("between には endTimeAt が必要です / between needs endTimeAt")
    end = ngsi.parse_datetime(end_time_at, "endTimeAt")
    if end <= at:
        raise ngsi.bad("endTimeAt は timeAt より後です / endTimeAt must be after timeAt")
    return at, end


_TICK = timedelta(microseconds=1)  # "after" excludes timeAt itself


# --- CSV upload ----------------------------------------------------------------------------


class UploadProblemOut(BaseModel):
    line: int
    column: str
    message: str


class FlaggedLineOut(BaseModel):
    line: int
    station: str
    attribute: str
    flag: str
    message: str


class UploadReportOut(BaseModel):
    """What became of an uploaded CSV file of readings."""

    id: int
    filename: str
    encoding: str
    lines_read: int
    readings_stored: int
    readings_ok: int
    readings_flagged: int
    lines_rejected: int
    flagged_by_kind: dict[str, int]
    problems: list[UploadProblemOut]
    flagged: list[FlaggedLineOut]
    created_at: datetime
    created_by: str


@router.post(
    "/api/sensors/uploads",
    status_code=201,
    summary="Upload readings as CSV / 観測値のCSVを取り込む",
    tags=["Sensors / センサー"],
    response_model=UploadReportOut,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The CSV file as the body (UTF-8 or Shift_JIS); a multipart form with "
            "a `file` field works too. Columns: station, observedAt, attribute, value, unit.",
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        },
        "parameters": [
            {
                "name": "filename",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "maxLength": 300},
                "description": "The file's name, kept with the report",
            }
        ],
        "security": [{"ApiToken": []}],
    },
)
async def upload_csv(request: Request) -> UploadReportOut:
    """Readings from a CSV file; every line that could not be used is reported by number,
    and every reading set apart (duplicate, out of order, impossible) is listed. A file that
    cannot be read at all is recorded with that one problem."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    filename = request.query_params.get("filename", "")
    if len(filename) > 300:
        raise ValidationProblem(
            "filename は300文字までです / filename is limited to 300 characters",
            errors={"filename": ["too long"]},
        )
    filename = filename or "readings.csv"
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, StarletteUploadFile):
            raise ValidationProblem(
                "file 欄にCSVファイルを付けてください / attach the CSV file as the form field file",
                errors={"file": ["missing"]},
            )
        data = await upload.read(MAX_CSV_BYTES + 1)
        filename = upload.filename or filename
    elif media in ("text/csv", "text/plain", "application/octet-stream"):
        data = await request.body()
    else:
        raise UnsupportedMediaProblem(
            f"CSV（text/csv）を送ってください / send the CSV as text/csv, not {media or 'nothing'}"
        )
    limit = min(MAX_CSV_BYTES, settings_of(request).max_upload_bytes)
    if len(data) > limit:
        raise PayloadTooLargeProblem(too_large_message(limit))
    digest, size, _path = await run_in_threadpool(files_of(request).put, io.BytesIO(data))
    return await run_in_threadpool(_upload_sync, request, data, filename, digest, size)


def _upload_sync(
    request: Request, data: bytes, filename: str, digest: str, size: int
) -> UploadReportOut:
    with database_of(request).session() as session:
        user = _writer(request, session)
        upload = service.upload_readings(session, user, data, filename, digest, size, via="api")
        return UploadReportOut(**service.upload_summary(upload))


@router.get(
    "/api/sensors/uploads/{upload_id}",
    summary="Report of a CSV upload / 取り込み結果",
    tags=["Sensors / センサー"],
    response_model=UploadReportOut,
    responses=problem_responses(401, 403, 404, 422),
    openapi_extra={"security": [{"ApiToken": []}]},
)
def upload_report(
    request: Request, upload_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> UploadReportOut:
    with database_of(request).session() as session:
        _writer(request, session)
        upload = service.get_upload(session, upload_id)
        return UploadReportOut(**service.upload_summary(upload))
