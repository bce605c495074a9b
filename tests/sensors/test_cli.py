"""`cityos sensors ...` as a real process with CITYOS_* settings, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cityos.db import Database, utcnow
from cityos.sensors import service
from tests.test_cli import cityos, env_for


def test_demo_then_check_offline_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    loaded = cityos(env, "sensors", "demo", "--flood", "30")
    assert loaded.returncode == 0, loaded.stderr
    assert "4 sample stations created, 120 flood readings" in loaded.stdout

    later = (utcnow() + timedelta(minutes=30)).isoformat()
    checked = cityos(env, "sensors", "check-offline", "--now", later)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("途絶 / offline") == 4
    assert "野川 大沢（サンプル）" in checked.stdout
    again = cityos(env, "sensors", "check-offline", "--now", later)
    assert "OK: 0 change(s)" in again.stdout  # reported once

    db = Database(database_url)
    try:
        with db.session() as session:
            station = service.get_station(session, "mitaka-nogawa-osawa")
            assert station.offline
            assert service.view_of(session, station).level == 4
    finally:
        db.dispose()
