"""The `cityos procedures` commands: load the shipped catalog."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos import wiring
from cityos.procedures import service
from cityos.procedures.models import Procedure

app = typer.Typer(help="手続きカタログ / the procedure catalog", no_args_is_help=True)
console = Console()


def load_and_count(session: Session) -> tuple[int, int]:
    """Add the shipped procedures the database lacks: (added, now in the catalog)."""
    added = service.load_catalog(session)
    total = session.scalar(select(func.count()).select_from(Procedure)) or 0
    return added, total


@app.command("load")
def load() -> None:
    """同梱の手続きを読み込む（職員の編集は残す） / add the shipped procedures (keeps staff edits)."""
    _settings, db = wiring.open_database()
    db.upgrade()
    with db.session() as session:
        added, total = load_and_count(session)
    console.print(
        f"{added} procedures added, {total} in the catalog / {added} 件追加、カタログは {total} 件",
        highlight=False,
    )
    db.dispose()
