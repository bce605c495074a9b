"""CKAN Action API v3 at /api/3/action/ and /api/action/ (the path ckanapi posts to).

GET with query parameters and POST with a JSON body (or multipart for uploads) both work.
Answers use CKAN's envelope: ``{"help", "success", "result"}`` or ``{"help", "success":
false, "error": {"__type", "message", ...}}`` with CKAN's HTTP codes. The handlers only
parse parameters and call ``service`` / ``datastore``; all logic lives there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos import __version__
from cityos.core.errors import (
    AuthenticationProblem,
    ForbiddenProblem,
    NotFoundProblem,
    PayloadTooLargeProblem,
    ProblemError,
    ValidationProblem,
)
from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.core.web import api_user, database_of, files_of, settings_of
from cityos.opendata import ckan, datastore, search, service
from cityos.opendata.search import SearchQueryProblem
from cityos.settings import Settings

API_PREFIXES = ("/api/3/action/", "/api/action/")


@dataclass
class Call:
    """One action call: its parameters, the caller and what the handlers need."""

    name: str
    params: dict[str, Any]
    files: dict[str, UploadFile]
    session: Session
    user: User | None
    settings: Settings
    store: FileStore
    base_url: str
    database_path: str


Handler = Callable[[Call], Any]


# --- parameter helpers ---------------------------------------------------------------------


def _required(call: Call, key: str) -> Any:
    value = call.params.get(key)
    if value in (None, ""):
        raise ValidationProblem(
            f"{key} を指定してください / {key} is required", errors={key: ["Missing value"]}
        )
    return value


def _str(call: Call, key: str, default: str = "") -> str:
    value = call.params.get(key, default)
    if value is None:
        return default
    if isinstance(value, dict | list):
        raise ValidationProblem(
            f"{key} は文字列です / {key} must be a string", errors={key: ["must be a string"]}
        )
    return str(value)


MAX_INT = 2**31 - 1


def _int(call: Call, key: str, default: int, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    if key not in call.params or call.params[key] is None:
        return default
    value = call.params[key]
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationProblem(
            f"{key} は整数です / {key} must be an integer", errors={key: ["Invalid integer"]}
        ) from None
    if number < minimum or number > maximum:
        raise ValidationProblem(
            f"{key} は {minimum}〜{maximum} です / {key} must be between {minimum} and {maximum}",
            errors={key: [f"Must be between {minimum} and {maximum}"]},
        )
    return number


def _bool(call: Call, key: str, default: bool) -> bool:
    if key not in call.params or call.params[key] is None:
        return default
    value = call.params[key]
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes", "t", "on"):
        return True
    if lowered in ("false", "0", "no", "f", "off"):
        return False
    raise ValidationProblem(
        f"{key} は true か false です / {key} must be a boolean", errors={key: ["Invalid boolean"]}
    )


def _json_value(call: Call, key: str) -> Any:
    """A parameter that is JSON in a body but a JSON string in a query string."""
    value = call.params.get(key)
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValidationProblem(
                f"{key} の JSON が読めません / {key} is not valid JSON",
                errors={key: ["Cannot parse JSON"]},
            ) from None
    return value


def _list(call: Call, key: str) -> list[str] | None:
    value = _json_value(call, key)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValidationProblem(
        f"{key} は文字列のリストです / {key} must be a list of strings",
        errors={key: ["Not a list"]},
    )


def _dict(call: Call, key: str) -> dict[str, Any]:
    value = _json_value(call, key)
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationProblem(
            f"{key} は JSON オブジェクトです / {key} must be a JSON object",
            errors={key: ["Not a JSON object"]},
        )
    return value


# --- actions: catalog reads ----------------------------------------------------------------


def status_show(call: Call) -> Any:
    """Site information, as CKAN's status_show."""
    return {
        "site_title": f"{call.settings.city_name_ja} オープンデータ / {call.settings.city_name_en} Open Data",
        "site_url": call.settings.site_url,
        "site_description": "Mitaka City OS open data portal",
        "ckan_version": "2.10.0",
        "cityos_version": __version__,
        "error_emails_to": None,
        "locale_default": "ja",
        "extensions": ["datastore", "cityos-standards", "dcat"],
    }


