"""How the domains react to each other: every event subscription, in one place.

Both the web app and the command line call :func:`connect`, so that what happens after a
change (a notice sent, a snapshot written) is the same wherever the change was made.
"""

from __future__ import annotations

import logging
from typing import Any

from cityos.core.events import (
    AlertPublished,
    DisasterModeChanged,
    EventBus,
    ResourceDataChanged,
    ShelterStatusChanged,
)
from cityos.db import Database
from cityos.disaster import service as disaster
from cityos.disaster import snapshot
from cityos.mobility import service as mobility
from cityos.settings import Settings

log = logging.getLogger(__name__)


def connect(events: EventBus, db: Database, settings: Settings) -> None:
    """Subscribe the domains' handlers. Handlers run after the change is committed."""
    events.attach(db.sessionmaker)

    def write_snapshot(_event: Any) -> None:
        snapshot.on_change(db, settings)

    def shelters_changed(event: ResourceDataChanged) -> None:
        # A shelter dataset was (re)published or a resource deleted: re-read the shelters.
        if event.schema_id not in disaster.SHELTER_SCHEMAS and event.change != "deleted":
            return
        with db.session() as session:
            report = disaster.sync_shelters(session)
        log.info("shelters synced: %s", report)
        snapshot.on_change(db, settings)

    # Walking distances to shelters follow the pedestrian network where one is loaded.
    disaster.set_router(mobility.disaster_router)

    events.subscribe(ResourceDataChanged, shelters_changed)
    for event_type in (AlertPublished, ShelterStatusChanged, DisasterModeChanged):
        events.subscribe(event_type, write_snapshot)


def open_database() -> tuple[Settings, Database]:
    """Settings and a connected database for command-line work (same reactions as the app)."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    connect(EventBus(), db, settings)
    return settings, db
