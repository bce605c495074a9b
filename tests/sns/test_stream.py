"""Triage as workers on a Redis Stream (a real Redis server): every post stored once, none
lost, when a worker is killed mid-stream or dies between storing and acknowledging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cityos.db import Database
from cityos.settings import Settings
from cityos.sns import service, stream
from cityos.sns.gazetteer import Gazetteer
from cityos.sns.models import SnsPost
from tests.conftest import free_port
from tests.test_cli import cityos, env_for

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    json.loads(line)["text"]
    for line in (ROOT / "tests" / "data" / "sns" / "dev.jsonl").read_text("utf-8").splitlines()
]


def posts(count: int, prefix: str = "s") -> list[bytes]:
    return [
        json.dumps(
            {"id": f"{prefix}{i}", "text": f"{TEXTS[i % len(TEXTS)]} ({i})",
             "created_at": "2026-09-14T10:00:00+09:00", "user": f"u{i % 97}"},
            ensure_ascii=False,
        ).encode()
        for i in range(count)
    ]  # fmt: skip


def stored(db: Database) -> tuple[int, int]:
    with db.session() as session:
        rows = session.scalar(select(func.count()).select_from(SnsPost)) or 0
        distinct = session.scalar(select(func.count(func.distinct(SnsPost.post_id)))) or 0
        return rows, distinct


def test_workers_drain_the_stream_and_report_bad_lines(
    db: Database, settings: Settings, redis_client: Any, stream_name: str
) -> None:
    lines = posts(1200)
    lines[10] = b"not json"
    lines[20] = b'{"id": "x", "text": ""}'
    assert stream.publish(redis_client, lines, stream_name) == 1200
    first = stream.Worker(db, redis_client, secret="s", name="w1", stream=stream_name, batch=200)
    stats = first.run(until_idle=True, block_ms=100)
    assert stats.entries == 1200
    assert stats.stored == 1198
    assert stats.problems == 2
    assert stored(db) == (1198, 1198)
    reasons = {p["reason"] for p in stream.problems(redis_client, stream_name)}
    assert any("JSON" in r for r in reasons)
    assert any("empty" in r for r in reasons)
    groups = redis_client.xinfo_groups(stream_name)
    assert groups[0]["pending"] == 0


def test_a_worker_that_dies_after_storing_but_before_acknowledging_loses_and_doubles_nothing(
    db: Database, redis_client: Any, stream_name: str
) -> None:
    stream.publish(redis_client, posts(300), stream_name)
    stream.ensure_group(redis_client, stream_name)
    dying = stream.Worker(db, redis_client, secret="s", name="dying", stream=stream_name, batch=100)
    entries = dying._read(100)
    assert len(entries) == 100
    lines = [fields[stream.FIELD] for _id, fields in entries]
    # It stores its batch ... and dies before XACK.
    with db.session() as session:
        service.ingest(session, lines, dying.places(), secret="s", source="stream", worker="dying")
    assert stored(db) == (100, 100)
    time.sleep(0.3)
    rescuer = stream.Worker(
        db, redis_client, secret="s", name="rescuer", stream=stream_name, batch=100,
        claim_idle_ms=200,
    )  # fmt: skip
    stats = rescuer.run(until_idle=True, block_ms=100)
    assert stats.reclaimed == 100
    assert stats.already == 100, "the dead worker's posts are found stored, not triaged again"
    assert stats.stored == 200
    assert stored(db) == (300, 300)
    with db.session() as session:
        by_worker = dict(
            session.execute(
                select(SnsPost.triaged_by, func.count()).group_by(SnsPost.triaged_by)
            ).all()
        )
    assert by_worker == {"dying": 100, "rescuer": 200}
    assert redis_client.xinfo_groups(stream_name)[0]["pending"] == 0


def test_a_worker_process_killed_mid_stream_is_taken_over_by_another(
    database_url: str, tmp_path: Path, db: Database, redis_url: str, stream_name: str,
    redis_client: Any,
) -> None:  # fmt: skip
    total = 4000
    stream.publish(redis_client, posts(total, "k"), stream_name)
    env = {**os.environ, **env_for(database_url, tmp_path / "data"), "CITYOS_REDIS_URL": redis_url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "cityos", "sns", "worker", "--stream", stream_name,
         "--name", "victim", "--batch", "100"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while stored(db)[0] < 500:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker stored nothing"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    left, _ = stored(db)
    assert left < total, "killed mid-stream: some posts were still waiting"
    survivor = subprocess.run(
        [sys.executable, "-m", "cityos", "sns", "worker", "--stream", stream_name,
         "--name", "survivor", "--batch", "500", "--claim-idle-ms", "300", "--until-idle"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert survivor.returncode == 0, survivor.stderr
    assert stored(db) == (total, total), "every post stored, each once"
    with db.session() as session:
        victim = session.scalar(select(func.count()).where(SnsPost.triaged_by == "victim")) or 0
    assert victim >= 500
    assert f"{total - victim} posts triaged and stored" in survivor.stdout
    assert redis_client.xinfo_groups(stream_name)[0]["pending"] == 0


def test_copies_stored_at_the_same_moment_by_two_workers_end_up_in_one_group(
    db: Database,
) -> None:
    places = Gazetteer()
    text = "助けて！大沢4丁目で家に水が入ってきて祖母が動けません"
    first = json.dumps({"id": "c1", "text": text, "created_at": "2026-09-14T10:00:00+09:00"})
    second = json.dumps(
        {"id": "c2", "text": "RT @x: " + text, "created_at": "2026-09-14T10:01:00+09:00"}
    )
    done = threading.Event()

    def other_worker() -> None:
        with db.session() as session:
            service.ingest(session, [second.encode()], places, secret="s", source="stream")
        done.set()

    with db.session() as session:
        service.ingest(session, [first.encode()], places, secret="s", source="stream")
        worker = threading.Thread(target=other_worker)
        worker.start()
        time.sleep(0.5)  # the other worker is storing its copy now, before this one commits
    worker.join(timeout=30)
    assert done.is_set()
    with db.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(SnsPost))}
    assert rows["c1"].duplicate_of is None
    assert rows["c1"].copies == 2
    assert rows["c2"].duplicate_of == "c1"


def test_the_commands_say_clearly_when_redis_cannot_be_reached(
    database_url: str, tmp_path: Path
) -> None:
    env = {**env_for(database_url, tmp_path / "data"), "CITYOS_REDIS_URL": "redis://127.0.0.1:1/0"}
    source = tmp_path / "posts.jsonl"
    source.write_bytes(b"\n".join(posts(3)) + b"\n")
    published = cityos(env, "sns", "publish", "--input", str(source))
    assert published.returncode == 2
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in published.stderr.replace("\n", "")
    assert "Traceback" not in published.stderr
    worker = cityos(env, "sns", "worker", "--until-idle")
    assert worker.returncode == 2
    assert "Redis に接続できません" in worker.stderr


def test_a_worker_rides_out_a_redis_restart(db: Database, tmp_path: Path, stream_name: str) -> None:
    port = free_port()

    def redis_server() -> subprocess.Popen[bytes]:
        server = subprocess.Popen(
            ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(port),
             "--dir", str(tmp_path), "--save", "", "--appendonly", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = stream.connect(f"redis://127.0.0.1:{port}/0")
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return server
            except Exception:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    server = redis_server()
    try:
        client = stream.connect(f"redis://127.0.0.1:{port}/0")
        stream.publish(client, posts(400, "r"), stream_name)
        worker = stream.Worker(db, client, secret="s", name="w", stream=stream_name, batch=100)
        thread = threading.Thread(target=worker.run, kwargs={"until_idle": True, "block_ms": 100})
        worker.places()
        server.terminate()  # Redis goes away (its append-only file keeps the stream) ...
        server.wait(timeout=20)
        thread.start()
        time.sleep(1.0)
        server = redis_server()  # ... and comes back
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert worker.stats.entries == 400
        assert stored(db) == (400, 400)
    finally:
        server.terminate()
        server.wait(timeout=20)
