"""A static copy of disaster information that any web server or CDN can serve.

When the city web site collapses under the traffic of a disaster, these files still answer:
the disaster home page, the status and shelter lists (JSON and GeoJSON), the Atom feed and
every alert's CAP document. They are rewritten after every change (alert, shelter status,
disaster mode), each file replaced atomically, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from threading import Lock
from typing import Any

import orjson

from cityos.db import Database
from cityos.disaster import alerts, public
from cityos.settings import Settings

log = logging.getLogger(__name__)
_lock = Lock()

# Paths of the snapshot, relative to its folder, and the API path each one copies.
STATUS = "api/disaster/status.json"
SHELTERS = "api/disaster/shelters.json"
SHELTERS_GEOJSON = "api/disaster/shelters.geojson"
ATOM = "disaster/alerts.atom"
HOME = "disaster/index.html"


def _write(root: Path, relative: str, data: bytes) -> None:
    path = root / relative
    try:
        if path.read_bytes() == data:
            return  # unchanged: the file (and its ETag) stays as caches know it
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _keep_time_if_unchanged(root: Path, status: dict[str, Any]) -> dict[str, Any]:
    """The status as before, ``generated_at`` included, when nothing else changed: the
    periodic refresh then leaves the files alone instead of a new ETag every minute."""
    try:
        before = orjson.loads((root / STATUS).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return status
    if {**before, "generated_at": None} == {**status, "generated_at": None}:
        return {**status, "generated_at": before.get("generated_at")}
    return status


def write(db: Database, settings: Settings) -> Path:
    """Rewrite the whole snapshot from the database; returns its folder."""
    from cityos.web.templating import environment

    root = settings.resolved_snapshot_dir
    with _lock, db.session() as session:
        status = _keep_time_if_unchanged(root, public.status_document(session, settings))
        _write(root, STATUS, orjson.dumps(status))
        _write(root, SHELTERS, orjson.dumps(public.shelters_document(session)))
        _write(root, SHELTERS_GEOJSON, orjson.dumps(public.shelters_geojson(session)))
        _write(root, ATOM, alerts.atom(session, settings))
        for alert in alerts.recent(session):
            _write(
                root,
                f"disaster/alerts/{alert.id}.cap.xml",
                alerts.render_cap(session, alert, settings),
            )
        html = (
            environment()
            .get_template("disaster/snapshot.html")
            .render(status=status, settings=settings, lang="ja")
        )
        _write(root, HOME, html.encode("utf-8"))
    return root


def on_change(db: Database, settings: Settings) -> None:
    """Event handler: keep the snapshot current; a failure is logged, never raised."""
    try:
        write(db, settings)
    except Exception:
        log.exception("the disaster snapshot could not be written")
