"""Pages of the open data portal and its staff console. Thin: all logic is in ``service``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cityos.core.errors import NotFoundProblem, ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.web import (
    Pager,
    SessionDep,
    check_csrf,
    database_of,
    files_of,
    require,
    session_user,
    settings_of,
    staff_or_login,
)
from cityos.opendata import ckan, dcat, export, search, service, standards
from cityos.opendata.models import Resource
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
PREVIEW_ROWS = 20
MAP_POINTS = 2000


# --- public pages --------------------------------------------------------------------------


def _search_context(
    request: Request, session: Session, user: User | None, page: int
) -> dict[str, Any]:
    params = request.query_params
    q = params.get("q", "")[:200]
    active = {name: params.getlist(name) for name in search.FACET_FIELDS if params.getlist(name)}
    fq = " ".join(f'{name}:"{value}"' for name, values in active.items() for value in values)
    try:
        result = search.search_datasets(
            session,
            user,
            q=q,
            fq=fq,
            rows=PAGE_SIZE,
            start=(page - 1) * PAGE_SIZE,
            sort=params.get("sort", "") if params.get("sort") in _SORTS else "",
            facet_fields=search.FACET_FIELDS,
            include_private=user is not None,
        )
    except ValidationProblem:
        result = search.SearchResult(0, [], {})
    orgs = {o.name: o for o in service.list_organizations(session)}
    groups = {g.name: g for g in service.list_groups(session)}
    schemas = standards.all_schemas()

    def label(name: str, value: str) -> tuple[str, str]:
        if name == "organization" and value in orgs:
            return orgs[value].title, orgs[value].title_en or orgs[value].title
        if name == "groups" and value in groups:
            return groups[value].title, groups[value].title_en or groups[value].title
        if name == "schema" and value in schemas:
            return schemas[value].title, schemas[value].title_en
        if name == "license_id":
            return service.LICENSES.get(value, (value, ""))[0], value
        return value, value

    facets = []
    for name in ("organization", "groups", "tags", "res_format", "schema", "license_id"):
        items = []
        for value, count in result.facets.get(name, Counter()).most_common(15):
            selected = value in active.get(name, [])
            toggled = _toggle(params, name, value)
            items.append(
                {
                    "value": value,
                    "label": label(name, value),
                    "count": count,
                    "selected": selected,
                    "href": toggled,
                }
            )
        facets.append({"name": name, "items": items})
    return {
        "q": q,
        "result": result,
        "packages": [ckan.package_dict(d) for d in result.datasets],
        "facets": facets,
        "pager": Pager.of(request, page, PAGE_SIZE, result.count),
        "sort": params.get("sort", ""),
        "active": active,
    }


_SORTS = {"metadata_modified desc", "title_string asc", "name asc"}


def _toggle(params: Any, name: str, value: str) -> str:
    pairs = [(k, v) for k, v in params.multi_items() if k != "page"]
    if (name, value) in pairs:
        pairs.remove((name, value))
    else:
        pairs.append((name, value))
    return "/dataset?" + urlencode(pairs) if pairs else "/dataset"


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    user = session_user(request, session)
    context = _search_context(request, session, user, 1)
    context["groups"] = service.list_groups(session)
    context["user"] = user
    return render(request, "opendata/home.html", context)


@router.get("/dataset")
def dataset_search(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=10000)] = 1
) -> Response:
    user = session_user(request, session)
    context = _search_context(request, session, user, page)
    context["user"] = user
    return render(request, "opendata/search.html", context)


@router.get("/dataset/{name}.jsonld")
def dataset_jsonld(request: Request, name: str, session: SessionDep) -> Response:
    dataset = service.get_dataset(session, name, session_user(request, session))
    body = dcat.dataset_document(settings_of(request).site_url.rstrip("/"), dataset)
    return Response(orjson.dumps(body), media_type="application/ld+json")


@router.get("/dataset/{name}")
def dataset_page(request: Request, name: str, session: SessionDep) -> Response:
    user = session_user(request, session)
    dataset = service.get_dataset(session, name, user)
    package = ckan.package_dict(dataset)
    schema = standards.get_schema(dataset.schema_id)
    return render(
        request,
        "opendata/dataset.html",
        {
            "dataset": dataset,
            "package": package,
            "schema": schema,
            "license": service.LICENSES.get(dataset.license_id, (dataset.license_id, "")),
            "frequency": service.FREQUENCIES.get(dataset.frequency, ("", "")),
            "user": user,
        },
    )


@router.get("/dataset/{name}/resource/{resource_id}")
def resource_page(request: Request, name: str, resource_id: str, session: SessionDep) -> Response:
    user = session_user(request, session)
    resource = service.get_resource(session, resource_id, user)
    dataset = resource.dataset
    if name not in (dataset.name, dataset.id):
        raise NotFoundProblem("リソースが見つかりません / resource not found")
    preview: dict[str, Any] | None = None
    points: list[dict[str, Any]] = []
    fields = service.fields_of(resource)
    if resource.datastore_active:
        from cityos.opendata import datastore

        conn = session.connection()
        found = datastore.search(
            conn,
            resource.id,
            fields,
            datastore.SearchQuery({}, None, None, [("_id", "asc")], PREVIEW_ROWS, 0, False, False),
        )
        preview = {"columns": found["columns"], "rows": found["rows"]}
        if resource.lat_field:
            points = _map_points(conn, resource, fields)
    site = settings_of(request).site_url.rstrip("/")
    return render(
        request,
        "opendata/resource.html",
        {
            "dataset": dataset,
            "resource": resource,
            "fields": fields,
            "preview": preview,
            "points_json": json.dumps(points, ensure_ascii=False).replace("</", "<\\/"),
            "point_count": len(points),
            "site": site,
            "user": user,
            "latest": resource.versions[-1] if resource.versions else None,
            "schema": standards.get_schema(dataset.schema_id),
        },
    )


def _map_points(conn: Any, resource: Resource, fields: list[Any]) -> list[dict[str, Any]]:
    from cityos.opendata import datastore

    name_field = next(
        (
            f.name
            for f in fields
            if standards.header_key(f.name) in ("名称", "イベント名", "施設名", "name")
        ),
        next((f.name for f in fields if f.type == "text"), None),
    )
    wanted = [resource.lat_field, resource.lon_field] + ([name_field] if name_field else [])
    found = datastore.search(
        conn,
        resource.id,
        fields,
        datastore.SearchQuery({}, None, wanted, [("_id", "asc")], MAP_POINTS, 0, False, False),
    )
    points = []
    for row in found["rows"]:
        if row[0] is None or row[1] is None:
            continue
        points.append(
            {
                "lat": float(row[0]),
                "lon": float(row[1]),
                "name": str(row[2]) if len(row) > 2 and row[2] else "",
            }
        )
    return points


@router.get("/dataset/{dataset_id}/resource/{resource_id}/download/{filename}")
def download_latest(
    request: Request, dataset_id: str, resource_id: str, filename: str, session: SessionDep
) -> Response:
    return _download_version(request, session, resource_id, None)


@router.get("/dataset/{dataset_id}/resource/{resource_id}/version/{number}/download/{filename}")
def download_version(
    request: Request,
    dataset_id: str,
    resource_id: str,
    number: int,
    filename: str,
    session: SessionDep,
) -> Response:
    return _download_version(request, session, resource_id, number)


def _download_version(
    request: Request, session: Session, resource_id: str, number: int | None
) -> Response:
    resource = service.get_resource(session, resource_id, session_user(request, session))
    version = service.version_of(resource, number)
    path = files_of(request).path_for(version.file_hash)
    if not path.exists():
        raise NotFoundProblem("ファイルが見つかりません / the stored file is missing")

    def chunks() -> Any:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    disposition = f"attachment; filename*=UTF-8''{_quote(version.filename)}"
    return StreamingResponse(
        chunks(),
        media_type=version.media_type,
        headers={"Content-Disposition": disposition, "Content-Length": str(version.size)},
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get("/datastore/dump/{resource_id}")
def datastore_dump(
    request: Request,
    resource_id: str,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(csv|json|geojson|tsv)$")] = "csv",
    encoding: Annotated[str, Query(pattern="^(utf-8|shift_jis)$")] = "utf-8",
) -> Response:
    """CKAN's dump URL: the whole table as CSV (UTF-8 BOM or Shift_JIS), JSON or GeoJSON."""
    resource = service.get_resource(session, resource_id, session_user(request, session))
    if not resource.datastore_active:
        raise NotFoundProblem("このリソースにはデータストアの表がありません / no DataStore table")
    fields = service.fields_of(resource)
    engine = database_of(request).engine
    base = resource.name.rsplit(".", 1)[0] or resource.id
    if format == "geojson":
        if not resource.lat_field:
            raise ValidationProblem(
                "このデータには座標がありません / this table has no coordinates"
            )
        body = export.geojson_chunks(
            engine, resource.id, fields, resource.lat_field, resource.lon_field
        )
        media, suffix = export.EXPORT_FORMATS["geojson"]
    elif format == "json":
        body = export.json_chunks(engine, resource.id, fields)
        media, suffix = export.EXPORT_FORMATS["json"]
    else:
        body = export.csv_chunks(engine, resource.id, fields, encoding)
        media, suffix = export.EXPORT_FORMATS["csv-sjis" if encoding == "shift_jis" else "csv"]
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(base + suffix)}"},
    )


