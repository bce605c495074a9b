"""`cityos reports issue-key` and `revoke-key`, run as a real process on both databases."""

from __future__ import annotations

from pathlib import Path

from cityos.db import Database
from cityos.reports import service
from tests.test_cli import cityos, env_for


def test_issue_and_revoke_an_api_key(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    issued = cityos(env, "reports", "issue-key", "mitaka-app", "--contact", "dev@example.org")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    db = Database(database_url)
    try:
        with db.session() as session:
            assert service.poster_for_key(session, key) == "key:mitaka-app"
        revoked = cityos(env, "reports", "revoke-key", "mitaka-app")
        assert revoked.returncode == 0, revoked.stderr
        assert "1 key(s) revoked" in revoked.stdout
        with db.session() as session:
            assert service.poster_for_key(session, key) is None
    finally:
        db.dispose()
