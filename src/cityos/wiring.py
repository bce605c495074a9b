"""How the domains react to each other: every event subscription, in one place.

Both the web app and the command line call :func:`connect`, so that what happens after a
change (a notice sent, a snapshot written) is the same wherever the change was made.
"""

from __future__ import annotations

from cityos.core.events import EventBus
from cityos.db import Database
from cityos.settings import Settings


def connect(events: EventBus, db: Database, settings: Settings) -> None:
    """Subscribe the domains' handlers. Handlers run after the change is committed."""
    events.attach(db.sessionmaker)
