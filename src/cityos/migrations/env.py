"""Alembic environment: runs against the engine City OS hands over (see cityos.db)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

import cityos.chatbot.models
import cityos.core.models
import cityos.disaster.models
import cityos.forms.models
import cityos.notices.models
import cityos.notify.models
import cityos.opendata.models
import cityos.procedures.models
import cityos.reports.models
import cityos.reservations.models
import cityos.residents.models
import cityos.sensors.models
import cityos.sns.models
import cityos.surveys.models
import cityos.voice.models  # noqa: F401  (each registers its tables on Base.metadata)
from cityos.db import Base
from cityos.settings import Settings

target_metadata = Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    return create_engine(Settings().resolved_database_url)


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch operation rebuilds a SQLite table: it copies it, drops the old one and
            # renames the copy. With foreign keys enforced, dropping the old table would
            # cascade-delete the rows that refer to it (the history of applications, a
            # resident's household). The pragma only takes effect outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,
                    compare_type=True,
                )
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
