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
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
