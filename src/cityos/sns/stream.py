"""Scale-out triage: posts on a Redis Stream, read by workers in one consumer group, triaged
and stored through :func:`service.ingest`.

Each stream entry holds one post (its JSON line). A worker reads a batch, stores it in one
transaction, and only then acknowledges the entries. A worker that dies leaves its entries
pending; another worker claims them once they have been idle for ``claim_idle_ms`` (XAUTOCLAIM).
Nothing is lost, and nothing is triaged twice: posts a dead worker had already stored are
found in the database by their id and only acknowledged; if two workers do race on a batch,
the unique post id lets one transaction win and the other retries and finds the posts stored.
Lines that are not posts go to ``<stream>:problems`` with the reason, never silently dropped.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from cityos.db import Database
from cityos.sns import gazetteer, service

STREAM = "cityos:sns:posts"
GROUP = "triage"
FIELD = b"post"
RECONNECT_TRIES = 30


def connect(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)


def ensure_group(client: Any, stream: str = STREAM, group: str = GROUP) -> None:
    """The consumer group, created at the stream's beginning (and the stream with it)."""
    import redis

    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def publish(client: Any, lines: Iterable[bytes], stream: str = STREAM, chunk: int = 1000) -> int:
    """Put each non-empty line on the stream as one entry; answers how many."""
    count = 0
    pipe = client.pipeline(transaction=False)
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        pipe.xadd(stream, {FIELD: line})
        count += 1
        if count % chunk == 0:
            pipe.execute()
    pipe.execute()
    return count


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class WorkerStats:
    entries: int = 0  # stream entries acknowledged
    stored: int = 0  # posts this worker triaged and stored
    already: int = 0  # posts found stored (by a worker that died before acknowledging)
    problems: int = 0  # lines that were not posts
    reclaimed: int = 0  # entries claimed from a worker that went silent
    batches: int = 0
    seconds: float = 0.0  # from start (connections, gazetteer) to the end
    first_at: float = 0.0  # wall-clock time the first batch began (time.time())
    last_at: float = 0.0  # wall-clock time the last batch was acknowledged


class Worker:
    def __init__(
        self,
        db: Database,
        client: Any,
        *,
        secret: str,
        name: str = "",
        stream: str = STREAM,
        group: str = GROUP,
        batch: int = 500,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.db = db
        self.client = client
        self.secret = secret
        self.name = name or default_name()
        self.stream = stream
        self.group = group
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.stats = WorkerStats()
        self._places: gazetteer.Gazetteer | None = None
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def places(self) -> gazetteer.Gazetteer:
        if self._places is None:
            with self.db.session() as session:
                self._places = gazetteer.gazetteer_from(session)
            # Load the address index now, not inside the first batch: a batch held longer
            # than claim_idle_ms would be taken over by another worker.
            self._places.find("三鷹市大沢二丁目")
        return self._places

    def run(self, *, until_idle: bool = False, block_ms: int = 1000) -> WorkerStats:
        """Work until stopped; with ``until_idle``, until the stream has nothing left for the
        group (no new entry and none pending)."""
        import redis

        started = time.perf_counter()
        self.places()
        failures = 0
        ready = False
        while not self._stop:
            try:
                if not ready:
                    ensure_group(self.client, self.stream, self.group)
                    ready = True
                entries = self._claim() or self._read(block_ms)
                if entries:
                    self.handle(entries)
                    failures = 0
                    continue
                if until_idle and self._drained():
                    break
            except redis.ConnectionError:
                # Redis restarting: wait and go on; what was read and not acknowledged is
                # still pending, and a batch stored twice is found stored.
                failures += 1
                if failures > RECONNECT_TRIES:
                    raise
                time.sleep(min(5.0, 0.2 * failures))
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def _claim(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Entries another consumer took and left unacknowledged for too long."""
        found = self.client.xautoclaim(
            self.stream, self.group, self.name, self.claim_idle_ms, "0-0", count=self.batch
        )
        entries = [(entry_id, fields) for entry_id, fields in found[1] if fields is not None]
        # Entries deleted from the stream while pending: nothing to do but acknowledge.
        gone = [entry_id for entry_id, fields in found[1] if fields is None]
        if gone:
            self.client.xack(self.stream, self.group, *gone)
        if len(found) > 2 and found[2]:
            self.client.xack(self.stream, self.group, *found[2])
        self.stats.reclaimed += len(entries)
        return entries

    def _read(self, block_ms: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        answer = self.client.xreadgroup(
            self.group, self.name, {self.stream: ">"}, count=self.batch, block=block_ms
        )
        return list(answer[0][1]) if answer else []

    def _drained(self) -> bool:
        groups = {g["name"].decode(): g for g in self.client.xinfo_groups(self.stream)}
        info = groups.get(self.group)
        if info is None:
            return True
        lag = info.get("lag")
        return int(info.get("pending", 0)) == 0 and (lag is None or int(lag) == 0)

    def handle(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Store a batch, then acknowledge it (so a crash in between loses nothing)."""
        if not self.stats.first_at:
            self.stats.first_at = time.time()
        ids = [entry_id for entry_id, _fields in entries]
        lines = [fields.get(FIELD, b"") for _entry_id, fields in entries]
        for attempt in (1, 2):
            try:
                with self.db.session() as session:
                    report = service.ingest(
                        session,
                        lines,
                        self.places(),
                        secret=self.secret,
                        source="stream",
                        worker=self.name,
                    )
                break
            except IntegrityError:
                # Another worker stored some of these posts at the same moment: read again,
                # they are then found stored and left alone.
                if attempt == 2:
                    raise
        if report.problems:
            pipe = self.client.pipeline(transaction=False)
            for problem in report.problems:
                entry = ids[problem.line - 1]
                pipe.xadd(
                    f"{self.stream}:problems",
                    {b"entry": entry, b"reason": problem.reason.encode(), b"kept": b"1" if problem.kept else b"0"},
                )  # fmt: skip
            pipe.execute()
        self.client.xack(self.stream, self.group, *ids)
        self.stats.entries += len(ids)
        self.stats.stored += report.stored
        self.stats.already += report.already
        self.stats.problems += sum(1 for p in report.problems if not p.kept)
        self.stats.batches += 1
        self.stats.last_at = time.time()


def problems(client: Any, stream: str = STREAM, count: int = 100) -> list[dict[str, str]]:
    """The latest lines the workers could not read, with the reason."""
    rows = client.xrevrange(f"{stream}:problems", count=count)
    return [
        {key.decode(): value.decode() for key, value in fields.items()} | {"id": entry.decode()}
        for entry, fields in rows
    ]
