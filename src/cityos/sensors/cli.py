"""The ``cityos sensors`` commands: offline check, station list, CSV import, demo and flood."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from cityos import wiring
from cityos.core.errors import ProblemError
from cityos.core.events import EventBus
from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.db import Database, utcnow
from cityos.sensors import demo, service
from cityos.sensors.kinds import unit_symbol
from cityos.settings import Settings
from cityos.web.templating import local_time

app = typer.Typer(help="河川水位・雨量センサー / river and rain sensors", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _database() -> tuple[Settings, Database]:
    """Settings and a migrated database whose events reach the same handlers as the app's."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    wiring.connect(EventBus(), db, settings)
    db.upgrade()
    return settings, db


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]エラー / error:[/] {message}", highlight=False)
    return typer.Exit(1)


def _when(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"日時が読めません / not an ISO 8601 time: {text}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("check-offline")
def check_offline(
    now: Annotated[str, typer.Option(help="Check as of this ISO 8601 time (default: now)")] = "",
) -> None:
    """途絶した観測所を検出する（cron で毎分） / report stations silent past their interval."""
    _settings, db = _database()
    try:
        with db.session() as session:
            events = service.check_offline(session, _when(now) if now else utcnow())
        for event in events:
            state = "復旧 / back online" if event.back_online else "途絶 / offline"
            console.print(
                f"{state}: {event.station_name} ({event.station_id}) last seen {event.last_seen or '-'}",
                highlight=False,
            )
        console.print(f"OK: {len(events)} change(s)")
    finally:
        db.dispose()


@app.command("list")
def list_stations() -> None:
    """観測所と現在の状態 / stations and their state."""
    _settings, db = _database()
    table = Table("code", "name", "town", "latest", "observed (JST)", "state")
    try:
        with db.session() as session:
            for view in service.all_stations(session):
                reading = view.primary_reading
                table.add_row(
                    view.station.code,
                    view.station.name,
                    view.station.town,
                    f"{reading.value:g} {unit_symbol(reading.unit_code)}" if reading else "-",
                    local_time(reading.observed_at) if reading else "-",
                    "offline" if view.offline else view.level_name,
                )
        console.print(table)
    finally:
        db.dispose()


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: Annotated[str, typer.Option(help="Staff account recorded (default: the first one)")] = "",
) -> None:
    """観測値のCSVを取り込む / record the readings of a CSV file."""
    settings, db = _database()
    files = FileStore(settings.files_dir)
    try:
        with db.session() as session:
            query = select(User).where(User.active).order_by(User.id)
            query = (
                query.where(User.name == user)
                if user
                else query.where(User.role.in_(("admin", "staff")))
            )
            actor = session.scalar(query)
            if actor is None:
                raise _fail(
                    "職員アカウントがありません（cityos user add） / no staff account: run cityos user add"
                )
            digest, size, stored = files.put_path(file)
            upload = service.upload_readings(
                session, actor, stored.read_bytes(), file.name, digest, size, via="cli"
            )
            summary = service.upload_summary(upload)
        console.print(
            f"OK: {summary['readings_stored']} readings stored ({summary['readings_flagged']} set "
            f"apart), {summary['lines_rejected']} lines rejected"
        )
        for problem in summary["problems"][:20]:
            console.print(
                f"  line {problem['line']} {problem['column']}: {problem['message']}",
                highlight=False,
            )
    except ProblemError as exc:
        raise _fail(exc.detail) from None
    finally:
        db.dispose()


@app.command("demo")
def load_demo(
    flood: Annotated[
        int, typer.Option(help="Also simulate a flood of this many minutes, ending now")
    ] = 0,
) -> None:
    """サンプル観測所を登録する（洪水の模擬も） / load the sample stations (and a flood)."""
    _settings, db = _database()
    try:
        with db.session() as session:
            # A flood ending now starts `flood` minutes ago: the calm history ends there.
            start = utcnow() - timedelta(minutes=flood)
            created = demo.load_demo_stations(session, now=start)
            recorded = demo.simulate_flood(session, start, flood) if flood else 0
        console.print(f"OK: {len(created)} sample stations created, {recorded} flood readings")
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        db.dispose()
