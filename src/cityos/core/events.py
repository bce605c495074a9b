"""Cross-domain events, delivered to their handlers after the transaction commits.

A service calls ``emit(session, event)``; nothing happens unless the session commits, and
then each handler registered for the event's type runs once. Handlers are wired in one
place (``cityos.app``), never by decorators spread over the code.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

_PENDING = "cityos_pending_events"


@dataclass(frozen=True)
class Event:
    """Base class of every event; subclasses are frozen dataclasses with plain fields."""


@dataclass(frozen=True)
class ResourceDataChanged(Event):
    """A resource's DataStore table was created, replaced, appended or deleted."""

    dataset_id: str
    resource_id: str
    schema_id: str
    change: str


@dataclass(frozen=True)
class ThresholdCrossed(Event):
    """A station's reading went over (direction "up") or back under ("down") a threshold."""

    station_id: str
    station_name: str
    threshold: str  # 水防団待機水位, はん濫注意水位, 避難判断水位, はん濫危険水位 ...
    rank: int  # 1 (lowest) … 4 (highest) in the station's thresholds
    direction: str  # "up" or "down"
    value: float
    unit: str
    observed_at: str  # ISO 8601
    town: str  # 町名 the station watches, "" if unknown


@dataclass(frozen=True)
class SensorOffline(Event):
    """A station has sent nothing for longer than its expected interval (or is back)."""

    station_id: str
    station_name: str
    last_seen: str  # ISO 8601, "" if never
    back_online: bool = False


@dataclass(frozen=True)
class AlertPublished(Event):
    """An alert (or an update or cancellation of one) was published as CAP."""

    alert_id: str
    identifier: str  # the CAP identifier
    msg_type: str  # Alert, Update, Cancel
    level: int  # 警戒レベル 3, 4, 5, or 0 for a plain notice
    hazard: str
    towns: tuple[str, ...]
    headline_ja: str
    headline_en: str
    text_ja: str
    text_en: str
    url: str
    text_easy: str = ""  # やさしい日本語, where staff wrote it


@dataclass(frozen=True)
class ShelterStatusChanged(Event):
    """Staff changed a shelter's live status (opened, closed, crowding, services)."""

    shelter_id: str
    name: str
    is_open: bool
    crowding: str


@dataclass(frozen=True)
class DisasterModeChanged(Event):
    """Disaster mode was switched on (for a hazard and areas) or off."""

    active: bool
    hazard: str
    towns: tuple[str, ...]
    hazard_ja: str = ""  # the hazard's name, for messages (洪水)
    hazard_en: str = ""
    message_ja: str = ""  # what staff wrote for residents
    message_en: str = ""
    since: str = ""  # ISO 8601: when it was switched


@dataclass(frozen=True)
class ReportStatusChanged(Event):
    """Staff moved a citizen report to another status (or merged it into another one).

    ``recipients`` are the e-mail addresses that asked for updates on it: its reporter's and
    those of the duplicates merged into it.
    """

    request_id: int
    service_ja: str
    service_en: str
    from_state: str
    to_state: str
    state_ja: str
    state_en: str
    note: str
    url: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationStatusChanged(Event):
    """Staff moved a resident's online application (電子申請) to another status.

    ``email`` is the applicant's confirmed account address ("" while unconfirmed: no e-mail);
    ``comment`` is what staff wrote for them.
    """

    submission_id: int
    form_ja: str
    form_en: str
    from_status: str
    to_status: str
    status_ja: str
    status_en: str
    comment: str
    url: str
    email: str


Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def deliver(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), []):
            try:
                handler(event)
            except Exception:
                # One failing reaction must not undo the committed change nor stop the others.
                log.exception("event handler %r failed for %r", handler, event)

    def attach(self, factory: sessionmaker[Session]) -> None:
        """Deliver the events of every session made by ``factory`` after it commits."""

        def after_commit(session: Session) -> None:
            pending = session.info.pop(_PENDING, [])
            for item in pending:
                self.deliver(item)

        def after_rollback(session: Session) -> None:
            session.info.pop(_PENDING, None)

        sa_event.listen(factory, "after_commit", after_commit)
        sa_event.listen(factory, "after_soft_rollback", lambda s, _tx: after_rollback(s))


def emit(session: Session, event: Event) -> None:
    session.info.setdefault(_PENDING, []).append(event)
