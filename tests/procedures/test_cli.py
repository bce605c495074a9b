"""`cityos procedures load`, run as a real process on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete

from cityos.db import Database, upgrade_schema
from cityos.procedures import service
from cityos.procedures.models import Procedure
from tests.test_cli import cityos, env_for


def test_load_adds_missing_procedures_and_keeps_staff_edits(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        upgrade_schema(db.engine)
        with db.session() as session:
            session.execute(delete(Procedure).where(Procedure.id == "sodai_gomi"))
            service.get(session, "juminhyo").fee_ja = "1通350円"
        env = env_for(database_url, tmp_path / "data")
        loaded = cityos(env, "procedures", "load")
        assert loaded.returncode == 0, loaded.stderr
        assert "1 procedures added, 44 in the catalog" in loaded.stdout
        with db.session() as session:
            assert service.get(session, "sodai_gomi").name_ja == "粗大ごみの収集申込み"
            assert service.get(session, "juminhyo").fee_ja == "1通350円"
    finally:
        db.dispose()
