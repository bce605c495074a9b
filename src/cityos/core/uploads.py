"""Uploaded files: a size limit enforced while the body streams in, and a content-hash store."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from cityos.core.errors import PayloadTooLargeProblem

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


# What the first bytes of a file of each type are (so a renamed program is refused).
FILE_MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


def too_large_message(limit: int) -> str:
    return (
        f"アップロードできるのは {limit / 1024 / 1024:.0f} MB までです / "
        f"uploads are limited to {limit / 1024 / 1024:.0f} MB"
    )


class BodySizeLimitMiddleware:
    """Answers 413 as soon as a request body is known to exceed the configured limit.

    A declared Content-Length is checked before anything is read; a streamed (chunked) body
    is counted as it arrives and the app sees a disconnect once it passes the limit, so a
    2 GB upload never reaches the disk.
    """

    def __init__(
        self, app: Any, max_bytes: int, body_for: Callable[[str, str], tuple[bytes, str]]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path, message) → the body in the route's error format, and its media type
        self.body_for = body_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        body, media_type = self.body_for(scope.get("path", ""), too_large_message(self.max_bytes))
        media = media_type.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media + b"; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def problem_body(_path: str, message: str) -> tuple[bytes, str]:
    return orjson.dumps(PayloadTooLargeProblem(message).to_problem()), "application/problem+json"


class FileStore:
    """Files kept under DATA_DIR/files, named by their SHA-256 so equal uploads are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, source: IO[bytes], *, max_bytes: int | None = None) -> tuple[str, int, Path]:
        """Copy ``source`` into the store; returns (sha256, size, path)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise PayloadTooLargeProblem(too_large_message(max_bytes))
                    digest.update(chunk)
                    out.write(chunk)
            final = self.path_for(digest.hexdigest())
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp_name)
            else:
                os.replace(tmp_name, final)
            return digest.hexdigest(), size, final
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_path(self, path: Path) -> tuple[str, int, Path]:
        with path.open("rb") as source:
            return self.put(source)

    def copy_to(self, digest: str, target: Path) -> None:
        shutil.copyfile(self.path_for(digest), target)
