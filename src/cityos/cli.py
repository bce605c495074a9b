"""The ``cityos`` command: serve, demo, db, user and the domains' own commands."""

from __future__ import annotations

import getpass
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos import wiring
from cityos.address import cli as address_cli
from cityos.chatbot import cli as chatbot_cli
from cityos.core import auth
from cityos.core.errors import ProblemError
from cityos.core.models import ROLES, User
from cityos.core.uploads import FileStore
from cityos.db import Database, current_heads, utcnow
from cityos.disaster import cli as disaster_cli
from cityos.mobility import cli as mobility_cli
from cityos.notify import cli as notify_cli
from cityos.procedures import cli as procedures_cli
from cityos.reports import cli as reports_cli
from cityos.reservations import cli as reservations_cli
from cityos.residents import demo as residents_demo
from cityos.sensors import cli as sensors_cli
from cityos.settings import Settings
from cityos.sns import cli as sns_cli
from cityos.voice import cli as voice_cli

app = typer.Typer(help="三鷹市 City OS — Mitaka City OS", no_args_is_help=True)
db_app = typer.Typer(help="データベース / database", no_args_is_help=True)
user_app = typer.Typer(help="職員アカウント / staff accounts", no_args_is_help=True)
opendata_app = typer.Typer(help="オープンデータ / open data portal", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(opendata_app, name="opendata")
app.add_typer(address_cli.app, name="address")
app.add_typer(sensors_cli.app, name="sensors")
app.add_typer(disaster_cli.app, name="disaster")
app.add_typer(sns_cli.app, name="sns")
app.add_typer(notify_cli.app, name="notify")
app.add_typer(mobility_cli.app, name="mobility")
app.add_typer(reports_cli.app, name="reports")
app.add_typer(procedures_cli.app, name="procedures")
app.add_typer(reservations_cli.app, name="reservations")
app.add_typer(voice_cli.app, name="voice")
app.add_typer(chatbot_cli.app, name="chatbot")

console = Console()
err = Console(stderr=True)


def _database() -> tuple[Settings, Database]:
    """Settings and a database whose changes trigger the same reactions as in the web app."""
    return wiring.open_database()


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]エラー / error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _problem(exc: ProblemError) -> typer.Exit:
    """A refused command says what is wrong, field by field."""
    details = "".join(f"\n  {field}: {' / '.join(msgs)}" for field, msgs in exc.errors.items())
    return _fail(exc.detail + details)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    upgrade: Annotated[bool, typer.Option(help="Run database migrations first")] = True,
    access_log: Annotated[
        bool,
        typer.Option(help="Log every request (costs about a third of the throughput at peak)"),
    ] = False,
) -> None:
    """Webサーバーを起動する / serve the portal and APIs."""
    import uvicorn

    settings, db = _database()
    if upgrade:
        db.upgrade()
    db.dispose()
    from cityos.address.index import load_index
    from cityos.mobility import service as mobility
    from cityos.mobility.loaders import NetworkFileError

    with console.status("住所索引を準備しています / preparing the address index"):
        load_index()
    try:
        network = mobility.check_configured_network()
    except NetworkFileError as exc:
        raise _fail(f"歩行者ネットワークを読めません / pedestrian network: {exc}") from exc
    if network is None:
        console.print(
            "歩行者ネットワーク未設定: 避難所までの距離は直線です / no pedestrian network: "
            "distances to shelters are straight lines (set CITYOS_PEDESTRIAN_NETWORK)"
        )
    console.print(f"City OS: http://{host}:{port}/  (data: {settings.data_dir.resolve()})")
    uvicorn.run(
        "cityos.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        proxy_headers=False,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """データベースを最新の構造にする / migrate the database to the newest schema."""
    _settings, db = _database()
    db.upgrade()
    console.print(
        f"OK: {db.engine.url.render_as_string(hide_password=True)} @ {', '.join(current_heads(db.engine))}"
    )
    db.dispose()


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}")] = "staff",
    password: Annotated[str | None, typer.Option(help="Password (asked when not given)")] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the console")] = "",
    email: Annotated[str, typer.Option()] = "",
) -> None:
    """職員アカウントを作る / add a staff account."""
    _settings, db = _database()
    db.upgrade()
    if password is None:
        password = getpass.getpass("パスワード / password: ")
    try:
        with db.session() as session:
            user = auth.create_user(
                session, name, role, password, display_name=display_name, email=email
            )
            console.print(f"OK: {user.name} ({user.role})")
    except ProblemError as exc:
        raise _problem(exc) from None
    finally:
        db.dispose()


@user_app.command("list")
def user_list() -> None:
    """職員アカウントの一覧 / list staff accounts."""
    _settings, db = _database()
    db.upgrade()
    table = Table("name", "role", "display name", "active", "last login")
    with db.session() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            table.add_row(
                user.name,
                user.role,
                user.display_name,
                str(user.active),
                str(user.last_login_at or ""),
            )
    console.print(table)
    db.dispose()


@user_app.command("token")
def user_token(
    name: str, label: Annotated[str, typer.Option(help="What the token is for")] = "cli"
) -> None:
    """APIトークンを発行する（一度だけ表示） / create an API token (shown once)."""
    _settings, db = _database()
    db.upgrade()
    with db.session() as session:
        user = auth.get_user(session, name)
        if user is None:
            raise _fail(f"ユーザー {name} はいません / no user {name}")
        token = auth.issue_token(session, user, label)
    console.print(token, soft_wrap=True, highlight=False)
    db.dispose()


@user_app.command("password")
def user_password(name: str, password: Annotated[str | None, typer.Option()] = None) -> None:
    """パスワードを変える / change a password."""
    _settings, db = _database()
    if password is None:
        password = getpass.getpass("新しいパスワード / new password: ")
    try:
        with db.session() as session:
            user = auth.get_user(session, name)
            if user is None:
                raise _fail(f"ユーザー {name} はいません / no user {name}")
            auth.set_password(user, password)
        console.print("OK")
    except ProblemError as exc:
        raise _problem(exc) from None
    finally:
        db.dispose()


def _first_writer(session: Session) -> User | None:
    """The account an import is recorded under when --user is not given."""
    query = select(User).where(User.role.in_(("admin", "staff")), User.active).order_by(User.id)
    return session.scalar(query)


def _first_admin(session: Session) -> User | None:
    return session.scalar(select(User).where(User.role == "admin", User.active).order_by(User.id))


def _demo_admin(session: Session, settings: Settings) -> User:
    """The account the demo writes as: the first admin, or a new ``admin`` with a printed password."""
    admin = _first_admin(session)
    if admin is not None:
        return admin
    password = secrets.token_urlsafe(12)
    admin = auth.create_user(
        session, "admin", "admin", password, display_name="デモ管理者 / Demo admin"
    )
    path = settings.data_dir / "demo_admin_password.txt"
    path.write_text(password + "\n")
    path.chmod(0o600)
    console.print(
        f"職員ログイン / staff login: [bold]admin[/] / [bold]{password}[/]  (saved in {path})",
        highlight=False,
    )
    return admin


SCENARIOS = ("flood",)


@app.command()
def demo(
    scenario: Annotated[
        str,
        typer.Option(
            help="Then play a scenario: flood (野川の増水 → 避難所開設 → 避難指示 → 通知)",
            show_default=False,
        ),
    ] = "",
) -> None:
    """デモデータを読み込む（三鷹市の実データとサンプル） / load the demo data."""
    from cityos.opendata import demo as opendata_demo
    from cityos.sensors import demo as sensors_demo

    if scenario and scenario not in SCENARIOS:
        raise _fail(
            f"シナリオ {scenario!r} はありません（{', '.join(SCENARIOS)}） / "
            f"no scenario {scenario!r}: choose {', '.join(SCENARIOS)}",
            2,
        )
    settings, db = _database()
    db.upgrade()
    files = FileStore(settings.files_dir)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=console,
    ) as progress:  # fmt: skip
        steps = len(opendata_demo.DATASETS) + 6 + (5 if scenario else 0)
        task = progress.add_task("デモデータ / demo data", total=steps)

        def step(title: str) -> None:
            progress.update(task, advance=1, description=title)

        with db.session() as session:
            admin = _demo_admin(session, settings)
            created = opendata_demo.load_demo(
                session, admin, files, site_url=settings.site_url, progress=step
            )
        from cityos.disaster import scenario as scenarios

        with db.session() as session:
            # The sample gauges' calm day ends where a flood scenario would begin, so that
            # `cityos demo --scenario flood` can follow at once (without a live feed the
            # gauges then show as silent, which is what they are).
            flood_start = utcnow() - timedelta(minutes=scenarios.FLOOD_MINUTES)
            stations = sensors_demo.load_demo_stations(
                session, session.merge(admin), now=flood_start
            )
        step("観測所（サンプル） / sample stations")
        with db.session() as session:
            procedures_added, procedures_total = procedures_cli.load_and_count(session)
        step("手続きカタログ / procedure catalog")
        from cityos.voice import demo as voice_demo

        with db.session() as session:
            voice = voice_demo.load_demo(session, session.merge(admin))
        step("市民の声（サンプル） / sample citizens' voice")
        from cityos.reports import demo as reports_demo

        with db.session() as session:
            samples = reports_demo.load_demo_reports(
                session,
                session.merge(admin),
                files,
                city=settings.city_name_ja,
                site_url=settings.site_url,
            )
        step("市民からの報告（サンプル） / sample citizen reports")
        from cityos.chatbot import service as chatbot

        with db.session() as session:
            faq = chatbot.load_demo(session)
        step("FAQ チャットボット / FAQ chatbot")
        with db.session() as session:
            resident = residents_demo.load_demo_resident(session, city=settings.city_name_ja)
        step("住民アカウント（デモ） / demo resident account")
        report = None
        if scenario == "flood":
            try:
                report = scenarios.run_flood(db, settings, admin, step=step)
            except scenarios.TooSoon as exc:
                raise _fail(str(exc)) from exc
    console.print(
        f"OK: {len(created)} datasets loaded ({len(opendata_demo.DATASETS) - len(created)} "
        f"already there), {len(stations)} sample stations added, {samples} sample citizen "
        f"reports added, {procedures_total} procedures in the catalog ({procedures_added} added)"
    )
    if voice.consultations:
        console.print(
            f"市民の声 / citizens' voice: {voice.consultations} sample consultations, "
            f"{voice.opinions} opinions ({voice.pending} waiting for review), "
            f"{voice.inquiries} inquiries, {voice.sns} SNS posts (samples) — /voice, /staff/voice"
        )
    if faq is not None:
        console.print(
            f"FAQ チャットボット / FAQ chatbot: {faq.added} entries added, {faq.updated} updated "
            "— /chatbot, /staff/chatbot"
        )
    _print_demo_resident(resident, settings)
    if report is not None:
        _print_flood(report)
    db.dispose()
    if report is not None and (report.not_sent or not report.mails or not report.posts):
        raise typer.Exit(1)


def _print_demo_resident(resident: residents_demo.DemoResident, settings: Settings) -> None:
    """Say how to log in as the demo resident; a new password is also kept in the data dir."""
    path = settings.data_dir / "demo_resident_password.txt"
    if resident.password:
        path.write_text(f"{resident.email}\n{resident.password}\n")
        path.chmod(0o600)
        login = f"[bold]{resident.email}[/] / [bold]{resident.password}[/]  (saved in {path})"
    else:
        login = f"[bold]{resident.email}[/]  (password in {path})"
    console.print(f"住民ログイン / resident login: {login} — /residents/login", highlight=False)


def _print_flood(report: Any) -> None:
    from cityos.disaster.service import CROWDING

    console.print(f"\n[bold]洪水シナリオ / flood scenario[/]  {report.readings} readings")
    for line in report.crossings:
        console.print(f"  観測 / reading: {line}", highlight=False)
    console.print(f"  対象地域 / towns at risk: {'、'.join(report.towns)}", highlight=False)
    console.print(f"  開設 / opened: {'、'.join(report.opened) or '-'}", highlight=False)
    console.print(f"  災害モード / disaster mode: flood, {'、'.join(report.towns)}")
    console.print(f"  避難指示 / alert: {report.alert_headline}", highlight=False)
    console.print(f"    CAP 1.2 (XSD valid): {report.cap_url}", highlight=False)
    console.print(f"    page: {report.page_url}", highlight=False)
    for title in report.notices:
        console.print(f"  お知らせ / notice: {title}", highlight=False)
    for mail in report.mails:
        console.print(f"  SMTP → {', '.join(mail.to)}: {mail.subject}", highlight=False)
    for post in report.posts:
        signed = "signature ok" if post.signature_ok else "BAD SIGNATURE"
        console.print(f"  webhook → {post.path} ({signed}): {post.title}", highlight=False)
    for problem in report.not_sent:
        err.print(f"  [red]未配信 / not sent:[/] {problem}", highlight=False)
    if report.sns is not None:
        sns = report.sns
        kinds = ", ".join(f"{name} {count}" for name, count in sns.categories.items())
        console.print(
            f"  SNS: {sns.stored} posts triaged ({sns.copies} retweets/copies; {kinds})",
            highlight=False,
        )
        console.print(f"    救助要請 / rescue requests in the queue: {sns.rescue}", highlight=False)
        for summary in sns.areas:
            console.print(f"    要約 / summary: {summary}", highlight=False)
        console.print(f"    質問 / question: {sns.question} → {sns.answer}", highlight=False)
        console.print("    staff view: /staff/sns, /staff/sns/summaries, /staff/sns/ask")
    how = "道のり / along streets" if report.nearest_via_network else "直線 / straight line"
    console.print(f"  近くの避難所 / nearest open shelters ({how}):")
    for place in report.nearest:
        crowding = " / ".join(CROWDING.get(place.crowding, (place.crowding,)))
        console.print(
            f"    {place.name}  {place.distance_m:,.0f} m, {place.walking_minutes} 分/min, "
            f"{crowding}",
            highlight=False,
        )


@opendata_app.command("ingest")
def opendata_ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dataset: Annotated[str, typer.Option(help="Dataset name or id (created when missing)")],
    resource: Annotated[str, typer.Option(help="Resource id to add a version to")] = "",
    schema: Annotated[str, typer.Option(help="Standard schema of a new dataset, e.g. aed")] = "",
    title: Annotated[str, typer.Option(help="Title of a new dataset")] = "",
    mode: Annotated[str, typer.Option(help="replace or append")] = "replace",
    encoding: Annotated[
        str, typer.Option(help="utf-8, shift_jis, euc-jp (detected when empty)")
    ] = "",
    user: Annotated[
        str, typer.Option(help="Staff account recorded as the uploader (default: the first one)")
    ] = "",
) -> None:
    """CSV・GeoJSON を取り込む / load a CSV or GeoJSON file into a dataset."""
    from cityos.opendata import service
    from cityos.opendata.models import Dataset

    settings, db = _database()
    db.upgrade()
    files = FileStore(settings.files_dir)
    try:
        with db.session() as session:
            actor = auth.get_user(session, user) if user else _first_writer(session)
            if actor is None:
                raise _fail(
                    f"ユーザー {user} はいません / no user {user}"
                    if user
                    else "職員アカウントがありません。先に cityos user add NAME --role admin を"
                    "実行してください / no staff account yet: run cityos user add NAME --role admin"
                )
            found = session.scalar(
                select(Dataset).where((Dataset.name == dataset) | (Dataset.id == dataset))
            )
            if found is None:
                found = service.create_dataset(
                    session,
                    actor,
                    {"name": dataset, "title": title or dataset, "schema": schema},
                    via="cli",
                )
            if resource:
                target = service.get_resource(session, resource, actor)
            else:
                target = service.create_resource(
                    session, actor, found.id, {"name": file.name}, via="cli"
                )
            with Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeElapsedColumn(), console=console,
            ) as bar:  # fmt: skip
                task = bar.add_task(f"{file.name}", total=file.stat().st_size)
                version = service.upload_file(
                    session, actor, target, service.UploadedFile(file, file.name), files,
                    site_url=settings.site_url, mode=mode, encoding=encoding or None, via="cli",
                    progress=lambda done, _total: bar.update(task, completed=done),
                )  # fmt: skip
                bar.update(task, description=f"{file.name}: 確定中 / committing")
            report = version.report
        console.print(
            f"OK: resource {target.id} v{version.number}: {version.rows_valid} rows loaded, "
            f"{version.rows_invalid} rows with errors ({report.get('encoding_label', '')})"
        )
        for problem in report.get("problems", [])[:20]:
            console.print(
                f"  line {problem['line']} {problem['column']}: {problem['message']}",
                highlight=False,
            )
    except ProblemError as exc:
        raise _problem(exc) from None
    finally:
        db.dispose()


def main() -> None:
    app()
