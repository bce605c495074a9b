"""Fixtures: a fresh real database per test (SQLite and PostgreSQL), the app, clients, users.

Each backend's schema is migrated once per test run into a template (a file for SQLite, a
template database for PostgreSQL); every test then gets its own copy, so tests never see each
other's data. PostgreSQL comes from scripts/postgres.sh (``make test`` starts it).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from cityos.app import create_app
from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database, create_db_engine, upgrade_schema
from cityos.settings import Settings

# The address index is built once per data version and shared by every test and worker.
os.environ.setdefault(
    "CITYOS_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"cityos-test-cache-{os.getuid()}")
)

# Notices are delivered by explicit calls in tests (a test that wants the app's own worker
# turns it on): a background thread sending to whatever is on port 25 helps no assertion.
os.environ.setdefault("CITYOS_NOTIFY_WORKER_IN_APP", "false")

BACKENDS = ("sqlite", "postgresql")
ADMIN_PASSWORD = "correct horse battery"
DEMO_DATA = Path(__file__).resolve().parents[1] / "src" / "cityos" / "opendata" / "demo_data"


def postgres_admin_url() -> str:
    url = os.environ.get("CITYOS_TEST_POSTGRES_URL", "")
    if not url:
        pytest.fail(
            "CITYOS_TEST_POSTGRES_URL is not set: run the suite with `make test`, or start the "
            'server with `eval "$(scripts/postgres.sh start)"` first',
            pytrace=False,
        )
    return url


def _pg_connect(url: str) -> psycopg.Connection[Any]:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        dbname=parsed.database,
        autocommit=True,
    )


class DatabaseFactory:
    """Hands out a fresh, migrated database per test, copied from a per-run template."""

    def __init__(self, root: Path, worker: str) -> None:
        self.root = root
        self.worker = worker
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None

    def sqlite_url(self, directory: Path) -> str:
        if self._sqlite_template is None:
            template = self.root / "template.db"
            engine = create_db_engine(f"sqlite:///{template}")
            upgrade_schema(engine)
            engine.dispose()
            self._sqlite_template = template
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "cityos.db"
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    def postgres_url(self) -> str:
        admin = postgres_admin_url()
        if self._pg_template is None:
            name = f"cityos_template_{self.worker}_{os.getpid()}"
            with _pg_connect(admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            engine = create_db_engine(make_url(admin).set(database=name).render_as_string(False))
            upgrade_schema(engine)
            engine.dispose()
            self._pg_template = name
        name = f"cityos_test_{uuid.uuid4().hex[:12]}"
        with _pg_connect(admin) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        return make_url(admin).set(database=name).render_as_string(False)

    def close(self) -> None:
        if self._pg_template is not None:
            with _pg_connect(postgres_admin_url()) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_template}" WITH (FORCE)')

    def drop(self, url: str) -> None:
        if url.startswith("postgresql"):
            name = make_url(url).database
            with _pg_connect(postgres_admin_url()) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def db_factory(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("templates"), worker_id)
    yield factory
    factory.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[str]:
    url = (
        db_factory.sqlite_url(tmp_path / "var")
        if backend == "sqlite"
        else db_factory.postgres_url()
    )
    yield url
    db_factory.drop(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough",
        site_url="http://testserver",
        map_tile_url="",
        max_upload_bytes=5 * 1024 * 1024,
        sql_time_limit_ms=2000,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.db.dispose()


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(db: Database) -> User:
    with db.session() as session:
        return auth.create_user(session, "admin", "admin", ADMIN_PASSWORD, display_name="管理者")


@pytest.fixture
def admin_token(db: Database, admin: User) -> str:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        return auth.issue_token(session, user, "tests")


@pytest.fixture
def auth_headers(admin_token: str) -> dict[str, str]:
    return {"Authorization": admin_token}


def login(client: TestClient, name: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log in through the real form, CSRF token included."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/staff"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer:
    """The app served by uvicorn on a loopback port in a background thread."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


def create_dataset(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "test-dataset", "title": "テストデータ", **fields}
    response = client.post("/api/3/action/package_create", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def upload(
    client: TestClient,
    headers: dict[str, str],
    package_id: str,
    path: Path | None = None,
    *,
    content: bytes | None = None,
    filename: str | None = None,
    **params: str,
) -> Any:
    """resource_create with a file, as ckanapi sends it (multipart)."""
    data = content if content is not None else Path(path or "").read_bytes()
    name = filename or (path.name if path is not None else "data.csv")
    return client.post(
        "/api/3/action/resource_create",
        data={"package_id": package_id, "name": name, **params},
        files={"upload": (name, data, "text/csv")},
        headers=headers,
    )


def load_script(relative: str) -> Any:
    """A script of the repository (scripts/..., benchmarks/...) loaded as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