def package_list(call: Call) -> Any:
    """Names of all public datasets."""
    # As in CKAN, an empty limit is not "no limit" but a bad number.
    limit = call.params.get("limit")
    return search.list_dataset_names(
        call.session,
        call.user,
        _int(call, "limit", 0, minimum=1, maximum=10000) if limit is not None else None,
        _int(call, "offset", 0),
    )


def package_show(call: Call) -> Any:
    """One dataset with its resources (id or name)."""
    return ckan.package_dict(service.get_dataset(call.session, _str(call, "id"), call.user))


def package_search(call: Call) -> Any:
    """Search datasets: q (free text / field:value), fq, rows, start, sort, facet.field."""
    facet_fields = _list(call, "facet.field") or []
    facet_limit = _int(call, "facet.limit", 50, minimum=-1, maximum=1000)
    mincount = _int(call, "facet.mincount", 1)
    result = search.search_datasets(
        call.session,
        call.user,
        q=_str(call, "q"),
        fq=_str(call, "fq"),
        rows=_int(call, "rows", 10, maximum=1000),
        start=_int(call, "start", 0),
        sort=_str(call, "sort"),
        facet_fields=facet_fields,
        include_private=_bool(call, "include_private", False),
    )
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name, counter in result.facets.items():
        items = [(k, v) for k, v in counter.most_common() if v >= mincount]
        if facet_limit >= 0:
            items = items[:facet_limit]
        facets[name] = dict(items)
        search_facets[name] = {
            "title": name,
            "items": [{"name": k, "display_name": k, "count": v} for k, v in items],
        }
    return {
        "count": result.count,
        "sort": result.sort,
        "results": [ckan.package_dict(d) for d in result.datasets],
        "facets": facets,
        "search_facets": search_facets,
    }


def organization_list(call: Call) -> Any:
    """Departments publishing data; all_fields=true for full objects."""
    orgs = service.list_organizations(call.session)
    if _bool(call, "all_fields", False):
        counts = search.organization_dataset_counts(call.session, call.user)
        return [ckan.organization_dict(o, counts.get(o.id, 0)) for o in orgs]
    return [o.name for o in orgs]


def organization_show(call: Call) -> Any:
    """One organization (id or name), with its datasets when include_datasets=true."""
    org = service.get_organization(call.session, _str(call, "id"))
    counts = search.organization_dataset_counts(call.session, call.user)
    result = ckan.organization_dict(org, counts.get(org.id, 0))
    if _bool(call, "include_datasets", False):
        found = search.search_datasets(
            call.session, call.user, fq=f"organization:{org.name}", rows=1000
        )
        result["packages"] = [ckan.package_dict(d) for d in found.datasets]
    return result


def group_list(call: Call) -> Any:
    """Themes grouping datasets across departments."""
    groups = service.list_groups(call.session)
    if _bool(call, "all_fields", False):
        return [ckan.group_dict(g) for g in groups]
    return [g.name for g in groups]


def group_show(call: Call) -> Any:
    """One group (id or name)."""
    return ckan.group_dict(service.get_group(call.session, _str(call, "id")))


