"""The `cityos reports` commands: Open311 api_keys for the applications that post reports."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cityos import wiring
from cityos.reports import service

app = typer.Typer(help="市民からの報告 (Open311) / citizen reports", no_args_is_help=True)
console = Console()


@app.command("issue-key")
def issue_key(
    name: Annotated[str, typer.Argument(help="The application the key is for")],
    contact: Annotated[str, typer.Option(help="Who to contact about it (e-mail)")] = "",
) -> None:
    """Open311 の api_key を発行する / issue an Open311 api_key (shown once)."""
    _settings, db = wiring.open_database()
    db.upgrade()
    with db.session() as session:
        key = service.issue_api_key(session, name, contact)
    console.print(key, highlight=False)


@app.command("revoke-key")
def revoke_key(name: Annotated[str, typer.Argument(help="The application the key is for")]) -> None:
    """api_key を無効にする / revoke the api_keys issued under a name."""
    _settings, db = wiring.open_database()
    with db.session() as session:
        count = service.revoke_api_keys(session, [name])
    console.print(f"{count} key(s) revoked / {count} 件を無効にしました", highlight=False)
