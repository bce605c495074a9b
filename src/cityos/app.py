"""create_app(settings) -> the ASGI app, wiring every domain from one explicit list."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import swagger_ui_bundle
import xstatic.pkg.leaflet
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from cityos import __version__, wiring
from cityos.address import api as address_api
from cityos.chatbot import api as chatbot_api
from cityos.chatbot import pages as chatbot_pages
from cityos.chatbot import service as chatbot_service
from cityos.core import pages as core_pages
from cityos.core.errors import PROBLEM_MEDIA_TYPE, ProblemError
from cityos.core.events import EventBus
from cityos.core.uploads import BodySizeLimitMiddleware, FileStore, problem_body
from cityos.core.web import validation_message
from cityos.db import Database
from cityos.disaster import api as disaster_api
from cityos.disaster import pages as disaster_pages
from cityos.disaster import service as disaster_service
from cityos.disaster import snapshot
from cityos.disaster.fastpath import SnapshotFastPath
from cityos.forms import api as forms_api
from cityos.forms import pages as forms_pages
from cityos.notices import pages as notices_pages
from cityos.notify import api as notify_api
from cityos.notify import pages as notify_pages
from cityos.notify import worker as notify_worker
from cityos.opendata import api as opendata_api
from cityos.opendata import pages as opendata_pages
from cityos.procedures import api as procedures_api
from cityos.procedures import pages as procedures_pages
from cityos.reports import api as reports_api
from cityos.reports import pages as reports_pages
from cityos.reports import service as reports_service
from cityos.reservations import api as reservations_api
from cityos.reservations import pages as reservations_pages
from cityos.residents import pages as residents_pages
from cityos.residents import sessions as resident_sessions
from cityos.sensors import api as sensors_api
from cityos.sensors import pages as sensors_pages
from cityos.sensors import service as sensors_service
from cityos.settings import Settings
from cityos.sns import api as sns_api
from cityos.sns import pages as sns_pages
from cityos.surveys import pages as surveys_pages
from cityos.voice import api as voice_api
from cityos.voice import pages as voice_pages
from cityos.web.templating import render

log = logging.getLogger(__name__)
SESSION_MAX_AGE = 8 * 3600
SNAPSHOT_REFRESH_S = 60.0
SENSOR_CHECK_S = 60.0


async def _every(seconds: float, work: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(work)
        except Exception:
            # A database hiccup must not end the periodic work for good.
            log.exception("periodic %s failed; trying again in %s s", work.__name__, seconds)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/ngsi-ld/", "/open311/")) or path.endswith((".json", ".jsonld")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _problem_response(request: Request, exc: ProblemError) -> Response:
    if _wants_json(request):
        body = orjson.dumps(exc.to_problem(request.url.path))
        return Response(
            body, status_code=exc.status, media_type=PROBLEM_MEDIA_TYPE, headers=exc.headers
        )
    return render(
        request,
        "error.html",
        {"title": exc.title, "message": exc.detail},
        status=exc.status,
        headers=exc.headers,
    )


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    titles = {404: "Not found / 見つかりません", 405: "Method not allowed / 使えない操作です"}
    detail = {
        404: "ページが見つかりません / page not found",
        400: "リクエストの本文が読めません（JSON の誤り） / the request body could not be parsed",
    }.get(exc.status_code, str(exc.detail))
    problem = ProblemError(detail, status=exc.status_code)
    problem.title = titles.get(exc.status_code, problem.title)
    problem.type_slug = {404: "not-found", 405: "method-not-allowed"}.get(
        exc.status_code, "http-error"
    )
    if reports_api.handles(request.url.path):
        # Open311 clients read the specification's error list, whatever went wrong.
        response = reports_api.http_error(request.url.path, exc.status_code)
    else:
        response = _problem_response(request, problem)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        # A path may be served by several routes (one per method): list them all.
        methods = {
            method
            for route in request.app.routes
            if isinstance(route, APIRoute) and route.path_regex.match(request.url.path)
            for method in route.methods or ()
        }
        response.headers["Allow"] = ", ".join(sorted(methods))
    return response


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        # A body that may take several shapes names the shape first ("ModeIn.hazard"):
        # the client wants the field.
        location = ".".join(
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "query") and not (str(part)[:1].isupper())
        )
        errors.setdefault(location or "request", []).append(validation_message(error))
    fields = ", ".join(errors)
    problem = ProblemError(
        f"入力内容に誤りがあります: {fields} / invalid request parameters: {fields}",
        errors=errors,
        status=422,
    )
    problem.type_slug = "validation"
    problem.title = "Invalid input / 入力内容に誤りがあります"
    return _problem_response(request, problem)


async def _swagger_page(request: Request) -> Response:
    """Swagger UI served from the swagger-ui-bundle package: no CDN."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Mitaka City OS API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )


def _too_large_body(path: str, message: str) -> tuple[bytes, str]:
    return (
        opendata_api.ckan_too_large_body(path, message)
        or sensors_api.ngsi_too_large_body(path, message)
        or reports_api.too_large_body(path, message)
        or problem_body(path, message)
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    events = EventBus()
    wiring.connect(events, db, settings)

    def write_snapshot() -> None:
        snapshot.on_change(db, settings)

    def check_sensors() -> None:
        with db.session() as session:
            sensors_service.check_offline(session)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(write_snapshot)
        # The chatbot's index is built in a thread: serving starts at once, and a question
        # asked before it is ready waits for this build rather than starting its own.
        chatbot_service.warm_index(db.engine)
        # Alerts expire by the clock, not by an edit: refresh the static copy every minute.
        # Sensors fall silent by the clock too: look for stations past their interval.
        tasks = [
            asyncio.create_task(_every(SNAPSHOT_REFRESH_S, write_snapshot)),
            asyncio.create_task(_every(SENSOR_CHECK_S, check_sensors)),
        ]
        try:
            # Queued notices leave from a worker thread for as long as the app runs.
            async with notify_worker.background_worker(db, settings):
                yield
        finally:
            for task in tasks:
                task.cancel()
            db.dispose()

    app = FastAPI(
        title="Mitaka City OS API",
        version=__version__,
        description=(
            "三鷹市 City OS の公開API。オープンデータは CKAN Action API v3 互換です。\n\n"
            "Open APIs of Mitaka City OS. The open data catalog speaks the CKAN Action API v3."
        ),
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.events = events
    app.state.files = FileStore(settings.files_dir)
    app.state.rate_limiters = {}
    # What every page shows whatever its domain: the disaster-mode banner.
    app.state.page_context = [disaster_pages.banner_context]

    app.add_exception_handler(ProblemError, _problem_response)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    # Resident pages raise this rather than each returning its own redirect to login.
    app.add_exception_handler(resident_sessions.SignInRequired, resident_sessions.sign_in_redirect)

    # Domains, in one explicit list: (JSON API routers, page routers).
    app.include_router(opendata_api.build_router())
    app.include_router(address_api.router)
    app.include_router(sensors_api.router)
    app.include_router(disaster_api.router)
    app.include_router(notify_api.router)
    app.include_router(sns_api.router)
    app.include_router(reports_api.build_router(settings))
    app.include_router(procedures_api.router)
    app.include_router(forms_api.router)
    app.include_router(reservations_api.router)
    app.include_router(voice_api.router)
    app.include_router(chatbot_api.router)
    app.include_router(reports_api.staff_router)
    app.include_router(core_pages.router)
    app.include_router(opendata_pages.router)
    app.include_router(disaster_pages.router)
    app.include_router(sensors_pages.router)
    app.include_router(notify_pages.router)
    app.include_router(sns_pages.router)
    app.include_router(procedures_pages.router)
    app.include_router(residents_pages.router)
    app.include_router(surveys_pages.router)
    app.include_router(notices_pages.router)
    app.include_router(forms_pages.router)
    app.include_router(reservations_pages.router)
    app.include_router(voice_pages.router)
    app.include_router(chatbot_pages.router)
    app.include_router(reports_pages.router)

    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        # The city's towns are data: name them in the schema where a body takes towns.
        if app.openapi_schema is None:
            towns = disaster_service.city_towns(settings.city_name_ja)
            schema = disaster_api.document_towns(build_schema(), towns)
            places = reports_service.city_towns(settings.city_name_ja)
            app.openapi_schema = reports_api.document_places(schema, sorted(places))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_api_route("/docs", _swagger_page, include_in_schema=False)
    app.mount(
        "/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger"
    )
    app.mount(
        "/static/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), name="leaflet"
    )
    static_dir = Path(str(resources.files("cityos.web") / "static"))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key,
        session_cookie="cityos_session",
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-CKAN-API-Key"],
        allow_credentials=False,
    )
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes, body_for=_too_large_body
    )
    # Outermost: the busiest disaster documents come from the static snapshot.
    app.add_middleware(SnapshotFastPath, root=settings.resolved_snapshot_dir, ensure=write_snapshot)
    return app
