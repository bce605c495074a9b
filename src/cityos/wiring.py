"""How the domains react to each other: every event subscription, in one place.

Both the web app and the command line call :func:`connect`, so that what happens after a
change (a notice sent, a snapshot written) is the same wherever the change was made.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from cityos.chatbot import service as chatbot
from cityos.core.events import (
    AlertPublished,
    ApplicationStatusChanged,
    DisasterModeChanged,
    EventBus,
    ReportStatusChanged,
    ResourceDataChanged,
    SensorOffline,
    ShelterStatusChanged,
    ThresholdCrossed,
)
from cityos.db import Database
from cityos.disaster import service as disaster
from cityos.disaster import snapshot
from cityos.mobility import service as mobility
from cityos.notify import service as notify
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

    def river_rose(event: ThresholdCrossed) -> None:
        log.info(
            "%s %s %s (%s%s)", event.station_name, event.threshold, event.direction,
            event.value, event.unit,
        )  # fmt: skip
        notify.on_threshold_crossed(db, event)

    def alert_published(event: AlertPublished) -> None:
        notify.on_alert_published(db, event)

    def mode_changed(event: DisasterModeChanged) -> None:
        notify.on_disaster_mode(db, event, settings.site_url)

    def sensor_silent(event: SensorOffline) -> None:
        state = "back online" if event.back_online else "offline"
        log.warning("sensor %s %s (last seen %s)", event.station_name, state, event.last_seen)

    events.subscribe(ResourceDataChanged, shelters_changed)
    # Alerts and river levels reach residents through the notify domain's channels.
    events.subscribe(AlertPublished, alert_published)
    events.subscribe(ThresholdCrossed, river_rose)
    events.subscribe(DisasterModeChanged, mode_changed)
    # In disaster mode the LINE bot's answers lead with evacuation information.
    notify.set_evacuation_lead(lambda session: disaster.evacuation_lead(session, settings.site_url))
    events.subscribe(SensorOffline, sensor_silent)

    def answer_line_text(session: Session, written: str) -> notify.TextAnswer | None:
        reply = chatbot.chat_reply(
            session, written, channel="line", threshold=settings.chatbot_threshold,
            site_url=settings.site_url,
        )  # fmt: skip
        return None if reply is None else notify.TextAnswer(reply.text, reply.suggestions)

    # A LINE message that is no notice command is a question for the FAQ chatbot.
    notify.set_text_answerer(answer_line_text)

    def report_moved(event: ReportStatusChanged) -> None:
        # A reporter who gave an e-mail address hears of each change of their report.
        notify.on_report_status_changed(db, event)

    events.subscribe(ReportStatusChanged, report_moved)

    def application_moved(event: ApplicationStatusChanged) -> None:
        # An applicant hears of each change of their online application (my page shows it too).
        notify.on_application_status_changed(db, event)

    events.subscribe(ApplicationStatusChanged, application_moved)
    for event_type in (AlertPublished, ShelterStatusChanged, DisasterModeChanged):
        events.subscribe(event_type, write_snapshot)


def open_database() -> tuple[Settings, Database]:
    """Settings and a connected database for command-line work (same reactions as the app)."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    connect(EventBus(), db, settings)
    return settings, db