@router.get("/catalog.jsonld")
def catalog_jsonld(request: Request, session: SessionDep) -> Response:
    settings = settings_of(request)
    found = search.search_datasets(session, None, rows=100000)
    body = dcat.catalog_document(
        settings.site_url.rstrip("/"), settings.city_name_ja, settings.city_name_en, found.datasets
    )
    return Response(orjson.dumps(body), media_type="application/ld+json")


@router.get("/organization")
def organizations_page(request: Request, session: SessionDep) -> Response:
    user = session_user(request, session)
    counts = search.organization_dataset_counts(session, user)
    orgs = [(o, counts.get(o.id, 0)) for o in service.list_organizations(session)]
    return render(request, "opendata/organizations.html", {"orgs": orgs, "user": user})


@router.get("/organization/{name}")
def organization_page(name: str, request: Request) -> Response:
    service_name = name.replace('"', "")
    return RedirectResponse(
        f"/dataset?{urlencode({'organization': service_name})}", status_code=303
    )


@router.get("/group")
def groups_page(request: Request, session: SessionDep) -> Response:
    user = session_user(request, session)
    found = search.search_datasets(session, user, rows=0, facet_fields=["groups"])
    groups = [(g, found.facets["groups"].get(g.name, 0)) for g in service.list_groups(session)]
    return render(request, "opendata/groups.html", {"groups": groups, "user": user})


