"""Serve the busiest disaster documents straight from the static snapshot.

In a disaster everyone asks for the same few documents at once. This ASGI middleware sits
in front of the whole app and answers GET requests for them with the snapshot's bytes (kept
in memory while the file is unchanged), with an ETag and a short cache lifetime, without
touching the database. Every worker process serves the same files, so they always agree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cityos.disaster import snapshot

ROUTES: dict[str, tuple[str, bytes]] = {
    "/api/disaster/status": (snapshot.STATUS, b"application/json"),
    "/api/disaster/status.json": (snapshot.STATUS, b"application/json"),
    "/api/disaster/shelters": (snapshot.SHELTERS, b"application/json"),
    "/api/disaster/shelters.json": (snapshot.SHELTERS, b"application/json"),
    "/api/disaster/shelters.geojson": (snapshot.SHELTERS_GEOJSON, b"application/geo+json"),
    "/disaster/alerts.atom": (snapshot.ATOM, b"application/atom+xml"),
    "/disaster/index.html": (snapshot.HOME, b"text/html"),
}


class _Cached:
    __slots__ = ("body", "etag", "stamp")

    def __init__(self, body: bytes, stamp: tuple[int, int]) -> None:
        self.body = body
        self.stamp = stamp
        self.etag = (
            b'"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20].encode() + b'"'
        )


class SnapshotFastPath:
    def __init__(self, app: Any, root: Path, ensure: Callable[[], None]) -> None:
        self.app = app
        self.root = root
        self.ensure = ensure  # writes the snapshot when it is missing
        self.cache: dict[str, _Cached] = {}

    def _load(self, relative: str) -> _Cached | None:
        path = self.root / relative
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self.ensure()
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self.cache.get(relative)
        if cached is None or cached.stamp != stamp:
            cached = _Cached(path.read_bytes(), stamp)
            self.cache[relative] = cached
        return cached

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        cached = self._load(route[0])
        if cached is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", route[1] + b"; charset=utf-8"),
            (b"cache-control", b"public, max-age=5"),
            (b"etag", cached.etag),
            (b"access-control-allow-origin", b"*"),
        ]
        if_none = next((v for k, v in scope.get("headers", []) if k == b"if-none-match"), None)
        if if_none == cached.etag:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(cached.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else cached.body
        await send({"type": "http.response.body", "body": body})
