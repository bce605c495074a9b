"""The flood demo, end to end (``cityos demo --scenario flood``).

Heavy rain takes the 野川 past its thresholds (sample gauges), and the city answers as staff
would: flood shelters open in the towns at risk, disaster mode goes on, an evacuation order
(警戒レベル4 避難指示) is published as CAP 1.2, and the notices go out. Residents' posts of
the flood are replayed into the SNS triage (the staff queue, area summaries and questions
show them). The command brings its own peers on loopback — an SMTP server (aiosmtpd) and a webhook receiver that checks
the signature — so one can see the mail and the POST arrive without any outside service.

Meant for a demo database: the deliveries it sends are those of its own notices.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from cityos.core import geo
from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.disaster import alerts, service
from cityos.notify import channels, filters
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, Notice, Subscription
from cityos.sensors import demo as sensors_demo
from cityos.sensors import service as sensors
from cityos.sensors.kinds import WATER
from cityos.settings import Settings
from cityos.sns import demo as sns_demo

DEMO_EMAIL = "osawa.resident+{stamp}@example.jp"  # one subscriber a run, retired after it
DEMO_WEBHOOK_LABEL = "demo: flood scenario receiver / 洪水デモの受信先"
FLOOD_MINUTES = 90
MIN_FLOOD_MINUTES = 20
# A resident standing by the 野川 in 大沢 (near 大沢四丁目) who asks for the nearest shelter.
RESIDENT_POINT = (35.6688, 139.5395)
# Crossings from this rank (避難判断水位) up make the towns of the station "at risk".
EVACUATION_RANK = 3
NEIGHBOUR_SHELTERS = 3
# What staff report when a shelter opens in the demo (the open data has no capacities).
OPENING_STATUS = {"is_open": True, "people": 12, "capacity": 300, "wifi": True, "charging": True}


@dataclass
class ReceivedMail:
    to: list[str]
    subject: str


@dataclass
class ReceivedPost:
    path: str
    signature_ok: bool
    title: str


@dataclass
class FloodReport:
    email: str = ""
    readings: int = 0
    crossings: list[str] = field(default_factory=list)
    towns: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    alert_id: str = ""
    alert_headline: str = ""
    cap_url: str = ""
    page_url: str = ""
    notices: list[str] = field(default_factory=list)
    sent: int = 0
    not_sent: list[str] = field(default_factory=list)
    mails: list[ReceivedMail] = field(default_factory=list)
    posts: list[ReceivedPost] = field(default_factory=list)
    nearest: list[service.Candidate] = field(default_factory=list)
    nearest_via_network: bool = False
    sns: sns_demo.Replay | None = None


# --- the local peers -------------------------------------------------------------------------


class _MailHandler:
    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.mails.append(ReceivedMail(list(envelope.rcpt_tos), str(message["subject"] or "")))
        return "250 Message accepted for delivery"


@contextmanager
def local_smtp() -> Iterator[tuple[int, list[ReceivedMail]]]:
    """A real SMTP server (aiosmtpd) on a free loopback port; yields its port and inbox."""
    handler = _MailHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.mails
    finally:
        controller.stop()


@contextmanager
def local_webhook(secret: str) -> Iterator[tuple[str, list[ReceivedPost]]]:
    """An HTTP receiver on loopback that checks X-CityOS-Signature; yields its URL and posts."""
    posts: list[ReceivedPost] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            given = self.headers.get(channels.SIGNATURE_HEADER, "")
            try:
                title = str(json.loads(body).get("notice", {}).get("title", {}).get("ja", ""))
            except (ValueError, AttributeError):
                title = ""
            posts.append(ReceivedPost(self.path, hmac.compare_digest(expected, given), title))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cityos-demo", posts
    finally:
        server.shutdown()
        server.server_close()


# --- the scenario ----------------------------------------------------------------------------


def _demo_subscribers(
    session: Any, admin: User, email: str, webhook_url: str, secret: str
) -> list[str]:
    """A resident of 大沢 on e-mail (confirmed) and a developer's webhook, made in one
    transaction after the notices exist: the app's own worker never has a delivery of them
    to send (it would reach neither the command's SMTP server nor its loopback receiver)."""
    signup = notify.subscribe_email(session, email, towns=["大沢"], topics=["disaster"])
    assert signup.delivery is not None  # a new address always gets its confirmation
    subscriber = notify.confirm_subscription(session, signup.delivery.id)
    # Confirmed here, so its confirmation e-mail is not needed.
    signup.delivery.status = "cancelled"
    signup.delivery.last_error = "デモで確認済み / confirmed by the demo"
    webhook, _secret = notify.create_webhook(
        session,
        admin,
        notify.WebhookInput(url=webhook_url, secret=secret, label=DEMO_WEBHOOK_LABEL),
        allow_private=True,
    )
    return [subscriber.id, webhook.id]


def _retire_demo_subscribers(session: Any, ids: list[str]) -> None:
    """The command's peers stop with it: its subscribers get nothing more."""
    for subscription in session.scalars(select(Subscription).where(Subscription.id.in_(ids))):
        notify.unsubscribe(session, subscription)


class TooSoon(ValueError):
    """The sample gauges reported too recently for another flood to fit before now."""


def _flood_window(session: Any, admin: User) -> tuple[datetime, int]:
    """When the flood starts and how many minutes it lasts, ending now: after a calm day on
    a fresh database, after the gauges' newest reading on a second run. No reading is ever
    dated in the future."""
    now = utcnow()
    start = now - timedelta(minutes=FLOOD_MINUTES)
    # Stations made now get their calm day up to the flood's start.
    sensors_demo.load_demo_stations(session, session.merge(admin), now=start)
    keys = sensors.station_keys(
        session, [sensors_demo.entity_id(d) for d in sensors_demo.DEMO_STATIONS]
    )
    newest = sensors.newest_observation(session, [key[0] for key in keys.values()])
    if newest is not None and newest >= start:
        start = newest + timedelta(seconds=1)
    minutes = int((now - start).total_seconds() // 60)
    if minutes < MIN_FLOOD_MINUTES:
        wait = MIN_FLOOD_MINUTES - minutes
        raise TooSoon(
            f"サンプル観測所の最新の観測から時間がたっていません。{wait}分後にもう一度どうぞ / "
            f"the sample gauges reported too recently: try again in {wait} minutes"
        )
    return start, min(minutes, FLOOD_MINUTES)


def _crossings(session: Any, since: datetime) -> tuple[list[str], list[str]]:
    """What the flood crossed (recorded since ``since``, for the report) and the towns at
    risk: the 町 of each river gauge past 避難判断水位."""
    lines, towns = [], []
    for demo in sensors_demo.DEMO_STATIONS:
        station = sensors.find_station_by_entity_id(session, sensors_demo.entity_id(demo))
        if station is None:
            continue
        for crossing in reversed(sensors.crossings(session, station, limit=50)):
            if crossing.recorded_at < since or crossing.direction != "up":
                continue
            lines.append(f"{station.name}: {crossing.name} ({crossing.value:g})")
            town = filters.base_town(station.town)
            river = demo.entity_type == WATER
            if river and crossing.rank >= EVACUATION_RANK and town and town not in towns:
                towns.append(town)
    return lines, towns


def _open_flood_shelters(session: Any, admin: User, towns: list[str]) -> list[str]:
    """Open the flood shelters of the towns at risk and the nearest ones around them (the
    river's flood plain has few places designated for floods)."""
    places = [s for s in service.list_shelters(session, hazard="flood") if s.is_shelter]
    chosen = [s for s in places if any(s.town.startswith(t) for t in towns)]
    lat, lon = RESIDENT_POINT
    nearest = sorted(
        (s for s in places if s.lat is not None and s.lon is not None),
        key=lambda s: geo.distance_m(lat, lon, s.lat or 0.0, s.lon or 0.0),
    )
    chosen += [s for s in nearest[:NEIGHBOUR_SHELTERS] if s not in chosen]
    for shelter in chosen:
        service.update_status(session, admin, shelter.id, OPENING_STATUS, via="demo")
    return [shelter.name for shelter in chosen]


def _not_sent(session: Any, subscriber_ids: list[str]) -> list[str]:
    return [
        f"{row.channel}: {row.status} {row.last_error or ''}".strip()
        for row in session.scalars(
            select(Delivery).where(
                Delivery.subscription_id.in_(subscriber_ids),
                Delivery.kind == "notice",
                Delivery.status != "sent",
            )
        )
    ]


def run_flood(
    db: Database,
    settings: Settings,
    admin: User,
    *,
    step: Callable[[str], None] = lambda _title: None,
) -> FloodReport:
    """Play the flood through every domain; see the module's docstring."""
    report = FloodReport()
    since = utcnow() - timedelta(seconds=1)
    stamp = since.strftime("%Y%m%d%H%M%S")
    secret = f"demo-webhook-secret-{stamp}"
    report.email = DEMO_EMAIL.format(stamp=stamp)
    with local_smtp() as (smtp_port, mails), local_webhook(secret) as (hook_url, posts):
        step("野川の水位が上がる / the Nogawa rises")
        with db.session() as session:
            start, minutes = _flood_window(session, admin)
            report.readings = sensors_demo.simulate_flood(
                session, start, minutes, session.merge(admin)
            )
        flood_start, flood_minutes = start, minutes
        # Threshold events were delivered on commit: はん濫注意水位 and up became notices.
        with db.session() as session:
            report.crossings, report.towns = _crossings(session, since)
            report.towns = report.towns or ["大沢"]
        step("避難所を開設 / shelters open")
        with db.session() as session:
            user = session.merge(admin)
            report.opened = _open_flood_shelters(session, user, report.towns)
            service.set_mode(
                session, user, active=True, hazard="flood", towns=report.towns,
                city=settings.city_name_ja,
                message_ja="野川の増水により避難指示が出ています。近くの避難所へ避難してください。",
                message_en="Evacuation order: the Nogawa is rising. Go to a shelter near you.",
                via="demo",
            )  # fmt: skip
        step("避難指示を発表 / evacuation order published")
        with db.session() as session:
            towns_ja = "、".join(report.towns)
            alert = alerts.publish(
                session,
                session.merge(admin),
                {
                    "level": 4,
                    "hazard": "flood",
                    "towns": report.towns,
                    "headline_ja": f"{towns_ja}に避難指示（野川の増水）",
                    "headline_en": f"Evacuation order for {', '.join(report.towns)} (Nogawa flood)",
                    "text_ja": "野川の水位がはん濫危険水位を超えました。"
                    "川に近づかず、ただちに近くの開設済み避難所へ避難してください。",
                    "text_en": "The Nogawa passed its flood danger level. Stay away from the "
                    "river and go now to an open shelter near you.",
                    "text_easy": "のがわの みずが あふれそうです。すぐに ひなんじょへ いって ください。",
                    "expires_in_hours": 12,
                },
                settings,
                via="demo",
            )
            report.alert_id = alert.id
            report.alert_headline = alert.headline_ja
            report.cap_url = alerts.cap_url(settings, alert)
            report.page_url = alerts.page_url(settings, alert)
        step("通知を配信 / notices delivered")
        with db.session() as session:
            notices = session.scalars(
                select(Notice).where(Notice.created_at >= since).order_by(Notice.created_at)
            ).all()
            report.notices = [notice.title_ja for notice in notices]
            notice_ids = [notice.id for notice in notices]
            subscriber_ids = _demo_subscribers(
                session, session.merge(admin), report.email, hook_url, secret
            )
        config = NotifyConfig.from_settings(
            settings,
            smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_username="", smtp_password="",
            smtp_starttls=False, notify_allow_private_targets=True,
        )  # fmt: skip
        report.sent = notify.send_now_to(db, config, subscriber_ids, notice_ids).sent
        with db.session() as session:
            report.not_sent = _not_sent(session, subscriber_ids)
            _retire_demo_subscribers(session, subscriber_ids)
        report.mails, report.posts = list(mails), list(posts)
    step("SNSの投稿を分類 / residents' posts triaged")
    with db.session() as session:
        report.sns = sns_demo.replay_flood(
            session, flood_start, flood_minutes, secret=settings.resolved_secret_key, stamp=stamp
        )
    with db.session() as session:
        lat, lon = RESIDENT_POINT
        report.nearest, report.nearest_via_network = service.nearest_open_shelters(
            session, lat, lon, hazard="flood", limit=3
        )
    return report
