"""The ``cityos sns`` commands: triage posts in batch, replay them into the stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
STREAM = "cityos:sns:posts"  # as stream.STREAM (not imported here: redis loads late)

app = typer.Typer(help="SNS の災害投稿 / disaster posts on social media", no_args_is_help=True)
err = Console(stderr=True)


@app.command("triage")
def triage_command(
    input_path: Annotated[
        Path, typer.Option("--input", help="Posts, one JSON object a line (- for stdin)")
    ],
    output_path: Annotated[
        Path, typer.Option("--output", help="Each post with category, urgency, hazard, town ...")
    ],
) -> None:
    """投稿を分類する（救助要請・被害・不足物資…、緊急度、災害、町名） / triage posts."""
    import orjson
    from rich.progress import Progress

    from cityos.core import jsonlines
    from cityos.sns import gazetteer, posts
    from cityos.wiring import open_database

    try:
        lines = jsonlines.input_lines(input_path)
    except FileNotFoundError:
        err.print(f"[red]エラー / error:[/] {input_path} がありません / no such file")
        raise typer.Exit(2) from None
    _settings, db = open_database()
    db.upgrade()
    with db.session() as session:
        places = gazetteer.gazetteer_from(session)
    db.dispose()
    found, problems = posts.read_posts(lines)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("分類中 / triaging", total=len(found))
        results = []
        for start in range(0, len(found), 2000):
            results.extend(posts.triage_batch(found[start : start + 2000], places))
            progress.update(task, advance=min(2000, len(found) - start))
    with output_path.open("wb") as out:
        for post, result in zip(found, results, strict=True):
            row = {**post.data, **result.as_dict(), "duplicate_of": post.duplicate_of}
            if post.copies > 1:
                row["copies"] = post.copies
            out.write(orjson.dumps(row) + b"\n")
    for problem in problems:
        err.print(
            f"[yellow]{'注意 / note' if problem.kept else '読めません / skipped'}:[/] {problem}"
        )
    counts: dict[str, int] = {}
    for result in results:
        counts[result.category] = counts.get(result.category, 0) + 1
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    console.print(
        f"OK: {len(found)} posts triaged → {output_path} ({summary}); "
        f"{sum(not p.kept for p in problems)} lines skipped"
    )
    if not found:
        raise typer.Exit(1)


@app.command("publish")
def publish_command(
    input_path: Annotated[
        Path, typer.Option("--input", help="Posts, one JSON object a line (- for stdin)")
    ],
    redis_url: Annotated[
        str | None, typer.Option("--redis", help="default: CITYOS_REDIS_URL")
    ] = None,
    stream_name: Annotated[str, typer.Option("--stream", help="the stream's key")] = STREAM,
) -> None:
    """投稿を Redis Stream に流す（ワーカーが分類する） / put posts on the triage stream."""
    import sys
    from collections.abc import Iterator
    from typing import BinaryIO

    from rich.progress import Progress

    from cityos.settings import Settings
    from cityos.sns import stream

    if str(input_path) != "-" and not input_path.is_file():
        err.print(f"[red]エラー / error:[/] {input_path} がありません / no such file")
        raise typer.Exit(2)
    url = redis_url or Settings().redis_url
    client = _redis(url, stream_name)
    if str(input_path) == "-":
        count = stream.publish(client, sys.stdin.buffer, stream_name)
    else:
        with (
            input_path.open("rb") as handle,
            Progress(console=err, transient=True) as progress,
        ):
            task = progress.add_task("送信中 / sending", total=input_path.stat().st_size)

            def lines(source: BinaryIO) -> Iterator[bytes]:
                for line in source:
                    progress.advance(task, len(line))
                    yield line

            count = stream.publish(client, lines(handle), stream_name)
    console.print(f"OK: {count} posts on {stream_name}")


def _redis(url: str, stream_name: str) -> Any:
    """A connection to the stream's Redis with the group in place; a clear error if not."""
    import redis

    from cityos.sns import stream

    try:
        client = stream.connect(url)
        stream.ensure_group(client, stream_name)
        return client
    except redis.RedisError as exc:
        err.print(
            f"[red]エラー / error:[/] Redis に接続できません / cannot reach Redis at {url}: {exc}"
        )
        raise typer.Exit(2) from exc


@app.command("worker")
def worker_command(
    redis_url: Annotated[
        str | None, typer.Option("--redis", help="default: CITYOS_REDIS_URL")
    ] = None,
    name: Annotated[str, typer.Option(help="consumer name (default host-pid)")] = "",
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="posts a transaction")] = 500,
    claim_idle_ms: Annotated[
        int, typer.Option(min=100, help="take over another worker's posts idle this long")
    ] = 30_000,
    until_idle: Annotated[bool, typer.Option(help="stop when the stream is drained")] = False,
    stream_name: Annotated[str, typer.Option("--stream", help="the stream's key")] = STREAM,
) -> None:
    """Redis Stream の投稿を分類して保存するワーカー / triage worker on the stream."""
    import signal

    import redis

    from cityos.sns import stream
    from cityos.wiring import open_database

    settings, db = open_database()
    db.upgrade()
    url = redis_url or settings.redis_url
    client = _redis(url, stream_name)
    worker = stream.Worker(
        db, client, secret=settings.resolved_secret_key, name=name, batch=batch,
        claim_idle_ms=claim_idle_ms, stream=stream_name,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    err.print(f"worker {worker.name}: reading {stream_name} as group {stream.GROUP}")
    try:
        stats = worker.run(until_idle=until_idle)
    except KeyboardInterrupt:
        stats = worker.stats
    except redis.RedisError as exc:
        db.dispose()
        err.print(
            f"[red]エラー / error:[/] Redis との接続が切れました / lost Redis at {url}: {exc}"
        )
        raise typer.Exit(1) from exc
    db.dispose()
    busy = stats.last_at - stats.first_at
    rate = stats.entries / busy if busy > 0 else 0.0
    console.print(
        f"OK: {stats.stored} posts triaged and stored, {stats.already} found stored, "
        f"{stats.problems} unreadable, {stats.reclaimed} taken over "
        f"({rate:,.0f} posts/s from the first batch to the last; "
        f"window {stats.first_at:.3f}-{stats.last_at:.3f})"
    )
