"""The cityos command, run as a real process with CITYOS_* settings, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from cityos.core import auth
from cityos.db import Database, script_heads
from cityos.opendata.models import Dataset, Resource
from cityos.reports.models import ServiceRequest
from cityos.residents import service as residents
from tests.conftest import DEMO_DATA


def cityos(
    settings_env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "cityos", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
        check=False,
    )


def env_for(database_url: str, data_dir: Path) -> dict[str, str]:
    return {"CITYOS_DATABASE_URL": database_url, "CITYOS_DATA_DIR": str(data_dir)}


def test_db_upgrade_and_user_commands(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    upgraded = cityos(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert all(head in upgraded.stdout for head in script_heads())
    added = cityos(env, "user", "add", "yamada", "--role", "admin", "--password", "yamada-password")
    assert added.returncode == 0, added.stderr
    duplicate = cityos(
        env, "user", "add", "yamada", "--role", "staff", "--password", "another-password"
    )
    assert duplicate.returncode == 1
    assert "既に存在します" in duplicate.stderr
    weak = cityos(env, "user", "add", "kato", "--password", "short")
    assert weak.returncode == 1
    assert "10" in weak.stderr
    listed = cityos(env, "user", "list")
    assert "yamada" in listed.stdout
    assert "admin" in listed.stdout
    token = cityos(env, "user", "token", "yamada").stdout.strip()
    db = Database(database_url)
    with db.session() as session:
        user = auth.user_for_token(session, token)
        assert user is not None
        assert user.name == "yamada"
    db.dispose()


def test_demo_loads_real_data_once_and_honours_the_data_dir(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "elsewhere"
    env = env_for(database_url, data_dir)
    first = cityos(env, "demo")
    assert first.returncode == 0, first.stderr
    assert "12 datasets loaded" in first.stdout
    assert "44 procedures in the catalog" in first.stdout
    assert "citizens' voice: 2 sample consultations" in first.stdout
    assert (data_dir / "demo_admin_password.txt").exists()
    # A resident to log in as: the address and password printed and kept for the owner only.
    email, password = (data_dir / "demo_resident_password.txt").read_text().split()
    assert email == "demo.resident@example.jp"
    assert f"{email} / {password}" in first.stdout
    assert (data_dir / "demo_resident_password.txt").stat().st_mode & 0o077 == 0
    assert any((data_dir / "files").rglob("*"))
    again = cityos(env, "demo")
    assert again.returncode == 0
    assert "0 datasets loaded (12 already there)" in again.stdout
    assert "sample consultations" not in again.stdout
    assert password not in again.stdout  # the account is kept, its password not changed
    assert (data_dir / "demo_resident_password.txt").read_text().split() == [email, password]
    assert "36 sample citizen reports added" in first.stdout
    assert "0 sample citizen reports added" in again.stdout
    db = Database(database_url)
    with db.session() as session:
        names = set(session.scalars(select(Dataset.name)))
        assert "mitaka-emergency-evacuation-sites" in names
        rows = session.scalar(
            select(Resource.row_count).join(Dataset).where(Dataset.name == "mitaka-aed")
        )
        assert rows == 30
        reports = session.scalars(select(ServiceRequest)).all()
        assert len(reports) == 36
        assert all(r.description.startswith("【サンプル】") for r in reports)
        assert {r.state for r in reports} == {"received", "in_progress", "done", "declined"}
        assert sum(1 for r in reports if r.photos) == 12
        resident = residents.log_in(session, email, password)
        assert resident is not None
        assert residents.is_confirmed(resident)
        assert resident.profile is not None
        assert residents.formatted_address(resident.profile).startswith("東京都三鷹市野崎")
        assert [m.relation for m in resident.members] == ["child"]
    db.dispose()


def test_ingest_command_reports_rows_and_errors(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    nobody = cityos(
        env, "opendata", "ingest", str(DEMO_DATA / "wifi_132047_sample.csv"), "--dataset", "x"
    )
    assert nobody.returncode == 1
    assert "cityos user add" in nobody.stderr
    assert (
        cityos(
            env, "user", "add", "loader", "--role", "staff", "--password", "loader-password"
        ).returncode
        == 0
    )
    loaded = cityos(
        env, "opendata", "ingest", str(DEMO_DATA / "bad" / "invalid_values.csv"),
        "--dataset", "aed-cli", "--schema", "aed", "--title", "AED（CLI）", "--user", "loader",
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "8 rows loaded, 4 rows with errors" in loaded.stdout
    assert "line 4" in loaded.stdout
    refused = cityos(
        env, "opendata", "ingest", str(DEMO_DATA / "bad" / "empty.csv"), "--dataset", "aed-cli"
    )
    assert refused.returncode == 1
    assert "空" in refused.stderr
