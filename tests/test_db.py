"""The database layer: migrations, time zones, both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text

from cityos.core.models import AuditEntry
from cityos.db import Database, current_heads, script_heads


def test_migrations_create_every_table_at_head(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "users",
        "api_tokens",
        "audit_log",
        "datasets",
        "resources",
        "resource_versions",
    } <= tables
    assert current_heads(db.engine) == script_heads()


def test_datetimes_come_back_timezone_aware_in_utc(db: Database) -> None:
    written = dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    with db.session() as session:
        entry = AuditEntry(actor_name="t", action="a", target_type="x", at=written)
        session.add(entry)
        session.flush()
        entry_id = entry.id
    with db.session() as session:
        stored = session.get(AuditEntry, entry_id)
        assert stored is not None
        assert stored.at.tzinfo is not None
        assert stored.at == written
        assert stored.at.utcoffset() == dt.timedelta(0)


def test_postgres_keeps_datastore_tables_in_their_own_schema(db: Database, backend: str) -> None:
    with db.engine.connect() as conn:
        if backend == "postgresql":
            schemas = {row[0] for row in conn.execute(text("SELECT nspname FROM pg_namespace"))}
            assert "datastore" in schemas
        else:
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
            assert mode == "wal"