@router.get("/group/{name}")
def group_page(name: str) -> Response:
    return RedirectResponse(f"/dataset?{urlencode({'groups': name})}", status_code=303)


@router.get("/standards")
def standards_page(request: Request, session: SessionDep) -> Response:
    return render(
        request, "opendata/standards.html", {"schemas": standards.all_schemas()}, session=session
    )


@router.get("/standards/{schema_id}")
def standard_page(request: Request, schema_id: str, session: SessionDep) -> Response:
    schema = standards.get_schema(schema_id)
    if schema is None:
        raise NotFoundProblem(f"標準スキーマ {schema_id!r} はありません / unknown schema")
    rows = [
        {
            "name": c,
            "kind": standards.kind_of(schema.canonical(c)),
            "required": standards.is_required(schema, c),
        }
        for c in schema.layouts[0].columns
    ]
    return render(
        request,
        "opendata/standard.html",
        {"schema": schema, "rows": rows, "official": schema.layouts[1].columns},
        session=session,
    )


@router.get("/developers")
def developers_page(request: Request, session: SessionDep) -> Response:
    example = search.search_datasets(session, None, rows=1, fq="res_format:CSV")
    resource = None
    if example.datasets:
        resource = next((r for r in example.datasets[0].resources if r.datastore_active), None)
    return render(
        request,
        "opendata/developers.html",
        {"site": settings_of(request).site_url.rstrip("/"), "example": resource},
        session=session,
    )


@router.get("/about")
def about_page(request: Request, session: SessionDep) -> Response:
    return render(request, "opendata/about.html", {}, session=session)


# --- staff console -------------------------------------------------------------------------


