"""The `cityos notify` commands: the delivery worker, sending a notice, the queue's state."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cityos import wiring
from cityos.core import auth
from cityos.core.errors import ProblemError
from cityos.core.events import EventBus
from cityos.db import Database
from cityos.notify import service, worker
from cityos.notify.config import NotifyConfig
from cityos.notify.kinds import DIRECT_KINDS
from cityos.notify.service import DeliveryCounts
from cityos.settings import Settings

app = typer.Typer(help="お知らせの配信 / notices and subscriptions", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _database() -> tuple[Settings, Database]:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    wiring.connect(EventBus(), db, settings)
    return settings, db


def _counts_line(counts: DeliveryCounts) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.as_dict().items())


@app.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Send one batch, then stop")] = False,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Stop when nothing is due any more")
    ] = False,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", min=0, help="Stop after this many seconds")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Deliveries per batch")] = 100,
    upgrade: Annotated[bool, typer.Option(help="Run database migrations first")] = True,
) -> None:
    """配信ワーカー: 送信待ちのお知らせを送る / send queued notices (e-mail, webhook, LINE, Web Push)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings, db = _database()
    if upgrade:
        db.upgrade()
    config = NotifyConfig.from_settings(settings)

    def report(counts: DeliveryCounts) -> None:
        console.print(_counts_line(counts), highlight=False)

    try:
        total = worker.run_worker(
            db,
            config,
            once=once,
            until_empty=until_empty,
            max_seconds=max_seconds,
            limit=limit,
            report=report,
        )
    except KeyboardInterrupt:
        console.print("stopped")
        return
    finally:
        db.dispose()
    console.print(f"OK: {_counts_line(total)}", highlight=False)


@app.command("send")
def send_command(
    title: Annotated[str, typer.Option(help="題名（日本語）")],
    body: Annotated[str, typer.Option(help="本文（日本語）")],
    topic: Annotated[str, typer.Option(help="disaster/防災, crime/防犯, environment/環境, city")],
    user: Annotated[str, typer.Option(help="Staff account the notice is sent as")],
    town: Annotated[
        list[str] | None, typer.Option(help="町名 (repeat); none: the whole city")
    ] = None,
    title_en: Annotated[str, typer.Option()] = "",
    body_en: Annotated[str, typer.Option()] = "",
    title_easy: Annotated[str, typer.Option(help="やさしい日本語")] = "",
    body_easy: Annotated[str, typer.Option()] = "",
    url: Annotated[str, typer.Option()] = "",
) -> None:
    """お知らせを送る / queue a notice to every matching subscription."""
    _settings, db = _database()
    db.upgrade()
    try:
        with db.session() as session:
            staff = auth.get_user(session, user)
            if staff is None:
                err.print(f"ユーザー {user} はいません / no user {user}")
                raise typer.Exit(1)
            notice = service.send_staff_notice(
                session,
                staff,
                service.NoticeInput(
                    topic=topic, towns=town or [], title_ja=title, body_ja=body,
                    title_en=title_en, body_en=body_en, title_easy=title_easy,
                    body_easy=body_easy, url=url,
                ),
            )  # fmt: skip
            session.flush()
            queued = sum(
                sum(c.values())
                for c in service.delivery_counts(session, [notice.id])[notice.id].values()
            )
        console.print(f"OK: notice {notice.id}, {queued} deliveries queued")
    except ProblemError as exc:
        details = "".join(f"\n  {f}: {' / '.join(m)}" for f, m in exc.errors.items())
        err.print(f"エラー / error: {exc.detail}{details}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


@app.command("status")
def status_command() -> None:
    """配信キューと登録の数 / the delivery queue and subscriptions."""
    _settings, db = _database()
    db.upgrade()
    with db.session() as session:
        queue = service.queue_counts(session)
        summary = service.subscription_summary(session)
    table = Table("status", "deliveries")
    for status in ("queued", "sending", "sent", "failed", "unknown", "cancelled"):
        table.add_row(status, str(queue.get(status, 0)))
    console.print(table)
    subs = Table("channel", "active", "pending", "unsubscribed", "gone")
    for channel, counts in summary.by_channel.items():
        subs.add_row(
            channel, *(str(counts.get(s, 0)) for s in ("active", "pending", "unsubscribed", "gone"))
        )
    console.print(subs)
    direct = Table("direct e-mail / 個別メール", "receiving", "stopped")
    for kind, counts in summary.direct.items():
        direct.add_row(kind, str(counts.get("receiving", 0)), str(counts.get("stopped", 0)))
    console.print(direct)
    db.dispose()


@app.command("direct-email")
def direct_email_command(
    email: Annotated[str, typer.Argument(help="メールアドレス / the e-mail address")],
    receive: Annotated[
        list[str] | None,
        typer.Option(
            "--receive",
            help="受け取る種類（くり返し可、all ですべて）。省略すると今の設定を表示 / kinds to "
            "receive (repeat; all for every kind); without it, show the current ones",
        ),
    ] = None,
) -> None:
    """個別メールの受け取りを確認・変更（本人確認の後に） / show or set the kinds of one-off
    e-mail an address receives, e.g. to turn them back on for someone who asked by phone."""
    _settings, db = _database()
    db.upgrade()
    try:
        with db.session() as session:
            if receive is None:
                now = service.direct_preferences(session, email)
            else:
                wanted = set(DIRECT_KINDS) if "all" in receive else set(receive)
                now = service.set_direct_preferences(session, email, wanted)
    except ProblemError as exc:
        err.print(f"エラー / error: {exc.detail}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    table = Table("kind", "受け取る / receives", "")
    for kind, on in now.items():
        label = DIRECT_KINDS[kind]
        table.add_row(kind, "yes" if on else "no", f"{label.ja} / {label.en}")
    console.print(table)


@app.command("vapid-key")
def vapid_key_command() -> None:
    """Web Push の公開鍵（VAPID）を表示 / print the VAPID public key (created when missing)."""
    settings = Settings()
    console.print(NotifyConfig.from_settings(settings).vapid_public_key, highlight=False)
