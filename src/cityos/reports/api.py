"""Open311 GeoReport v2 at ``/open311/v2/`` (thin: documents in ``open311``, logic in ``service``).

* ``discovery.{json,xml}`` — where the API is and what it speaks.
* ``services.{json,xml}``, ``services/{service_code}.{json,xml}`` — the catalog and each
  service's definition (attributes).
* ``requests.{json,xml}`` — GET: reports with filters (ids, service codes, dates, status; the
  last 90 days and at most 1000 by default); POST (form-encoded, with an ``api_key``): a new
  report.
* ``requests/{service_request_id}.{json,xml}``, ``tokens/{token}.{json,xml}`` — one report.

Every error on these routes, whatever its cause (a bad field, a missing key, an unknown path,
a flood, an oversized body), is the specification's list of ``{code, description}`` (JSON)
or ``<errors><error>`` (XML) with the HTTP status in ``code``, described in Japanese, then
English. The format is the one the path ends with (JSON when it ends with neither).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cityos.core import geo
from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.ratelimit import client_address, rate_limited
from cityos.core.web import (
    JSON_INT,
    XML_TEXT_PATTERN,
    SessionDep,
    XmlText,
    api_user,
    database_of,
    files_of,
    problem_responses,
    require,
    settings_of,
    token_from,
)
from cityos.reports import catalog, open311, service
from cityos.reports.models import STATES
from cityos.reports.web import (
    FORM_MEDIA,
    MULTIPART_MEDIA,
    ReportForm,
    new_request,
    read_report_form,
)
from cityos.reports.web import single as _single
from cityos.settings import Settings

PREFIX = "/open311/v2"
LANGS = ("ja", "en")
POST_LIMIT = rate_limited("open311_post", lambda request: settings_of(request).reports_per_minute)


class Open311Problem(ProblemError):
    """An error only Open311 routes have (a wrong jurisdiction, a missing api_key)."""


# --- errors --------------------------------------------------------------------------------


def format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def error_response(
    fmt: str, status: int, descriptions: list[str], headers: dict[str, str] | None = None
) -> Response:
    body, media = open311.render(fmt, "errors", open311.error_entries(status, descriptions))
    return Response(body, status_code=status, media_type=media, headers=headers)


def problem_response(fmt: str, exc: ProblemError) -> Response:
    """A service error in Open311's format: invalid input is a 400, as the specification says."""
    status = {422: 400, 401: 403}.get(exc.status, exc.status)
    descriptions = [
        f"{name}: {message}" for name, messages in exc.errors.items() for message in messages
    ] or [exc.detail]
    return error_response(fmt, status, descriptions, exc.headers)


