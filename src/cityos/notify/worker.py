"""The delivery worker: a loop around ``service.deliver_due``, run by the CLI or the web app.

``cityos notify worker`` runs it as its own process (the sturdy way: it keeps sending while
the web site is overloaded); :func:`background_worker` runs the same loop in a thread of the
web app, for a one-machine installation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from cityos.db import Database, utcnow
from cityos.notify import service
from cityos.notify.config import NotifyConfig
from cityos.notify.service import DeliveryCounts
from cityos.settings import Settings

log = logging.getLogger(__name__)

BATCH = 100
# A claimed delivery older than this is from a worker that stopped mid-send: no send takes
# this long (HTTP and SMTP time out well before).
STALE_AFTER = timedelta(minutes=10)


def run_worker(
    db: Database,
    config: NotifyConfig,
    *,
    once: bool = False,
    until_empty: bool = False,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
    limit: int = BATCH,
    report: Callable[[DeliveryCounts], None] | None = None,
) -> DeliveryCounts:
    """Send due deliveries until told to stop.

    ``once``: one batch. ``until_empty``: until nothing is due now (retries scheduled later
    are left for a later run). Otherwise it runs until ``stop`` is set or ``max_seconds`` pass.
    At start, deliveries left ``sending`` by a stopped worker become ``unknown``.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    total = DeliveryCounts()
    with db.session() as session:
        service.recover_interrupted(session, utcnow())
    while not stop.is_set():
        counts = service.deliver_due(db, config, limit=limit, should_stop=stop.is_set)
        total.add(counts)
        if report is not None and counts.claimed:
            report(counts)
        if once:
            break
        with db.session() as session:
            service.recover_interrupted(session, utcnow(), STALE_AFTER)
            more = service.has_due(session, utcnow())
        if until_empty and not more:
            break
        elapsed = time.monotonic() - started
        if max_seconds is not None and elapsed >= max_seconds:
            break
        if not more:
            wait = config.notify_worker_interval
            if max_seconds is not None:
                wait = min(wait, max(0.0, max_seconds - elapsed))
            stop.wait(wait)
    return total


@asynccontextmanager
async def background_worker(db: Database, settings: Settings) -> AsyncIterator[None]:
    """Run the worker in a thread for as long as the app lives (CITYOS_NOTIFY_WORKER_IN_APP).

    In the app's lifespan: ``async with background_worker(db, settings): yield``.
    """
    config = NotifyConfig.from_settings(settings)
    if not config.notify_worker_in_app:
        yield
        return
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_worker(db, config, stop=stop)
            except Exception:
                # A database outage must not end notices for good: wait, then go on.
                log.exception("the notify worker stopped; starting again shortly")
                stop.wait(config.notify_worker_interval)

    thread = threading.Thread(target=loop, name="cityos-notify-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, config.notify_http_timeout * 3 + 5)
