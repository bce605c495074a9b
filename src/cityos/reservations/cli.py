"""The `cityos reservations` commands: reminders the day before (run by cron)."""

from __future__ import annotations

import typer
from rich.console import Console

from cityos import wiring
from cityos.notify.config import NotifyConfig
from cityos.reservations import service

app = typer.Typer(help="窓口予約 / counter reservations", no_args_is_help=True)
console = Console()


@app.command("remind")
def remind() -> None:
    """明日の予約をメールで知らせる（何度実行しても1回だけ） / e-mail tomorrow's bookings (once each)."""
    settings, db = wiring.open_database()
    db.upgrade()
    sent, failed = service.send_reminders(db, NotifyConfig.from_settings(settings))
    console.print(
        f"{sent} reminders sent, {failed} failed (tried again next run) / "
        f"{sent} 件送信、{failed} 件失敗（次回再送）",
        highlight=False,
    )
    db.dispose()
    if failed:
        raise typer.Exit(1)