def handles(path: str) -> bool:
    """Whether errors on ``path`` are Open311's to answer (for the app's own error handlers)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def http_error(path: str, status: int) -> Response:
    """An unknown path, a wrong method, an unreadable body on an Open311 route."""
    messages = {
        404: "そのようなリソースはありません / no such resource (see discovery.json)",
        405: "この操作はできません / method not allowed",
    }
    return error_response(
        format_of(path), status, [messages.get(status, "不正なリクエストです / bad request")]
    )


def too_large_body(path: str, message: str) -> tuple[bytes, str] | None:
    """The 413 answer for an over-limit body on an Open311 route (else None)."""
    if not handles(path):
        return None
    return open311.render(format_of(path), "errors", open311.error_entries(413, [message]))


def _sync(fmt: str, work: Callable[[], Response]) -> Response:
    try:
        return work()
    except ProblemError as exc:
        return problem_response(fmt, exc)


async def _async(fmt: str, work: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await work()
    except ProblemError as exc:
        return problem_response(fmt, exc)


# --- parameters ----------------------------------------------------------------------------


def _query(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        values.setdefault(name, []).append(value)
    return values


def _check_common(settings: Settings, values: dict[str, list[str]]) -> str:
    """Check jurisdiction_id (when given) and answer the language (lang, Japanese by default)."""
    jurisdiction = _single(values, "jurisdiction_id")
    if jurisdiction is not None and jurisdiction != settings.open311_jurisdiction:
        raise Open311Problem(
            f"jurisdiction_id {jurisdiction[:100]!r} はありません。この窓口は "
            f"{settings.open311_jurisdiction} です / jurisdiction_id not found; this endpoint "
            f"serves {settings.open311_jurisdiction}",
            status=404,
        )
    lang = _single(values, "lang")
    if lang is None:
        return "ja"
    if lang not in LANGS:
        raise ValidationProblem(
            "lang: ja か en です / lang must be ja or en", errors={"lang": ["ja か en / ja or en"]}
        )
    return lang


def _answer(fmt: str, root: str, document: Any, status: int = 200) -> Response:
    body, media = open311.render(fmt, root, document)
    return Response(body, status_code=status, media_type=media)


# --- reading -------------------------------------------------------------------------------


def _discovery(request: Request, fmt: str) -> Response:
    settings = settings_of(request)
    _check_common(settings, _query(request))
    endpoint = {
        "specification": open311.SPECIFICATION,
        "url": settings.site_url.rstrip("/") + PREFIX,
        "changeset": catalog.CHANGESET,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    document = {
        "changeset": catalog.CHANGESET,
        "contact": f"{settings.city_name_ja} {catalog.CONTACT[0]} / "
        f"{settings.city_name_en} {catalog.CONTACT[1]}",
        "key_service": catalog.KEY_SERVICE,
        "endpoints": [endpoint],
    }
    return _answer(fmt, "discovery", document)


def _services(request: Request, fmt: str) -> Response:
    lang = _check_common(settings_of(request), _query(request))
    with database_of(request).session() as session:
        entries = [open311.service_entry(s, lang) for s in service.list_services(session)]
    return _answer(fmt, "services", entries)


def _definition(request: Request, fmt: str) -> Response:
    lang = _check_common(settings_of(request), _query(request))
    with database_of(request).session() as session:
        found = service.get_service(session, request.path_params["service_code"])
        document = open311.service_definition(found, lang)
    return _answer(fmt, "service_definition", document)


def _requests(request: Request, fmt: str) -> Response:
    settings = settings_of(request)
    values = _query(request)
    lang = _check_common(settings, values)
    query = service.parse_query(
        **{
            name: _single(values, name)
            for name in ("service_request_id", "service_code", "start_date", "end_date", "status")
        }
    )
    with database_of(request).session() as session:
        names = service.service_names(session)
        entries = [
            open311.request_entry(r, lang, settings.city_name_ja, names)
            for r in service.find_public_rows(session, query)
        ]
    return _answer(fmt, "service_requests", entries)


def _one_request(request: Request, fmt: str) -> Response:
    settings = settings_of(request)
    lang = _check_common(settings, _query(request))
    with database_of(request).session() as session:
        found = service.get_request(session, request.path_params["service_request_id"])
        entries = [open311.request_entry(found, lang, settings.city_name_ja)]
    return _answer(fmt, "service_requests", entries)


def _token(request: Request, fmt: str) -> Response:
    _check_common(settings_of(request), _query(request))
    with database_of(request).session() as session:
        found = service.request_for_token(session, request.path_params["token"])
        entries = [open311.token_entry(found)]
    return _answer(fmt, "service_requests", entries)


# --- posting -------------------------------------------------------------------------------


def _poster(session: Session, request: Request, fields: dict[str, list[str]]) -> str:
    key = _single(fields, "api_key") or request.query_params.get("api_key") or token_from(request)
    if not key:
        raise Open311Problem(
            "api_key: api_key がありません。市が発行したキーを指定してください / "
            "api_key was not provided",
            status=403,
        )
    poster = service.poster_for_key(session, key)
    if poster is None:
        raise Open311Problem(
            "api_key: api_key が無効です / api_key is not valid (unknown or revoked)", status=403
        )
    return poster


def _create(request: Request, fmt: str, form: ReportForm) -> Response:
    settings = settings_of(request)
    fields = form.fields
    POST_LIMIT(request)
    values = _query(request)
    _check_common(settings, values)
    _check_common(
        settings, {name: fields[name] for name in ("jurisdiction_id", "lang") if name in fields}
    )
    with database_of(request).session() as session:
        poster = _poster(session, request, fields)
        new = new_request(fields)
        new.photo, new.photo_error = form.photo, form.photo_error
        created = service.submit_request(
            session,
            new,
            city=settings.city_name_ja,
            submitted_via=poster,
            client=service.client_digest(poster, client_address(request), new.device_id or ""),
            files=files_of(request),
            site_url=settings.site_url,
        )
        entry = open311.created_entry(created)
    return _answer(fmt, "service_requests", [entry], status=201)


# --- the routes and their OpenAPI description ----------------------------------------------


def _param(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


_NULLABLE_TEXT = {"type": ["string", "null"]}
ERRORS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": {"type": "integer", "description": "The HTTP status"},
            "description": {"type": "string", "description": "日本語 / English"},
        },
    },
}
SERVICE_SCHEMA = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": {"type": "string"},
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": {"type": "string"},
        "group": {"type": "string"},
    },
}
DEFINITION_SCHEMA = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required", "order", "description"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {"type": "string", "enum": list(catalog.DATATYPES)},
                    "required": {"type": "boolean"},
                    "datatype_description": _NULLABLE_TEXT,
                    "order": {"type": "integer"},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
REQUEST_SCHEMA = {
    "type": "object",
    "required": [
        "service_request_id",
        "status",
        "service_code",
        "requested_datetime",
        "lat",
        "long",
    ],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _NULLABLE_TEXT,
        "service_name": {"type": "string"},
        "service_code": {"type": "string"},
        "description": _NULLABLE_TEXT,
        "agency_responsible": _NULLABLE_TEXT,
        "service_notice": _NULLABLE_TEXT,
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": ["string", "null"], "format": "date-time"},
        "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
        "address": _NULLABLE_TEXT,
        "address_id": _NULLABLE_TEXT,
        "zipcode": _NULLABLE_TEXT,
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "media_url": _NULLABLE_TEXT,
    },
}
CREATED_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {
            "service_request_id": {"type": "string"},
            "token": {"type": "string"},
            "service_notice": _NULLABLE_TEXT,
            "account_id": _NULLABLE_TEXT,
        },
    },
}
TOKEN_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
}
DISCOVERY_SCHEMA = {
    "type": "object",
    "required": ["changeset", "endpoints"],
    "properties": {
        "changeset": {"type": "string"},
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["specification", "url", "formats"],
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string"},
                    "changeset": {"type": "string"},
                    "type": {"type": "string"},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
ERROR_STATUS_TEXT = {
    400: "Invalid input / 入力の誤り",
    403: "api_key missing or not valid / api_key がないか無効",
    404: "Unknown jurisdiction_id, service_code, id or token / 見つかりません",
    413: "Body too large / 本文が大きすぎます",
    415: "Not form-encoded nor multipart / フォーム形式ではありません",
    429: "Too many reports, or the same report again, from this client / "
    "報告が多すぎるか同じ内容です (Retry-After)",
}


def _responses(
    fmt: str, status: int, schema: dict[str, Any], description: str, errors: tuple[int, ...]
) -> dict[str, Any]:
    def content(json_schema: dict[str, Any]) -> dict[str, Any]:
        if fmt == "xml":
            return {"text/xml": {"schema": {"type": "string", "description": "XML"}}}
        return {"application/json": {"schema": json_schema}}

    answers: dict[str, Any] = {
        str(status): {"description": description, "content": content(schema)}
    }
    for code in errors:
        answers[str(code)] = {
            "description": f"{ERROR_STATUS_TEXT[code]}: Open311 errors",
            "content": content(ERRORS_SCHEMA),
        }
    return answers


def _text_schema(limit: int, description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": limit,
        "pattern": XML_TEXT_PATTERN,
        "description": description,
    }


def _attribute_properties() -> dict[str, Any]:
    """Every attribute of the catalog as the form field that carries it."""
    found: dict[str, dict[str, Any]] = {}
    for entry in catalog.SERVICES:
        for attribute in entry["attributes"]:
            code, datatype = attribute["code"], attribute["datatype"]
            used_by = entry["code"]
            keys = [value["key"] for value in attribute["values"]]
            if datatype == "multivaluelist":
                name = f"attribute[{code}][]"
                schema: dict[str, Any] = {
                    "type": "array",
                    "items": {"type": "string", "enum": keys},
                }
            elif datatype == "singlevaluelist":
                name = f"attribute[{code}]"
                previous = found.get(name, {}).get("enum", [])
                schema = {"type": "string", "enum": sorted({*previous, *keys})}
            elif datatype == "number":
                name, schema = f"attribute[{code}]", {"type": "number"}
            else:
                name = f"attribute[{code}]"
                schema = _text_schema(service.MAX_SHORT, "")
            services = found.get(name, {}).get("x-services", [])
            schema["description"] = (
                f"{attribute['description_ja']} / {attribute['description_en']} "
                f"({', '.join([*services, used_by])})"
            )
            schema["x-services"] = [*services, used_by]
            found[name] = schema
    for schema in found.values():
        schema.pop("x-services")
    return found


def _report_form(jurisdiction: str) -> dict[str, Any]:
    bounds = service.CITY_BOUNDS
    properties: dict[str, Any] = {
        "api_key": {
            "type": "string",
            "maxLength": 200,
            "description": "The key the city issued to the application (or a staff API token "
            "in the Authorization header instead) / 市が発行した api_key",
        },
        "jurisdiction_id": {"type": "string", "enum": [jurisdiction]},
        "service_code": {"type": "string", "enum": list(catalog.SERVICE_CODES)},
        "lat": {
            "type": "number",
            "minimum": bounds.south,
            "maximum": bounds.north,
            "description": "Latitude (WGS84) inside the city / 緯度",
        },
        "long": {
            "type": "number",
            "minimum": bounds.west,
            "maximum": bounds.east,
            "description": "Longitude (WGS84) inside the city / 経度",
        },
        "address_string": _text_schema(
            service.MAX_ADDRESS, "An address in the city, placed at its 町丁目 / 住所"
        ),
        "address_id": {"type": "string", "description": "A 町丁目 of the city / 町丁目名"},
        "description": _text_schema(
            service.MAX_DESCRIPTION, "What is wrong, as plain text / 内容（HTML は文字のまま）"
        ),
        "media_url": {
            "type": "string",
            "maxLength": service.MAX_MEDIA_URL,
            "pattern": service.MEDIA_URL_PATTERN,
            "description": "A photo on the web / 写真の URL",
        },
        "email": _text_schema(254, "Kept private / 非公開"),
        "phone": _text_schema(40, "Kept private / 非公開"),
        "first_name": _text_schema(service.MAX_NAME, "Kept private / 非公開"),
        "last_name": _text_schema(service.MAX_NAME, "Kept private / 非公開"),
        "device_id": _text_schema(service.MAX_SHORT, "Kept private / 非公開"),
        "account_id": _text_schema(service.MAX_SHORT, "Kept private / 非公開"),
        **_attribute_properties(),
    }
    return {
        "type": "object",
        "required": ["service_code"],
        "anyOf": [
            {"required": ["lat", "long"]},
            {"required": ["address_string"]},
            {"required": ["address_id"]},
        ],
        "properties": properties,
    }


def _photo_form(settings: Settings) -> dict[str, Any]:
    """The same form as multipart, with a photo file in ``media``."""
    form = _report_form(settings.open311_jurisdiction)
    megabytes = settings.reports_photo_max_bytes // (1024 * 1024)
    form["properties"]["media"] = {
        "type": "string",
        "format": "binary",
        "description": f"A photo (JPEG, PNG, WebP or HEIC/HEIF, at most {megabytes} MB), "
        "published as JPEG without its metadata and resized; it becomes the media_url / 写真",
    }
    return form


def document_places(schema: dict[str, Any], towns: list[str]) -> dict[str, Any]:
    """Name the city's 町丁目 in the published schema: the values ``address_id`` accepts."""
    for path, item in schema.get("paths", {}).items():
        if not handles(path) or "post" not in item:
            continue
        for media in (FORM_MEDIA, MULTIPART_MEDIA):
            form = item["post"]["requestBody"]["content"][media]["schema"]
            form["properties"]["address_id"]["enum"] = towns
    return schema


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["Open311 GeoReport v2 / 市民からの報告"])
    common = [
        _param(
            "jurisdiction_id",
            {"type": "string", "enum": [settings.open311_jurisdiction]},
            "The city's jurisdiction (optional) / 自治体",
        ),
        _param("lang", {"type": "string", "enum": list(LANGS)}, "ja (default) or en / 言語"),
    ]
    code_list = "|".join(catalog.SERVICE_CODES)
    filters = [
        _param(
            "service_request_id",
            {
                "type": "string",
                "pattern": rf"^[0-9]{{1,9}}(,[0-9]{{1,9}}){{0,{service.MAX_IDS - 1}}}$",
            },
            "Request ids, comma separated; overrides every other filter / 受付番号",
        ),
        _param(
            "service_code",
            {"type": "string", "pattern": rf"^({code_list})(,({code_list}))*$"},
            "Service codes, comma separated / サービスコード",
        ),
        _param(
            "start_date",
            {"type": "string", "format": "date-time"},
            "Requested at or after (RFC 3339); without dates, the last 90 days / 開始日時",
        ),
        _param(
            "end_date",
            {"type": "string", "format": "date-time"},
            "Requested at or before / 終了日時",
        ),
        _param(
            "status",
            {"type": "string", "pattern": "^(open|closed)(,(open|closed))*$"},
            "open, closed or both / 状態",
        ),
    ]
    id_param = _param(
        "service_request_id", {"type": "string", "pattern": "^[0-9]{1,9}$"}, "受付番号", "path"
    )
    code_param = _param(
        "service_code",
        {"type": "string", "enum": list(catalog.SERVICE_CODES)},
        "サービスコード",
        "path",
    )
    token_param = _param(
        "token",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "POST の答えの token",
        "path",
    )
    reads: list[tuple[str, Callable[[Request, str], Response], list[dict[str, Any]], dict[str, Any], str]] = [
        ("discovery", _discovery, [], DISCOVERY_SCHEMA, "Service discovery / API の案内"),
        ("services", _services, [], {"type": "array", "items": SERVICE_SCHEMA}, "Services / 報告の種類"),
        ("services/{service_code}", _definition, [code_param], DEFINITION_SCHEMA, "Service definition / 報告の項目"),
        ("requests", _requests, filters, {"type": "array", "items": REQUEST_SCHEMA}, "Service requests / 報告の一覧"),
        ("requests/{service_request_id}", _one_request, [id_param], {"type": "array", "items": REQUEST_SCHEMA}, "One service request / 報告"),
        ("tokens/{token}", _token, [token_param], TOKEN_SCHEMA, "Request id from a token / トークンから受付番号"),
    ]  # fmt: skip
    for fmt in open311.FORMATS:
        for path, handler, params, schema, summary in reads:
            router.add_api_route(
                f"{PREFIX}/{path}.{fmt}",
                _read_endpoint(handler, fmt),
                methods=["GET"],
                summary=f"{summary} ({fmt.upper()})",
                response_class=Response,
                openapi_extra={
                    "parameters": [*params, *common],
                    "responses": _responses(fmt, 200, schema, summary, (400, 404)),
                },
            )
        router.add_api_route(
            f"{PREFIX}/requests.{fmt}",
            _post_endpoint(fmt),
            methods=["POST"],
            status_code=201,
            summary=f"Post a service request / 報告する ({fmt.upper()})",
            description=(
                "Form-encoded, as GeoReport v2 says, or multipart/form-data with a photo file "
                "in media. The place is lat and long (inside "
                f"{service.CITY_BOUNDS.describe_en()} and within {geo.CITY_MARGIN_M:.0f} m of "
                "the city's boundary), else address_id (a 町丁目), else "
                "address_string (an address in the city). Required attributes depend on the "
                "service (see its definition). Needs an api_key (or a staff API token)."
            ),
            response_class=Response,
            openapi_extra={
                "parameters": common[1:],  # jurisdiction_id is a field of the form
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM_MEDIA: {"schema": _report_form(settings.open311_jurisdiction)},
                        MULTIPART_MEDIA: {"schema": _photo_form(settings)},
                    },
                },
                "responses": _responses(
                    fmt,
                    201,
                    CREATED_SCHEMA,
                    "Created / 受け付けました",
                    (400, 403, 404, 413, 415, 429),
                ),
            },
        )
    return router


