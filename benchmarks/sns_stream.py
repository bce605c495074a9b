"""SNS triage scaled out: workers on a Redis Stream consumer group, storing into PostgreSQL.

Runs here, side by side: the same posts triaged and stored by 1 worker, then by 2 workers
(each on a fresh database), and a run where one of 2 workers is killed (SIGKILL) mid-stream —
the other takes over its unacknowledged posts, and every post must end up stored exactly
once. Redis (scripts/redis.sh) and PostgreSQL (scripts/postgres.sh, unless
CITYOS_TEST_POSTGRES_URL names a server) are private servers on loopback, stopped afterwards.

    .venv/bin/python benchmarks/sns_stream.py [--posts 20000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchlib import (
    ROOT,
    BenchError,
    Workspace,
    child_env,
    cityos_command,
    machine_line,
    postgres_database,
    private_server,
    step,
)

SETS = [
    ROOT / "tests" / "data" / "sns" / "dev.jsonl",
    ROOT / "tests" / "data" / "sns" / "holdout.jsonl",
]


def write_posts(path: Path, count: int) -> None:
    texts = [json.loads(line)["text"] for s in SETS for line in s.read_text("utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            row = {
                "id": f"q{i}",
                "text": f"{texts[i % len(texts)]} ({i})",
                "created_at": "2026-09-14T10:00:00+09:00",
                "user": f"user{i % 1000}",
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def psql_counts(database: str) -> tuple[int, int, dict[str, int], float]:
    """Rows, distinct post ids, rows by worker, and seconds between the first and last batch."""
    import psycopg

    plain = database.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT post_id) FROM sns_posts"
        ).fetchone() or (0, 0)
        by_worker = dict(
            conn.execute(
                "SELECT triaged_by, count(*) FROM sns_posts GROUP BY triaged_by"
            ).fetchall()
        )
        span = conn.execute(
            "SELECT EXTRACT(EPOCH FROM max(received_at) - min(received_at)) FROM sns_posts"
        ).fetchone()
    return int(rows), int(distinct), by_worker, float(span[0] or 0.0) if span else 0.0


class Run:
    def __init__(self, ws: Workspace, cityos: list[str], redis_url: str, posts: Path, label: str):
        self.ws = ws
        self.cityos = cityos
        self.label = label
        self.stream = f"bench:sns:{uuid.uuid4().hex[:8]}"
        self.database = postgres_database(ws)
        self.env = child_env(
            CITYOS_DATABASE_URL=self.database,
            CITYOS_DATA_DIR=str(ws.path / f"data-{label}"),
            CITYOS_REDIS_URL=redis_url,
            CITYOS_CACHE_DIR=str(ws.path / "cache"),  # the address index, compiled once
        )
        subprocess.run([*cityos, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        subprocess.run(
            [*cityos, "sns", "publish", "--input", str(posts), "--stream", self.stream],
            env=self.env, check=True, capture_output=True,
        )  # fmt: skip

    def worker(self, name: str, batch: int, claim_idle_ms: int = 30_000) -> subprocess.Popen[bytes]:
        out = (self.ws.path / f"{self.label}-{name}.out").open("wb")
        return self.ws.spawn(
            [*self.cityos, "sns", "worker", "--stream", self.stream, "--name", name,
             "--batch", str(batch), "--claim-idle-ms", str(claim_idle_ms), "--until-idle"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def output(self, name: str) -> str:
        return (self.ws.path / f"{self.label}-{name}.out").read_text(errors="replace")


def scale_run(ws: Workspace, cityos: list[str], redis_url: str, posts: Path, workers: int, batch: int) -> tuple[float, float, int, int]:  # fmt: skip
    run = Run(ws, cityos, redis_url, posts, f"w{workers}")
    started = time.perf_counter()
    processes = [run.worker(f"w{i + 1}", batch) for i in range(workers)]
    for i, process in enumerate(processes):
        if process.wait(timeout=3600) != 0:
            raise BenchError(f"worker w{i + 1} failed:\n{run.output(f'w{i + 1}')[-2000:]}")
    wall = time.perf_counter() - started
    rows, distinct, _by_worker, _span = psql_counts(run.database)
    # From the first batch any worker began to the last one acknowledged (start-up excluded).
    windows = [
        tuple(map(float, found.groups()))
        for i in range(workers)
        if (found := re.search(r"window ([0-9.]+)-([0-9.]+)", run.output(f"w{i + 1}")))
    ]
    if len(windows) != workers:
        raise BenchError("a worker did not report its working window")
    span = max(w[1] for w in windows) - min(w[0] for w in windows)
    return wall, span, rows, distinct


def kill_run(ws: Workspace, cityos: list[str], redis_url: str, posts: Path, total: int, batch: int) -> str:  # fmt: skip
    run = Run(ws, cityos, redis_url, posts, "kill")
    victim = run.worker("victim", batch, claim_idle_ms=2000)
    survivor = run.worker("survivor", batch, claim_idle_ms=2000)
    deadline = time.monotonic() + 600
    while psql_counts(run.database)[0] < total // 4:
        if time.monotonic() > deadline or victim.poll() is not None:
            raise BenchError("the victim finished or stalled before it could be killed")
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    if survivor.wait(timeout=3600) != 0:
        raise BenchError(f"the survivor failed:\n{run.output('survivor')[-2000:]}")
    rows, distinct, by_worker, _span = psql_counts(run.database)
    taken = re.search(r"(\d+) taken over", run.output("survivor"))
    verdict = "OK / 欠落・重複なし" if rows == distinct == total else "FAILED / 欠落または重複"
    return (
        f"  kill   one of 2 workers SIGKILLed at {total // 4:,}+ stored: {rows:,} rows, "
        f"{distinct:,} distinct of {total:,} posts — {verdict}\n"
        f"         victim stored {by_worker.get('victim', 0):,}, survivor {by_worker.get('survivor', 0):,}"
        f" (took over {taken.group(1) if taken else '?'} unacknowledged entries)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--cityos", default="", help="the cityos command (default: .venv's)")
    args = parser.parse_args()
    cityos = cityos_command(args.cityos)
    lines = []
    with Workspace() as ws:
        posts = ws.path / "posts.jsonl"
        write_posts(posts, args.posts)
        with step("Redis (private, loopback); the address index compiled (not timed)"):
            redis_url = private_server(
                ws, "redis.sh", "CITYOS_REDIS_STATE", "CITYOS_TEST_REDIS_URL"
            )
            warm = ws.path / "one.jsonl"
            warm.write_text('{"id": "w", "text": "三鷹市大沢二丁目で冠水"}\n', encoding="utf-8")
            env = child_env(
                CITYOS_DATA_DIR=str(ws.path / "warm"), CITYOS_CACHE_DIR=str(ws.path / "cache")
            )
            subprocess.run([*cityos, "sns", "triage", "--input", str(warm), "--output", str(ws.path / "o.jsonl")],
                           env=env, check=True, capture_output=True)  # fmt: skip
        results = {}
        for workers in (1, 2):
            with step(f"{workers} worker(s) on {args.posts:,} posts"):
                results[workers] = scale_run(ws, cityos, redis_url, posts, workers, args.batch)
        with step("2 workers, one killed mid-stream"):
            kill_line = kill_run(ws, cityos, redis_url, posts, args.posts, args.batch)
    lines.append(machine_line())
    lines.append(
        f"sns stream triage: {args.posts:,} posts on a Redis Stream, consumer group, "
        f"batches of {args.batch}, stored in PostgreSQL"
    )
    for workers, (wall, span, rows, distinct) in results.items():
        ok = (
            "all stored once"
            if rows == distinct == args.posts
            else f"{rows:,} rows, {distinct:,} distinct!"
        )
        lines.append(
            f"  {workers} worker{'s' if workers > 1 else ' '}  {args.posts / max(span, 1e-9):>8,.0f} posts/s "
            f"while working ({args.posts / wall:,.0f}/s with process start-up, {wall:.1f} s) — {ok}"
        )
    one, two = results[1], results[2]
    lines.append(
        f"  scale  2 workers / 1 worker = {one[1] / max(two[1], 1e-9):.2f}x on {os.cpu_count()} CPUs"
    )
    lines.append(kill_line)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
