"""The ``cityos disaster`` commands: shelters, the static snapshot, the nginx configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cityos.disaster import nginx, service, snapshot

app = typer.Typer(help="防災 / disaster information", no_args_is_help=True)
console = Console()


@app.command("sync-shelters")
def sync_shelters() -> None:
    """オープンデータから避難所を読み直す / re-read shelters from the open data portal."""
    from cityos.wiring import open_database

    settings, db = open_database()
    db.upgrade()
    with db.session() as session:
        report = service.sync_shelters(session)
    snapshot.write(db, settings)
    console.print(
        f"OK: {report.created} new, {report.updated} updated, {report.deactivated} no longer "
        f"published (from {len(report.sources)} resources)"
    )
    db.dispose()


@app.command("snapshot")
def write_snapshot() -> None:
    """静的スナップショットを書き直す / rewrite the static snapshot of disaster information."""
    from cityos.wiring import open_database

    settings, db = open_database()
    root = snapshot.write(db, settings)
    console.print(f"OK: {root}")
    db.dispose()


@app.command("nginx-config")
def nginx_config(
    listen: Annotated[str, typer.Option(help="nginx's listen address")] = "80",
    upstream: Annotated[str, typer.Option(help="where the app listens")] = "127.0.0.1:8000",
    snapshot_dir: Annotated[Path | None, typer.Option(help="default: the app's")] = None,
) -> None:
    """nginx の設定（スナップショット配信）を表示 / print the nginx server block for the snapshot."""
    from cityos.settings import Settings

    folder = snapshot_dir or Settings().resolved_snapshot_dir
    typer.echo(nginx.server_block(folder, listen, upstream), nl=False)


sns_app = typer.Typer(help="SNS の災害投稿 / disaster posts on social media", no_args_is_help=True)
err = Console(stderr=True)


@sns_app.command("triage")
def triage_command(
    input_path: Annotated[
        Path, typer.Option("--input", help="Posts, one JSON object a line (- for stdin)")
    ],
    output_path: Annotated[
        Path, typer.Option("--output", help="Each post with category, urgency, hazard, town ...")
    ],
) -> None:
    """投稿を分類する（救助要請・被害・不足物資…、緊急度、災害、町名） / triage posts."""
    import sys

    import orjson
    from rich.progress import Progress

    from cityos.disaster import gazetteer, posts
    from cityos.wiring import open_database

    if str(input_path) != "-" and not input_path.is_file():
        err.print(f"[red]エラー / error:[/] {input_path} がありません / no such file")
        raise typer.Exit(2)
    _settings, db = open_database()
    db.upgrade()
    with db.session() as session:
        places = gazetteer.gazetteer_from(session)
    db.dispose()
    if str(input_path) == "-":
        lines = list(sys.stdin.buffer)
    else:
        with input_path.open("rb") as handle:
            lines = list(handle)
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