def _read_endpoint(
    handler: Callable[[Request, str], Response], fmt: str
) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return _sync(fmt, lambda: handler(request, fmt))

    endpoint.__name__ = f"open311_{handler.__name__.strip('_')}_{fmt}"
    return endpoint


def _post_endpoint(fmt: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        async def work() -> Response:
            form = await read_report_form(request, settings_of(request).reports_photo_max_bytes)
            return await run_in_threadpool(_create, request, fmt, form)

        return await _async(fmt, work)

    endpoint.__name__ = f"open311_post_request_{fmt}"
    return endpoint


# --- staff JSON routes ---------------------------------------------------------------------

# Every staff route needs a token of someone who may manage reports (or a logged-in session).
TOKEN: dict[str, Any] = {"security": [{"ApiToken": []}]}

staff_router = APIRouter(
    prefix="/api/reports",
    tags=["Citizen reports, staff / 市民からの報告（職員）"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)


def _staff_json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


def _staff(request: Request, session: Session) -> User:
    return require(api_user(request, session), service.MANAGE_PERMISSION)


StateParam = Literal[(*STATES, "open", "closed")]  # type: ignore[valid-type]
StaffState = Literal[service.STAFF_STATES]  # type: ignore[valid-type]
ServiceCode = Literal[catalog.SERVICE_CODES]  # type: ignore[valid-type]
Department = Literal[service.DEPARTMENT_NAMES]  # type: ignore[valid-type]


@staff_router.get("/requests", summary="The inbox / 受付一覧", openapi_extra=TOKEN)
def staff_inbox(
    request: Request,
    session: SessionDep,
    state: Annotated[StateParam | None, Query(description="受付状態, open or closed")] = None,
    service_code: Annotated[ServiceCode | None, Query()] = None,
    town: Annotated[str, Query(max_length=60, description="町丁目")] = "",
    department: Annotated[Department | None, Query(description="担当課")] = None,
    days: Annotated[int, Query(ge=0, le=3660, description="the last N days (0: all)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    _staff(request, session)
    where = service.InboxFilter(
        state=state or "",
        service_code=service_code or "",
        town=town,
        department=department or "",
        days=days,
    ).check()
    site = settings_of(request).site_url
    rows = service.inbox(session, where, limit=limit)
    return _staff_json({"items": [service.request_dict(r, site) for r in rows]})


@staff_router.get(
    "/requests/{request_id}",
    summary="One report with its history and likely duplicates / 報告の詳細",
    openapi_extra=TOKEN,
)
def staff_request(
    request: Request,
    session: SessionDep,
    request_id: Annotated[str, Path(pattern="^[0-9]{1,9}$")],
) -> Response:
    _staff(request, session)
    site = settings_of(request).site_url
    found = service.get_request(session, request_id)
    body = service.request_dict(found, site)
    body["history"] = [service.change_dict(c) for c in service.history(session, found.id)]
    body["duplicates"] = [
        {"id": d.request.id, "distance_m": d.distance_m, "days_apart": d.days_apart}
        for d in service.likely_duplicates(session, found.id)
    ]
    return _staff_json(body)


@staff_router.get(
    "/requests/{request_id}/contact",
    summary="The reporter's contact (recorded in the audit log) / 報告者の連絡先",
    openapi_extra=TOKEN,
)
def staff_contact(
    request: Request,
    session: SessionDep,
    request_id: Annotated[str, Path(pattern="^[0-9]{1,9}$")],
) -> Response:
    user = _staff(request, session)
    return _staff_json(service.reporter_contact(session, request_id, actor=user))


class StatusIn(BaseModel):
    status: StaffState = Field(
        description="received 受付, in_progress 対応中, done 完了, declined 対応不可"
    )
    note: Annotated[XmlText, Field(max_length=service.MAX_NOTE)] = ""
    department: Department | None = Field(default=None, description="担当課 (assignment)")


@staff_router.post(
    "/requests/{request_id}/status",
    summary="Change the status, note and department / 状態を変える",
    openapi_extra=TOKEN,
)
def staff_status(
    request: Request,
    session: SessionDep,
    body: StatusIn,
    request_id: Annotated[str, Path(pattern="^[0-9]{1,9}$")],
) -> Response:
    user = _staff(request, session)
    site = settings_of(request).site_url
    found = service.change_status(
        session,
        request_id,
        body.status,
        actor=user,
        note=body.note,
        department=body.department,
        site_url=site,
    )
    return _staff_json(service.request_dict(found, site))


class MergeIn(BaseModel):
    into: Annotated[int, Field(ge=1, le=999_999_999), JSON_INT] = Field(
        description="The report kept / 残す報告の番号"
    )


@staff_router.post(
    "/requests/{request_id}/merge",
    summary="Merge a duplicate into another report / 重複をまとめる",
    openapi_extra=TOKEN,
)
def staff_merge(
    request: Request,
    session: SessionDep,
    body: MergeIn,
    request_id: Annotated[str, Path(pattern="^[0-9]{1,9}$")],
) -> Response:
    user = _staff(request, session)
    site = settings_of(request).site_url
    found = service.merge_into(session, request_id, body.into, actor=user, site_url=site)
    return _staff_json(service.request_dict(found, site))


PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            MULTIPART_MEDIA: {
                "schema": {
                    "type": "object",
                    "required": ["media", "kind"],
                    "properties": {
                        "media": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": ["before", "after"]},
                    },
                }
            }
        },
    },
    **TOKEN,
}


@staff_router.post(
    "/requests/{request_id}/photos",
    summary="Add a before/after photo / 対応前・対応後の写真",
    status_code=201,
    openapi_extra=PHOTO_BODY,
)
async def staff_photo(
    request: Request, request_id: Annotated[str, Path(pattern="^[0-9]{1,9}$")]
) -> Response:
    form = await read_report_form(request, settings_of(request).reports_photo_max_bytes)
    return await run_in_threadpool(_staff_photo_sync, request, request_id, form)


def _staff_photo_sync(request: Request, request_id: str, form: ReportForm) -> Response:
    with database_of(request).session() as session:
        user = _staff(request, session)
        if form.photo_error or form.photo is None:
            message = form.photo_error or "写真を media で送ってください / send the photo as media"
            raise ValidationProblem(f"media: {message}", errors={"media": [message]})
        stored = service.add_photo(
            session,
            request_id,
            form.photo,
            kind=_single(form.fields, "kind") or "",
            actor=user,
            files=files_of(request),
        )
        return _staff_json(service.photo_dict(stored, settings_of(request).site_url), 201)


@staff_router.get(
    "/numbers", summary="Counts and median days to close / 件数と日数", openapi_extra=TOKEN
)
def staff_numbers(request: Request, session: SessionDep) -> Response:
    _staff(request, session)
    return _staff_json(service.numbers_dict(service.numbers(session)))


@staff_router.get(
    "/numbers.csv",
    summary="The numbers as CSV for Excel / 件数のCSV",
    responses={200: {"content": {"text/csv": {}}}},
    openapi_extra=TOKEN,
)
def staff_numbers_csv(request: Request, session: SessionDep) -> Response:
    _staff(request, session)
    return Response(
        service.numbers_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="reports-numbers.csv"'},
    )