def tag_list(call: Call) -> Any:
    """All tags; query= filters them."""
    names = search.tag_names(call.session, call.user, _str(call, "query"))
    if _bool(call, "all_fields", False):
        return [{"name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def license_list(call: Call) -> Any:
    """Licenses a dataset may carry."""
    return [{"id": k, "title": t, "url": u} for k, (t, u) in service.LICENSES.items()]


def resource_show(call: Call) -> Any:
    """One resource (file or link) of a dataset."""
    return ckan.resource_dict(service.get_resource(call.session, _str(call, "id"), call.user))


def help_show(call: Call) -> Any:
    """The documentation of an action."""
    name = _str(call, "name")
    if name not in ACTIONS:
        raise NotFoundProblem(f"アクション {name!r} はありません / action {name!r} not found")
    return (ACTIONS[name].__doc__ or "").strip()


# --- actions: DataStore reads --------------------------------------------------------------


def _datastore_resource(call: Call) -> Any:
    resource = service.get_resource(
        call.session, _str(call, "resource_id") or _str(call, "id"), call.user
    )
    if not resource.datastore_active:
        raise NotFoundProblem(
            "このリソースにはデータストアの表がありません / no DataStore table for this resource"
        )
    return resource


def _field_dicts(
    fields: list[datastore.Field], selected: list[str] | None = None
) -> list[dict[str, Any]]:
    by_name = {f.name: f for f in fields}
    names = selected if selected is not None else [f.name for f in fields]
    result: list[dict[str, Any]] = []
    for name in names:
        if name == "_id":
            result.append({"id": "_id", "type": "int"})
            continue
        f = by_name[name]
        item: dict[str, Any] = {"id": f.name, "type": f.type}
        info = {k: v for k, v in (("label", f.label), ("kind", f.kind)) if v}
        if info:
            item["info"] = info
        result.append(item)
    return result


def _json_ready(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def datastore_search(call: Call) -> Any:
    """Rows of a resource's table: filters, q (Japanese full text), fields, sort, limit, offset."""
    if not _str(call, "resource_id") and not _str(call, "id"):
        raise ValidationProblem(
            "resource_id を指定してください / resource_id is required",
            errors={"resource_id": ["Missing value"]},
        )
    resource = _datastore_resource(call)
    fields = service.fields_of(resource)
    known = {f.name for f in fields} | {"_id"}
    q_value = _json_value(call, "q")
    if q_value is not None and not isinstance(q_value, str | dict):
        raise ValidationProblem(
            "q は文字列か JSON オブジェクトです / q must be a string or an object",
            errors={"q": ["invalid"]},
        )
    records_format = _str(call, "records_format", "objects")
    if records_format not in ("objects", "lists", "csv"):
        raise ValidationProblem(
            "records_format は objects, lists, csv のいずれかです / invalid records_format",
            errors={"records_format": ["invalid"]},
        )
    limit = _int(call, "limit", datastore.DEFAULT_LIMIT, maximum=datastore.MAX_LIMIT)
    offset = _int(call, "offset", 0)
    query = datastore.SearchQuery(
        filters=_dict(call, "filters"),
        q=q_value,
        fields=_list(call, "fields"),
        sort=datastore.parse_sort(_json_value(call, "sort"), known),
        limit=limit,
        offset=offset,
        include_total=_bool(call, "include_total", True),
        distinct=_bool(call, "distinct", False),
    )
    found = datastore.search(call.session.connection(), resource.id, fields, query)
    columns: list[str] = found["columns"]
    rows = [[_json_ready(v) for v in row] for row in found["rows"]]
    base = f"/api/3/action/datastore_search?resource_id={resource.id}"
    result: dict[str, Any] = {
        "include_total": query.include_total,
        "limit": limit,
        "records_format": records_format,
        "resource_id": resource.id,
        "total_estimation_threshold": None,
        "fields": _field_dicts(fields, columns),
        "_links": {"start": base, "next": f"{base}&offset={offset + limit}"},
    }
    if records_format == "objects":
        result["records"] = [dict(zip(columns, row, strict=True)) for row in rows]
    elif records_format == "lists":
        result["records"] = rows
    else:
        result["records"] = _csv_text(rows)
    if query.filters:
        result["filters"] = query.filters
    if q_value:
        result["q"] = q_value
    if found["total"] is not None:
        result["total"] = found["total"]
        result["total_was_estimated"] = False
    return result


def _csv_text(rows: list[list[Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def datastore_search_sql(call: Call) -> Any:
    """One read-only SELECT over the public DataStore tables ("resource id" as table name)."""
    statement = datastore.check_read_only_sql(_str(call, "sql"))
    allowed = _readable_tables(call)
    conn = call.session.connection()
    if conn.dialect.name == "sqlite":
        found = datastore.run_sqlite_sql(
            call.database_path, statement, allowed, call.settings.sql_time_limit_ms
        )
    else:
        found = datastore.run_postgres_sql(
            conn, statement, allowed, call.settings.sql_time_limit_ms
        )
    records = [
        dict(zip(found.columns, [_json_ready(v) for v in row], strict=False)) for row in found.rows
    ]
    return {
        "sql": statement,
        "records": records,
        "fields": [{"id": c, "type": "text"} for c in found.columns],
        "records_truncated": found.truncated,
    }


def _readable_tables(call: Call) -> set[str]:
    from sqlalchemy import select

    from cityos.core.auth import can
    from cityos.opendata.models import Dataset, Resource

    query = (
        select(Resource.id)
        .join(Dataset)
        .where(Resource.datastore_active, Dataset.state == "active")
    )
    if not can(call.user, "catalog.read_private"):
        query = query.where(~Dataset.private)
    return set(call.session.scalars(query))


def datastore_info(call: Call) -> Any:
    """Fields and row count of a resource's table."""
    resource = _datastore_resource(call)
    return {
        "meta": {"count": resource.row_count, "id": resource.id},
        "fields": _field_dicts(service.fields_of(resource)),
        "schema": {f.name: f.type for f in service.fields_of(resource)},
    }


# --- actions: writes -----------------------------------------------------------------------


def _body_dict(call: Call) -> dict[str, Any]:
    return dict(call.params)


def package_create(call: Call) -> Any:
    """Create a dataset (needs an API token of a staff member)."""
    dataset = service.create_dataset(call.session, call.user, _body_dict(call), via="api")
    call.session.flush()
    return ckan.package_dict(service.get_dataset(call.session, dataset.id, call.user))


def _update(call: Call, *, patch: bool) -> Any:
    dataset = service.update_dataset(
        call.session,
        call.user,
        _str(call, "id") or _str(call, "name"),
        _body_dict(call),
        patch=patch,
        via="api",
    )
    call.session.flush()
    return ckan.package_dict(dataset)


def package_update(call: Call) -> Any:
    """Replace a dataset's metadata."""
    return _update(call, patch=False)


def package_patch(call: Call) -> Any:
    """Change only the given fields of a dataset."""
    return _update(call, patch=True)


def package_delete(call: Call) -> Any:
    """Delete a dataset (it stays in the audit log)."""
    service.delete_dataset(call.session, call.user, _str(call, "id"), via="api")
    return None


def organization_create(call: Call) -> Any:
    """Create an organization (a department)."""
    _require_writer(call)
    return ckan.organization_dict(
        service.create_organization(call.session, call.user, _body_dict(call))
    )


def group_create(call: Call) -> Any:
    """Create a group (a theme)."""
    _require_writer(call)
    return ckan.group_dict(service.create_group(call.session, call.user, _body_dict(call)))


def _require_writer(call: Call) -> None:
    from cityos.core.auth import can

    if call.user is None:
        raise ForbiddenProblem("APIトークンが必要です / an API token is required")
    if not can(call.user, "catalog.write"):
        raise ForbiddenProblem(
            f"{call.user.name} にはカタログを変更する権限がありません / not allowed"
        )


def _upload_of(call: Call, resource: Any, key: str = "upload") -> Any:
    upload = call.files.get(key)
    if upload is None:
        return None
    mode = _str(call, "upload_mode", "replace")
    encoding = _str(call, "encoding") or None
    digest, size, path = call.store.put(upload.file, max_bytes=call.settings.max_upload_bytes)
    return service.upload_file(
        call.session,
        call.user,
        resource,
        service.UploadedFile(path, upload.filename or "upload.csv", digest, size),
        call.store,
        site_url=call.settings.site_url,
        mode=mode,
        encoding=encoding,
        via="api",
    )


def resource_create(call: Call) -> Any:
    """Add a resource: a link (url) or an uploaded file (upload), loaded into the DataStore."""
    package_id = _str(call, "package_id")
    if not package_id:
        raise ValidationProblem(
            "package_id を指定してください / package_id is required",
            errors={"package_id": ["Missing value"]},
        )
    data = {
        k: v
        for k, v in call.params.items()
        if k not in ("package_id", "upload", "encoding", "upload_mode")
    }
    resource = service.create_resource(call.session, call.user, package_id, data, via="api")
    version = _upload_of(call, resource)
    call.session.flush()
    result = ckan.resource_dict(resource)
    if version is not None and version.report:
        result["validation_report"] = version.report
    return result


def resource_update(call: Call) -> Any:
    """Change a resource; with an upload, add a new version (upload_mode=replace or append)."""
    resource = service.update_resource(
        call.session,
        call.user,
        _str(call, "id"),
        {
            k: v
            for k, v in call.params.items()
            if k in ("name", "name_en", "description", "format", "url")
        },
        via="api",
    )
    version = _upload_of(call, resource)
    call.session.flush()
    result = ckan.resource_dict(resource)
    if version is not None and version.report:
        result["validation_report"] = version.report
    return result


def resource_delete(call: Call) -> Any:
    """Delete a resource and its DataStore table."""
    service.delete_resource(call.session, call.user, _str(call, "id"), via="api")
    return None


def datastore_create(call: Call) -> Any:
    """Create a DataStore table from fields (and records), for a resource or a new one."""
    resource_id = _str(call, "resource_id")
    if resource_id:
        resource = service.get_resource(call.session, resource_id, call.user)
    else:
        spec = _dict(call, "resource")
        if not spec.get("package_id"):
            raise ValidationProblem(
                "resource_id か resource.package_id を指定してください / resource_id or resource "
                "with package_id is required",
                errors={"resource_id": ["Missing value"]},
            )
        resource = service.create_resource(
            call.session,
            call.user,
            str(spec["package_id"]),
            {k: v for k, v in spec.items() if k != "package_id"},
            via="api",
        )
    fields_param = _json_value(call, "fields")
    records = _json_value(call, "records")
    if fields_param is not None and not isinstance(fields_param, list):
        raise ValidationProblem(
            "fields はリストです / fields must be a list", errors={"fields": ["Not a list"]}
        )
    if records is not None and not isinstance(records, list):
        raise ValidationProblem(
            "records はリストです / records must be a list", errors={"records": ["Not a list"]}
        )
    fields = service.datastore_create(
        call.session, call.user, resource, fields_param, records,
        _json_value(call, "primary_key"), _json_value(call, "indexes"),
    )  # fmt: skip
    return {
        "resource_id": resource.id,
        "fields": _field_dicts(fields),
        "primary_key": service.primary_key_of(resource),
        "method": "insert",
    }


def datastore_upsert(call: Call) -> Any:
    """Insert or update records by the table's primary key (method: upsert, insert, update)."""
    resource = _datastore_resource(call)
    records = _json_value(call, "records")
    if not isinstance(records, list):
        raise ValidationProblem(
            "records はリストです / records must be a list", errors={"records": ["Missing value"]}
        )
    method = _str(call, "method", "upsert")
    count = service.datastore_upsert(call.session, call.user, resource, records, method)
    return {"resource_id": resource.id, "method": method, "count": count}


def datastore_delete(call: Call) -> Any:
    """Delete rows matching filters, or the whole table without filters."""
    resource = _datastore_resource(call)
    filters = _dict(call, "filters")
    count = service.datastore_delete(call.session, call.user, resource, filters)
    return {"resource_id": resource.id, "filters": filters, "deleted": count}


ACTIONS: dict[str, Handler] = {
    "status_show": status_show,
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
    "license_list": license_list,
    "resource_show": resource_show,
    "help_show": help_show,
    "datastore_search": datastore_search,
    "datastore_search_sql": datastore_search_sql,
    "datastore_info": datastore_info,
    "package_create": package_create,
    "package_update": package_update,
    "package_patch": package_patch,
    "package_delete": package_delete,
    "organization_create": organization_create,
    "group_create": group_create,
    "resource_create": resource_create,
    "resource_update": resource_update,
    "resource_delete": resource_delete,
    "datastore_create": datastore_create,
    "datastore_upsert": datastore_upsert,
    "datastore_delete": datastore_delete,
}
WRITE_ACTIONS = {
    "package_create", "package_update", "package_patch", "package_delete", "organization_create",
    "group_create", "resource_create", "resource_update", "resource_delete", "datastore_create",
    "datastore_upsert", "datastore_delete",
}  # fmt: skip


# --- the envelope --------------------------------------------------------------------------


def _help_url(base_url: str, name: str) -> str:
    return f"{base_url}/api/3/action/help_show?name={name}"


def envelope_error(base_url: str, name: str, status: int, error: dict[str, Any]) -> Response:
    body = {"help": _help_url(base_url, name), "success": False, "error": error}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def problem_to_ckan(exc: ProblemError) -> tuple[int, dict[str, Any]]:
    """Our problems in CKAN's error types and codes."""
    if isinstance(exc, NotFoundProblem):
        return 404, {"__type": "Not Found Error", "message": f"Not found: {exc.detail}"}
    if isinstance(exc, AuthenticationProblem | ForbiddenProblem):
        return 403, {"__type": "Authorization Error", "message": f"Access denied: {exc.detail}"}
    if isinstance(exc, SearchQueryProblem):
        return 409, {
            "__type": "Search Query Error",
            "message": f"Search Query is invalid: {exc.detail}",
        }
    if isinstance(exc, PayloadTooLargeProblem):
        return 413, {"__type": "Bad request", "message": exc.detail}
    error: dict[str, Any] = {"__type": "Validation Error", "message": exc.detail}
    error.update(exc.errors)
    if "report" in exc.extra:
        error["validation_report"] = exc.extra["report"]
    status = exc.status if exc.status in (409, 413, 415) else 409
    return status, error


def ckan_too_large_body(path: str, message: str) -> tuple[bytes, str] | None:
    """The 413 answer for an over-limit upload on a CKAN route (else None)."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            name = path[len(prefix) :]
            body = {
                "help": _help_url("", name),
                "success": False,
                "error": {"__type": "Bad request", "message": message},
            }
            return orjson.dumps(body), "application/json"
    return None


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values[0] if len(values) == 1 else values
    files: dict[str, UploadFile] = {}
    if request.method != "POST":
        return params, files
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_files=10, max_fields=1000)
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[key] = value
            else:
                params[key] = value
        return params, files
    body = await request.body()
    if body.strip():
        try:
            decoded = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _BadRequest("Bad request - JSON Error: the body is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise _BadRequest("Bad request - JSON Error: the body must be a JSON object")
        params.update(decoded)
    return params, files


class _BadRequest(Exception):
    pass


def _run(
    name: str,
    handler: Handler,
    request: Request,
    params: dict[str, Any],
    files: dict[str, UploadFile],
) -> Any:
    settings = settings_of(request)
    db = database_of(request)
    with db.session() as session:
        user = api_user(request, session)
        if name in WRITE_ACTIONS and user is None:
            raise ForbiddenProblem(
                "この操作には APIトークンが必要です（Authorization ヘッダー） / this action needs an "
                "API token in the Authorization header"
            )
        call = Call(
            name=name,
            params=params,
            files=files,
            session=session,
            user=user,
            settings=settings,
            store=files_of(request),
            base_url=str(request.base_url).rstrip("/"),
            database_path=db.engine.url.database or "",
        )
        return handler(call)


def _slots(request: Request) -> asyncio.Semaphore:
    """Database work admitted at once. Requests beyond it wait their turn in order, which
    keeps the slowest answers close to the median under a burst (a thread each would make
    them fight over the interpreter instead)."""
    app_state = request.app.state
    slots: asyncio.Semaphore | None = getattr(app_state, "api_slots", None)
    if slots is None:
        slots = asyncio.Semaphore(settings_of(request).api_concurrency)
        app_state.api_slots = slots
    return slots


def _endpoint(name: str, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        try:
            params, files = await _read_params(request)
            async with _slots(request):
                result = await run_in_threadpool(_run, name, handler, request, params, files)
        except _BadRequest as exc:
            return envelope_error(base, name, 400, {"__type": "Bad request", "message": str(exc)})
        except StarletteHTTPException as exc:  # a body Starlette could not parse
            message = f"Bad request - {exc.detail} / リクエストの本文が読めません"
            return envelope_error(
                base, name, exc.status_code, {"__type": "Bad request", "message": message}
            )
        except ProblemError as exc:
            status, error = problem_to_ckan(exc)
            return envelope_error(base, name, status, error)
        except Exception as exc:
            if type(exc).__name__ == "ClientDisconnect":
                raise
            if "MultiPartException" in type(exc).__name__:
                return envelope_error(
                    base, name, 400, {"__type": "Bad request", "message": f"Bad request - {exc}"}
                )
            raise
        body = {"help": _help_url(base, name), "success": True, "result": result}
        return Response(orjson.dumps(body), media_type="application/json")

    endpoint.__name__ = f"ckan_{name}"
    return endpoint


async def unknown_action(request: Request) -> Response:
    name = request.path_params.get("name", "")
    if name in WRITE_ACTIONS:
        response = envelope_error(
            str(request.base_url).rstrip("/"),
            name,
            405,
            {
                "__type": "Bad request",
                "message": f"{name} は POST で呼んでください / {name} changes data: use POST",
            },
        )
        response.headers["Allow"] = "POST"
        return response
    return envelope_error(
        str(request.base_url).rstrip("/"),
        name,
        400,
        {"__type": "Bad request", "message": f"Bad request - Action name not known: {name}"},
    )


async def api_version(request: Request) -> Response:
    return Response(orjson.dumps({"version": 3}), media_type="application/json")


# --- OpenAPI description of each action ----------------------------------------------------

_STRING = {"type": "string"}
_INT = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_BOOL = {"type": "boolean"}
_QUERY_PARAMS: dict[str, list[tuple[str, dict[str, Any], bool]]] = {
    "package_list": [("limit", {"type": "integer", "minimum": 1, "maximum": 10000}, False), ("offset", _INT, False)],
    "package_show": [("id", _STRING, True)],
    "package_search": [
        ("q", _STRING, False), ("fq", _STRING, False),
        ("rows", {"type": "integer", "minimum": 0, "maximum": 1000}, False), ("start", _INT, False),
        ("sort", _STRING, False), ("facet.field", _STRING, False), ("include_private", _BOOL, False),
    ],
    "organization_list": [("all_fields", _BOOL, False)],
    "organization_show": [("id", _STRING, True), ("include_datasets", _BOOL, False)],
    "group_list": [("all_fields", _BOOL, False)],
    "group_show": [("id", _STRING, True)],
    "tag_list": [("query", _STRING, False), ("all_fields", _BOOL, False)],
    "resource_show": [("id", _STRING, True)],
    "help_show": [("name", _STRING, True)],
    "datastore_search": [
        ("resource_id", _STRING, True), ("filters", _STRING, False), ("q", _STRING, False),
        ("fields", _STRING, False), ("sort", _STRING, False),
        ("limit", {"type": "integer", "minimum": 0, "maximum": datastore.MAX_LIMIT}, False),
        ("offset", _INT, False), ("include_total", _BOOL, False), ("distinct", _BOOL, False),
        ("records_format", {"type": "string", "enum": ["objects", "lists", "csv"]}, False),
    ],
    "datastore_search_sql": [("sql", _STRING, True)],
    "datastore_info": [("id", _STRING, True)],
}  # fmt: skip

_ENVELOPE_SCHEMA = {
    "type": "object",
    "required": ["help", "success"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean"},
        "result": {},
        "error": {"type": "object"},
    },
}


def _openapi_extra(name: str) -> dict[str, Any]:
    params = _QUERY_PARAMS.get(name, [])
    extra: dict[str, Any] = {
        "parameters": [
            {"name": key, "in": "query", "required": required, "schema": schema}
            for key, schema, required in params
        ],
        "responses": {
            "200": {
                "description": "CKAN envelope with success=true",
                "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
            },
            "400": {
                "description": "Bad request",
                "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
            },
            "403": {
                "description": "Authorization Error",
                "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
            },
            "404": {
                "description": "Not Found Error",
                "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
            },
            "409": {
                "description": "Validation Error / Search Query Error",
                "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
            },
        },
    }
    if name in WRITE_ACTIONS:
        extra["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"upload": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
        extra["security"] = [{"ApiToken": []}]
    return extra


def build_router() -> APIRouter:
    router = APIRouter()
    for name, handler in ACTIONS.items():
        endpoint = _endpoint(name, handler)
        methods = ["POST"] if name in WRITE_ACTIONS else ["GET", "POST"]
        summary = (handler.__doc__ or name).strip().splitlines()[0]
        for method in methods:
            router.add_api_route(
                f"/api/3/action/{name}",
                endpoint,
                methods=[method],
                summary=summary,
                tags=["CKAN Action API v3"],
                openapi_extra=_openapi_extra(name),
                operation_id=f"ckan_{name}_{method.lower()}",
                response_class=Response,
            )
        router.add_api_route(
            f"/api/action/{name}", endpoint, methods=["GET", "POST"], include_in_schema=False
        )
    router.add_api_route(
        "/api/3/action/{name}", unknown_action, methods=["GET", "POST"], include_in_schema=False
    )
    router.add_api_route(
        "/api/action/{name}", unknown_action, methods=["GET", "POST"], include_in_schema=False
    )
    router.add_api_route("/api/3", api_version, methods=["GET"], include_in_schema=False)
    return router
