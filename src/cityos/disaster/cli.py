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
