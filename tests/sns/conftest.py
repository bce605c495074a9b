"""SNS fixtures: a real Redis server (the one scripts/test.sh started, else one of our own)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("CITYOS_TEST_REDIS_URL")
    if url:
        yield url
        return
    env = {**os.environ, "CITYOS_REDIS_STATE": str(tmp_path_factory.mktemp("redis"))}
    started = subprocess.run(
        [str(ROOT / "scripts" / "redis.sh"), "start"],
        env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert started.returncode == 0, f"Redis did not start: {started.stderr}"
    yield started.stdout.strip().split("=", 1)[1]
    subprocess.run([str(ROOT / "scripts" / "redis.sh"), "stop"], env=env, check=False)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    from cityos.sns import stream

    client = stream.connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def stream_name(redis_client: Any) -> Iterator[str]:
    """A stream of this test's own (tests run in parallel on one server)."""
    name = f"test:sns:{uuid.uuid4().hex}"
    yield name
    redis_client.delete(name, f"{name}:problems")
