"""The `cityos reservations` commands: reminders the day before (run by cron)."""

from __future__ import annotations

import typer
from rich.console import Console

from cityos import wiring
from cityos.reservations import service

app = typer.Typer(help="窓口予約 / counter reservations", no_args_is_help=True)
console = Console()


@app.command("remind")
def remind() -> None:
    """明日の予約のリマインダーを配信キューに入れる（何度実行しても1回だけ） /
    queue e-mail reminders of tomorrow's bookings (once each; `cityos notify worker` sends them)."""
    settings, db = wiring.open_database()
    db.upgrade()
    try:
        done = service.queue_reminders(db, settings.site_url)
    finally:
        db.dispose()
    console.print(
        f"{done.queued} reminders queued, {done.unconfirmed} waiting for e-mail confirmation, "
        f"{done.stopped} unsubscribed / {done.queued} 件をキューに追加、"
        f"{done.unconfirmed} 件はメール未確認、{done.stopped} 件は配信停止",
        highlight=False,
    )