@router.get("/staff")
def staff_home(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    found = search.search_datasets(
        session, user, rows=1000, sort="metadata_modified desc", include_private=True
    )
    return render(request, "opendata/staff_home.html", {"user": user, "datasets": found.datasets})


def _form_context(
    session: Session, user: User, values: dict[str, Any], errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {
        "user": user,
        "values": values,
        "errors": errors or {},
        "orgs": service.list_organizations(session),
        "groups": service.list_groups(session),
        "licenses": service.LICENSES,
        "frequencies": service.FREQUENCIES,
        "schemas": standards.all_schemas(),
    }


@router.get("/staff/datasets/new")
def new_dataset_form(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "catalog.write")
    if isinstance(user, Response):
        return user
    return render(
        request,
        "opendata/staff_dataset_form.html",
        _form_context(session, user, {"license_id": "CC-BY-4.0"}),
    )


def _dataset_form_data(form: Any) -> dict[str, Any]:
    # Fields the form did not send stay as they are; checkboxes absent mean "off", as in HTML.
    data: dict[str, Any] = {
        key: form[key]
        for key in (
            "name", "title", "title_en", "notes", "notes_en", "owner_org", "license_id", "frequency",
            "spatial", "temporal_start", "temporal_end", "schema", "maintainer", "maintainer_email",
        )
        if key in form
    }  # fmt: skip
    data["tags"] = [
        t.strip() for t in str(form.get("tags", "")).replace("、", ",").split(",") if t.strip()
    ]
    data["groups"] = form.getlist("groups")
    data["private"] = form.get("private") == "on"
    return data


@router.post("/staff/datasets/new")
async def create_dataset_submit(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_save_dataset_sync, request, None, form)


def _save_dataset_sync(request: Request, name: str | None, form: Any) -> Response:
    """Create (name None) or update a dataset from the form; errors show on the form again."""
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        data = _dataset_form_data(form)
        current = service.get_dataset(session, name, user) if name else None
        try:
            with session.begin_nested():
                if name is None:
                    dataset = service.create_dataset(session, user, data)
                else:
                    dataset = service.update_dataset(session, user, name, data, patch=True)
        except ValidationProblem as exc:
            values = {**data, "tags": ", ".join(data["tags"])}
            context = _form_context(session, user, values, exc.errors)
            context["error"] = exc.detail
            context["dataset"] = current
            return render(request, "opendata/staff_dataset_form.html", context, status=422)
        return RedirectResponse(f"/staff/datasets/{dataset.name}", status_code=303)


@router.get("/staff/datasets/{name}")
def staff_dataset(request: Request, name: str, session: SessionDep) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    dataset = service.get_dataset(session, name, user)
    return render(
        request,
        "opendata/staff_dataset.html",
        {"user": user, "dataset": dataset, "schema": standards.get_schema(dataset.schema_id)},
    )


@router.get("/staff/datasets/{name}/edit")
def edit_dataset_form(request: Request, name: str, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "catalog.write")
    if isinstance(user, Response):
        return user
    dataset = service.get_dataset(session, name, user)
    values = {
        **{
            k: getattr(dataset, k)
            for k in (
                "name",
                "title",
                "title_en",
                "notes",
                "notes_en",
                "license_id",
                "frequency",
                "spatial",
                "temporal_start",
                "temporal_end",
                "maintainer",
                "maintainer_email",
                "private",
            )
        },
        "owner_org": dataset.owner_org or "",
        "schema": dataset.schema_id,
        "tags": ", ".join(t.name for t in dataset.tags),
        "groups": [g.name for g in dataset.groups],
    }
    context = _form_context(session, user, values)
    context["dataset"] = dataset
    return render(request, "opendata/staff_dataset_form.html", context)


@router.post("/staff/datasets/{name}/edit")
async def edit_dataset_submit(request: Request, name: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_save_dataset_sync, request, name, form)


@router.post("/staff/datasets/{name}/delete")
def delete_dataset_submit(
    request: Request, name: str, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    service.delete_dataset(session, user, name)
    return RedirectResponse("/staff", status_code=303)


@router.post("/staff/datasets/{name}/upload")
async def upload_submit(request: Request, name: str) -> Response:
    """A new resource from a file (resource_id empty) or a new version of one."""
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    # request.form() gives Starlette's UploadFile; FastAPI's is a subclass it is not an instance of.
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await run_in_threadpool(
            _upload_error, request, name, "ファイルを選んでください / choose a file", 422
        )
    files = files_of(request)
    settings = settings_of(request)
    try:
        digest, size, path = await run_in_threadpool(
            files.put, upload.file, max_bytes=settings.max_upload_bytes
        )
    except ProblemError as exc:
        return await run_in_threadpool(_upload_error, request, name, exc.detail, exc.status)
    stored = service.UploadedFile(path, upload.filename, digest, size)
    return await run_in_threadpool(_upload_sync, request, name, form, stored)


def _upload_sync(request: Request, name: str, form: Any, stored: service.UploadedFile) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, "catalog.write")
        dataset = service.get_dataset(session, name, user)
        resource_id = str(form.get("resource_id") or "")
        try:
            with session.begin_nested():
                if resource_id:
                    resource = service.get_resource(session, resource_id, user)
                else:
                    resource = service.create_resource(
                        session,
                        user,
                        dataset.id,
                        {"name": str(form.get("resource_name") or stored.filename)},
                    )
                version = service.upload_file(
                    session,
                    user,
                    resource,
                    stored,
                    files_of(request),
                    site_url=settings.site_url,
                    mode=str(form.get("mode") or "replace"),
                    encoding=str(form.get("encoding") or "") or None,
                )
        except ProblemError as exc:
            report = exc.extra.get("report")
            context = {
                "user": user,
                "dataset": dataset,
                "schema": standards.get_schema(dataset.schema_id),
                "error": exc.detail,
                "failed_report": report,
            }
            return render(request, "opendata/staff_dataset.html", context, status=exc.status)
        return RedirectResponse(
            f"/staff/resources/{resource.id}/versions/{version.number}", status_code=303
        )


def _upload_error(request: Request, name: str, message: str, status: int) -> Response:
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        dataset = service.get_dataset(session, name, user)
        context = {
            "user": user,
            "dataset": dataset,
            "schema": standards.get_schema(dataset.schema_id),
            "error": message,
        }
        return render(request, "opendata/staff_dataset.html", context, status=status)


@router.get("/staff/organizations")
def publishers_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "catalog.write")
    if isinstance(user, Response):
        return user
    return render(request, "opendata/staff_publishers.html", _publishers_context(session, user))


def _publishers_context(session: Session, user: User, **extra: Any) -> dict[str, Any]:
    counts = search.organization_dataset_counts(session, user)
    found = search.search_datasets(
        session, user, rows=0, facet_fields=["groups"], include_private=True
    )
    return {
        "user": user,
        "orgs": [(o, counts.get(o.id, 0)) for o in service.list_organizations(session)],
        "groups": [
            (g, found.facets["groups"].get(g.name, 0)) for g in service.list_groups(session)
        ],
        **extra,
    }


@router.post("/staff/organizations")
async def publisher_submit(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_publisher_sync, request, form)


def _publisher_sync(request: Request, form: Any) -> Response:
    """Add an organization (kind=organization) or a group (kind=group)."""
    with database_of(request).session() as session:
        user = staff_or_login(request, session)
        if isinstance(user, Response):
            return user
        check_csrf(request, form.get("csrf_token"))
        require(user, "catalog.write")
        kind = "group" if form.get("kind") == "group" else "organization"
        data = {k: str(form.get(k, "")) for k in ("name", "title", "title_en", "description")}
        create = service.create_group if kind == "group" else service.create_organization
        try:
            with session.begin_nested():
                create(session, user, data)
        except ValidationProblem as exc:
            context = _publishers_context(
                session, user, error=exc.detail, errors=exc.errors, kind=kind, values=data
            )
            return render(request, "opendata/staff_publishers.html", context, status=422)
        return RedirectResponse("/staff/organizations", status_code=303)


@router.post("/staff/resources/{resource_id}/delete")
def delete_resource_submit(
    request: Request, resource_id: str, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    resource = service.get_resource(session, resource_id, user)
    dataset_name = resource.dataset.name
    service.delete_resource(session, user, resource_id)
    return RedirectResponse(f"/staff/datasets/{dataset_name}", status_code=303)


@router.get("/staff/resources/{resource_id}/versions/{number}")
def version_report(
    request: Request, resource_id: str, number: int, session: SessionDep
) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    resource = service.get_resource(session, resource_id, user)
    version = service.version_of(resource, number)
    return render(
        request,
        "opendata/staff_report.html",
        {
            "user": user,
            "resource": resource,
            "dataset": resource.dataset,
            "version": version,
            "report": version.report,
        },
    )
