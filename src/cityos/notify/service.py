"""Notices, subscriptions and the delivery queue: the logic behind the API, pages and CLI.

Other domains call :func:`enqueue_notice` (or react through :func:`on_alert_published`); the
worker calls :func:`deliver_due`. Delivery is at most once per recipient and message: a
delivery is marked ``sending`` and committed before anything leaves, and marked ``sent`` (or
queued again, failed, unknown) after; a ``sending`` row that a worker finds after a crash is
marked ``unknown`` and left to staff, never sent again blindly.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core import audit, auth
from cityos.core.errors import (
    ConflictProblem,
    ForbiddenProblem,
    NotFoundProblem,
    ValidationProblem,
)
from cityos.core.events import (
    AlertPublished,
    ApplicationStatusChanged,
    DisasterModeChanged,
    ReportStatusChanged,
    ThresholdCrossed,
)
from cityos.core.models import User
from cityos.core.web import SPACE_CHARS
from cityos.db import Database, new_id, utcnow
from cityos.notify import channels, filters, line
from cityos.notify.channels import SendResult, Transport
from cityos.notify.config import NotifyConfig
from cityos.notify.kinds import ALL_DIRECT, DIRECT_KINDS
from cityos.notify.messages import Job, NoticeView
from cityos.notify.models import CHANNELS, Delivery, DeliveryAttempt, Notice, Subscription
from cityos.settings import Settings

log = logging.getLogger(__name__)

# Waits after the 1st … 5th failed attempt; the 6th failure is final.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
CONFIRMATION_INTERVAL = timedelta(minutes=10)  # at most one confirmation e-mail per address

TITLE_LIMIT = 200
BODY_LIMIT = 5000
URL_LIMIT = 2000
SECRET_MIN, SECRET_MAX = 16, 200
MANAGE_PERMISSION = "notify.manage"

# The forms the API documents, checked with the same patterns (``re.search``, as JSON Schema
# does). A public deployment takes host names only (no literal addresses: nothing private),
# ports 1-65535 and no spaces inside; spaces around a value are ignored.
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_PORT = (
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
    r"|[1-9][0-9]{0,3}))?"
)
_PATH = r"(?:[/?#][^\x00-\x20\x7f-\x9f]*)?"  # no spaces, no control characters
_SPACES = rf"[{SPACE_CHARS}]*"
HTTP_URL_PATTERN = rf"^{_SPACES}https?://{_HOST}{_PORT}{_PATH}{_SPACES}$"
OPTIONAL_HTTP_URL_PATTERN = rf"^{_SPACES}(?:https?://{_HOST}{_PORT}{_PATH})?{_SPACES}$"
HTTPS_URL_PATTERN = rf"^{_SPACES}https://{_HOST}{_PORT}{_PATH}{_SPACES}$"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
EMAIL_PATTERN = rf"^{_SPACES}{_ATOM}+(?:\.{_ATOM}+)*@{_HOST}{_SPACES}$"
EMAIL_LIMIT = 254
P256DH_PATTERN = r"^B[A-Za-z0-9_-]{86}=?$"  # an uncompressed P-256 point (65 bytes, first 4)
AUTH_PATTERN = r"^[A-Za-z0-9_-]{22}(?:==)?$"  # 16 bytes
SECRET_PATTERN = rf"^(?:[\s\S]{{{SECRET_MIN},}})?$"
_URL_MESSAGE = (
    "URL は http:// または https:// で始まる正しい形式にしてください / "
    "the URL must be a valid http:// or https:// address"
)
_PUBLIC_URL_MESSAGE = (
    "URL はホスト名で書いてください（IPアドレス・localhost は使えません） / write the URL "
    "with a host name (no IP addresses or localhost)"
)


def can_manage(user: User | None) -> bool:
    return auth.can(user, MANAGE_PERMISSION)


def notify_config(value: NotifyConfig | Settings) -> NotifyConfig:
    return value if isinstance(value, NotifyConfig) else NotifyConfig.from_settings(value)


# --- validation ------------------------------------------------------------------------------


def _problem(errors: dict[str, list[str]]) -> ValidationProblem:
    fields = ", ".join(errors)
    first = next(iter(errors.values()))[0]
    return ValidationProblem(
        f"{first}"
        if len(errors) == 1
        else f"入力内容に誤りがあります: {fields} / invalid: {fields}",
        errors=errors,
    )


def normalize_email(value: str) -> str:
    """A deliverable-looking address (ASCII, as documented), its domain lower-cased."""
    message = "メールアドレスの形式が正しくありません / this is not a valid e-mail address"
    if len(value or "") > EMAIL_LIMIT or not re.search(EMAIL_PATTERN, value or ""):
        raise ValidationProblem(message, errors={"email": [message]})
    local, _, domain = value.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def check_http_url(
    value: str, field_name: str = "url", *, required: bool = True, public: bool = True
) -> str:
    """An http(s) URL; ``public`` (the default) also asks for a host name, as the API says.

    Without ``public`` (the city's own links, test receivers) any host urlsplit reads will do.
    """
    url = (value or "").strip()
    if not url and not required:
        return ""
    if len(url) > URL_LIMIT:
        message = f"URL は {URL_LIMIT} 文字までです / the URL is longer than {URL_LIMIT} characters"
        raise ValidationProblem(message, errors={field_name: [message]})
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = urlsplit(""), False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or " " in url:
        raise ValidationProblem(_URL_MESSAGE, errors={field_name: [_URL_MESSAGE]})
    if public and not re.search(HTTP_URL_PATTERN, value):
        raise ValidationProblem(_PUBLIC_URL_MESSAGE, errors={field_name: [_PUBLIC_URL_MESSAGE]})
    return url


@dataclass(frozen=True)
class Filters:
    towns: list[str]
    topics: list[str]
    language: str


def check_filters(
    towns: Iterable[str], topics: Iterable[str], language: str, errors: dict[str, list[str]]
) -> Filters:
    """Validated filters; every problem is added to ``errors`` under its field."""
    found = Filters([], [], "ja")
    try:
        found = Filters(filters.parse_towns(list(towns)), found.topics, found.language)
    except filters.FilterError as exc:
        errors.setdefault("towns", []).append(str(exc))
    try:
        parsed = filters.parse_topics(list(topics))
        if not parsed:
            errors.setdefault("topics", []).append(
                "分野を1つ以上選んでください / choose at least one topic"
            )
        found = Filters(found.towns, parsed, found.language)
    except filters.FilterError as exc:
        errors.setdefault("topics", []).append(str(exc))
    try:
        found = Filters(found.towns, found.topics, filters.parse_language(language))
    except filters.FilterError as exc:
        errors.setdefault("language", []).append(str(exc))
    return found


# --- notices ---------------------------------------------------------------------------------


@dataclass
class NoticeInput:
    """A notice as another domain, the API or a staff member gives it."""

    topic: str
    title_ja: str
    body_ja: str
    towns: Sequence[str] = ()
    title_en: str = ""
    body_en: str = ""
    title_easy: str = ""
    body_easy: str = ""
    url: str = ""
    source: str = ""
    dedup_key: str | None = None
    created_by: str = "system"


def _title_and_body(title: str | None, body: str | None) -> tuple[str, str]:
    """A translation given as a title only or a body only still makes a whole message: the
    title doubles as the body, and a body's first line (cut short) becomes the title."""
    title, body = (title or "").strip(), (body or "").strip()
    if title and not body:
        body = title
    elif body and not title:
        first = body.splitlines()[0].strip()
        title = first if len(first) <= 60 else first[:59] + "…"
    return title, body


def _check_notice(notice_input: NoticeInput, public_links: bool) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    topic = ""
    try:
        topics = filters.parse_topics([notice_input.topic])
        topic = topics[0] if topics else ""
        if not topic:
            errors["topic"] = ["分野を選んでください / choose a topic"]
    except filters.FilterError as exc:
        errors["topic"] = [str(exc)]
    towns: list[str] = []
    try:
        towns = filters.parse_towns(list(notice_input.towns))
    except filters.FilterError as exc:
        errors["towns"] = [str(exc)]
    for name, value, limit in (
        ("title_ja", notice_input.title_ja, TITLE_LIMIT),
        ("title_en", notice_input.title_en, TITLE_LIMIT),
        ("title_easy", notice_input.title_easy, TITLE_LIMIT),
        ("body_ja", notice_input.body_ja, BODY_LIMIT),
        ("body_en", notice_input.body_en, BODY_LIMIT),
        ("body_easy", notice_input.body_easy, BODY_LIMIT),
    ):
        if len(value or "") > limit:
            errors[name] = [f"{limit}文字までです / at most {limit} characters"]
    for name in ("title_ja", "body_ja"):
        if not (getattr(notice_input, name) or "").strip():
            errors[name] = ["必須です / required"]
    try:
        check_http_url(notice_input.url, required=False, public=public_links)
    except ValidationProblem as exc:
        errors.update(exc.errors)
    if len(notice_input.source or "") > 200 or len(notice_input.dedup_key or "") > 200:
        errors["source"] = ["200文字までです / at most 200 characters"]
    if errors:
        raise _problem(errors)
    return topic, towns


def enqueue_notice(
    session: Session,
    notice_input: NoticeInput,
    *,
    now: datetime | None = None,
    public_links: bool = True,
) -> Notice:
    """Record a notice and queue one delivery per matching active subscription.

    A subscription matches when it takes the notice's topic and its towns meet the notice's
    (either side empty: the whole city). With a ``dedup_key`` seen before, the first notice
    is returned and nothing new is queued. Invalid input raises ValidationProblem before
    anything is written.
    """
    if notice_input.dedup_key:
        existing = session.scalar(select(Notice).where(Notice.dedup_key == notice_input.dedup_key))
        if existing is not None:
            return existing
    topic, towns = _check_notice(notice_input, public_links)
    title_en, body_en = _title_and_body(notice_input.title_en, notice_input.body_en)
    title_easy, body_easy = _title_and_body(notice_input.title_easy, notice_input.body_easy)
    now = now or utcnow()
    notice = Notice(
        topic=topic,
        towns=towns,
        title_ja=notice_input.title_ja.strip(),
        body_ja=notice_input.body_ja.strip(),
        title_en=title_en,
        body_en=body_en,
        title_easy=title_easy,
        body_easy=body_easy,
        url=(notice_input.url or "").strip(),
        source=(notice_input.source or "")[:200],
        dedup_key=notice_input.dedup_key or None,
        created_by=(notice_input.created_by or "system")[:64],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        # Another process recorded the same dedup_key a moment ago.
        existing = session.scalar(select(Notice).where(Notice.dedup_key == notice_input.dedup_key))
        if existing is None:
            raise
        return existing
    matching = session.execute(
        select(Subscription.id, Subscription.channel, Subscription.towns, Subscription.topics)
        .where(Subscription.status == "active")
        .order_by(Subscription.created_at)
    ).all()
    rows = [
        _delivery_row(notice.id, row.id, row.channel, "notice", {}, MAX_ATTEMPTS, now)
        for row in matching
        if topic in (row.topics or []) and filters.towns_overlap(row.towns or [], towns)
    ]
    if rows:
        session.execute(insert(Delivery), rows)
    return notice


def _delivery_row(
    notice_id: str | None,
    subscription_id: str,
    channel: str,
    kind: str,
    payload: dict[str, Any],
    max_attempts: int,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "notice_id": notice_id,
        "subscription_id": subscription_id,
        "channel": channel,
        "kind": kind,
        "payload": payload,
        "status": "queued",
        "attempts": 0,
        "max_attempts": max_attempts,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
        "updated_at": now,
    }


def _queue(
    session: Session,
    subscription: Subscription,
    kind: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Delivery:
    delivery = Delivery(
        **_delivery_row(
            None, subscription.id, subscription.channel, kind, payload or {}, max_attempts, now
        )
    )
    session.add(delivery)
    return delivery


def _lenient_towns(names: Iterable[str]) -> list[str]:
    """An alert's towns; if any is not a Mitaka town, the whole city (never reach too few)."""
    given = [n for n in names if n and n.strip()]
    try:
        return filters.parse_towns(given)
    except filters.FilterError:
        log.warning("alert towns %r are not all Mitaka towns: sending to the whole city", given)
        return []


def _clip(value: str, limit: int) -> str:
    value = (value or "").strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notice_from_alert(event: AlertPublished) -> NoticeInput:
    """The notice residents get for a published alert (or its update or cancellation)."""
    prefix_ja = prefix_en = ""
    if event.msg_type == "Cancel":
        prefix_ja, prefix_en = "【解除】", "[Cancelled] "
    elif event.msg_type == "Update":
        prefix_ja, prefix_en = "【更新】", "[Update] "
    if event.level > 0:
        prefix_ja += f"【警戒レベル{event.level}】"
        prefix_en += f"[Alert level {event.level}] "
    headline_ja = event.headline_ja or event.hazard or "三鷹市からの防災情報"
    headline_en = event.headline_en or ""
    return NoticeInput(
        topic="disaster",
        towns=_lenient_towns(event.towns),
        title_ja=_clip(prefix_ja + headline_ja, TITLE_LIMIT),
        body_ja=_clip(event.text_ja or headline_ja, BODY_LIMIT),
        title_en=_clip(prefix_en + headline_en, TITLE_LIMIT) if headline_en else "",
        body_en=_clip(event.text_en or headline_en, BODY_LIMIT) if headline_en else "",
        body_easy=_clip(event.text_easy, BODY_LIMIT),
        url=event.url if event.url.startswith(("http://", "https://")) else "",
        source=f"alert:{event.alert_id}"[:200],
        dedup_key=f"alert:{event.identifier or event.alert_id}:{event.msg_type}"[:200],
        created_by="disaster",
    )


def on_alert_published(db: Database, event: AlertPublished) -> Notice:
    """Event handler: an alert was published, so residents of its towns get a 防災 notice."""
    with db.session() as session:
        # The alert's page is on the city's own site, whatever its address.
        return enqueue_notice(session, notice_from_alert(event), public_links=False)


# River levels residents are told about: from はん濫注意水位 up (水防団待機水位 is for the
# flood-fighting teams and stays on the staff pages).
RESIDENT_THRESHOLD_RANK = 2


def notice_from_threshold(event: ThresholdCrossed) -> NoticeInput | None:
    """The 防災 notice for a river level that rose past a threshold residents act on, else None.

    One notice per station, threshold and crossing: a second delivery of the same event
    (a restart, a replayed batch) is recognised by its dedup key.
    """
    if event.direction != "up" or event.rank < RESIDENT_THRESHOLD_RANK:
        return None
    value = f"{event.value:g}{event.unit}"
    where = f"（{event.town}）" if event.town else ""
    if event.threshold.endswith("水位"):
        title_ja = f"【水位情報】{event.station_name}が{event.threshold}に達しました"
        title_en = f"[River level] {event.station_name}: {event.threshold}"
        body_ja = (
            f"{event.station_name}{where}の水位が{event.threshold}を超えました（{value}、"
            f"{event.observed_at}）。川に近づかず、市の避難情報に注意してください。"
        )
        body_en = (
            f"The river at {event.station_name} passed {event.threshold} ({value} at "
            f"{event.observed_at}). Stay away from the river and follow the city's "
            "evacuation information."
        )
        body_easy = (
            f"{event.station_name}の かわの みずが ふえて います。かわに ちかづかないで ください。"
        )
    else:
        title_ja = f"【雨量情報】{event.station_name}で{event.threshold}"
        title_en = f"[Rainfall] {event.station_name}: {event.threshold}"
        body_ja = (
            f"{event.station_name}{where}で{event.threshold}を観測しました（{value}、"
            f"{event.observed_at}）。川や低い土地に近づかず、市の避難情報に注意してください。"
        )
        body_en = (
            f"{event.station_name} measured {event.threshold} ({value} at {event.observed_at})."
            " Stay away from rivers and low ground and follow the city's evacuation information."
        )
        body_easy = (
            f"{event.station_name}で あめが つよく ふって います。かわに ちかづかないで ください。"
        )
    return NoticeInput(
        topic="disaster",
        towns=_lenient_towns([event.town] if event.town else []),
        title_ja=_clip(title_ja, TITLE_LIMIT),
        body_ja=_clip(body_ja, BODY_LIMIT),
        title_en=_clip(title_en, TITLE_LIMIT),
        body_en=_clip(body_en, BODY_LIMIT),
        body_easy=_clip(body_easy, BODY_LIMIT),
        source=f"sensor:{event.station_id}"[:200],
        dedup_key=f"threshold:{event.station_id}:{event.threshold}:{event.observed_at}"[:200],
        created_by="sensors",
    )


def on_threshold_crossed(db: Database, event: ThresholdCrossed) -> Notice | None:
    """Event handler: a river rose past a threshold residents act on, so they are told."""
    notice_input = notice_from_threshold(event)
    if notice_input is None:
        return None
    with db.session() as session:
        return enqueue_notice(session, notice_input)


def notice_from_mode(event: DisasterModeChanged, site_url: str) -> NoticeInput:
    """The 防災 notice for disaster mode switched on (where to find shelters) or off."""
    where_ja = "、".join(event.towns) if event.towns else "市内全域"
    where_en = ", ".join(event.towns) if event.towns else "the whole city"
    page = f"{site_url.rstrip('/')}/disaster"
    if event.active:
        title_ja = f"【災害モード】{event.hazard_ja}：開設中の避難所を確認してください"
        body_ja = (
            f"三鷹市は{event.hazard_ja}のため災害モードになりました（{where_ja}）。"
            f"{event.message_ja}\n開設中の避難所と避難情報: {page}"
        )
        title_en = f"[Disaster mode] {event.hazard_en}: check the open shelters"
        body_en = (
            f"Mitaka City is in disaster mode for {event.hazard_en.lower()} ({where_en}). "
            f"{event.message_en}\nOpen shelters and evacuation information: {page}"
        )
        body_easy = f"さいがいの じょうほうと ひなんじょは ここで みられます: {page}"
    else:
        title_ja = "【解除】災害モードを終了しました"
        body_ja = f"三鷹市の災害モードを終了しました。最新の情報: {page}"
        title_en = "[Ended] Disaster mode is over"
        body_en = f"Mitaka City ended disaster mode. The latest information: {page}"
        body_easy = f"さいがいの モードは おわりました。 {page}"
    return NoticeInput(
        topic="disaster",
        towns=_lenient_towns(event.towns),
        title_ja=_clip(title_ja, TITLE_LIMIT),
        body_ja=_clip(body_ja, BODY_LIMIT),
        title_en=_clip(title_en, TITLE_LIMIT),
        body_en=_clip(body_en, BODY_LIMIT),
        body_easy=_clip(body_easy, BODY_LIMIT),
        url=page,
        source="disaster:mode",
        dedup_key=f"mode:{'on' if event.active else 'off'}:{event.since}"[:200],
        created_by="disaster",
    )


def on_disaster_mode(db: Database, event: DisasterModeChanged, site_url: str) -> Notice:
    """Event handler: disaster mode went on or off, so subscribers are told where to go."""
    with db.session() as session:
        return enqueue_notice(session, notice_from_mode(event, site_url), public_links=False)


# What a LINE reply puts first while the city is in disaster mode (installed by wiring).
_LEADS: list[Callable[[Session], str | None]] = []


def set_evacuation_lead(provider: Callable[[Session], str | None] | None) -> None:
    _LEADS.clear()
    if provider is not None:
        _LEADS.append(provider)


def _evacuation_lead(session: Session) -> str | None:
    try:
        return _LEADS[0](session) if _LEADS else None
    except Exception:  # a reply must still go out
        log.exception("the evacuation lead could not be read")
        return None


@dataclass(frozen=True)
class TextAnswer:
    """What the text-message answerer says to a LINE message that is no command: the text,
    and questions to offer as quick replies (LINE shows them as buttons under the message)."""

    text: str
    suggestions: tuple[str, ...] = ()


# Answers LINE text messages that are no command (the FAQ chatbot, installed by wiring);
# None from it means "nothing to say", and the resident gets the help text instead.
TextAnswerer = Callable[[Session, str], TextAnswer | None]
_ANSWERERS: list[TextAnswerer] = []


def set_text_answerer(answerer: TextAnswerer | None) -> None:
    _ANSWERERS.clear()
    if answerer is not None:
        _ANSWERERS.append(answerer)


def _answer_text(session: Session, written: str) -> TextAnswer | None:
    if not _ANSWERERS:
        return None
    try:
        with session.begin_nested():  # a failing answerer leaves no half-written rows
            return _ANSWERERS[0](session, written)
    except Exception:  # a reply must still go out
        log.exception("the text message answerer failed")
        return None


def send_staff_notice(session: Session, user: User, notice_input: NoticeInput) -> Notice:
    """A staff member sends a notice (from the staff page, the API or the CLI); audited."""
    if not can_manage(user):
        raise ForbiddenProblem(f"{user.name} は通知を送れません / {user.name} may not send notices")
    notice_input.created_by = user.name
    notice = enqueue_notice(session, notice_input)
    audit.record(session, user, "notify.notice.send", "notice", notice.id, summary=notice.title_ja)
    return notice


def get_notice(session: Session, notice_id: str) -> Notice:
    notice = session.get(Notice, notice_id) if len(notice_id) <= 36 else None
    if notice is None:
        raise NotFoundProblem("お知らせが見つかりません / notice not found")
    return notice


def recent_notices(session: Session, limit: int = 20) -> list[Notice]:
    query = select(Notice).order_by(Notice.created_at.desc(), Notice.id).limit(limit)
    return list(session.scalars(query))


def delivery_counts(
    session: Session, notice_ids: Sequence[str]
) -> dict[str, dict[str, Counter[str]]]:
    """notice id → channel → status → count."""
    counts: dict[str, dict[str, Counter[str]]] = {i: defaultdict(Counter) for i in notice_ids}
    if not notice_ids:
        return counts
    rows = session.execute(
        select(Delivery.notice_id, Delivery.channel, Delivery.status, func.count())
        .where(Delivery.notice_id.in_(notice_ids))
        .group_by(Delivery.notice_id, Delivery.channel, Delivery.status)
    ).all()
    for notice_id, channel, status, count in rows:
        counts[str(notice_id)][channel][status] += count
    return counts


# --- subscriptions ---------------------------------------------------------------------------


def address_key(channel: str, address: str) -> str:
    """The lookup key of an address: e-mail addresses ignore case, push endpoints do not."""
    value = address.lower() if channel == "email" else address
    return f"{channel}:{hashlib.sha256(value.encode()).hexdigest()}"


def _by_address(session: Session, channel: str, address: str) -> Subscription | None:
    key = address_key(channel, address)
    return session.scalar(select(Subscription).where(Subscription.address_key == key))


def get_subscription(session: Session, subscription_id: str) -> Subscription:
    found = session.get(Subscription, subscription_id) if len(subscription_id) <= 36 else None
    if found is None:
        raise NotFoundProblem("登録が見つかりません / subscription not found")
    return found


@dataclass(frozen=True)
class EmailSignup:
    subscription: Subscription
    delivery: Delivery | None  # the confirmation e-mail queued now, if any


def subscribe_email(
    session: Session,
    email: str,
    *,
    towns: Iterable[str] = (),
    topics: Iterable[str] = ("disaster",),
    language: str = "ja",
    now: datetime | None = None,
) -> EmailSignup:
    """Start an e-mail subscription: it becomes active once the link in the e-mail is opened.

    An address that is already subscribed keeps its filters until its owner confirms new
    ones, so nobody can change another person's subscription by typing their address.
    """
    errors: dict[str, list[str]] = {}
    address = ""
    try:
        address = normalize_email(email)
    except ValidationProblem as exc:
        errors.update(exc.errors)
    chosen = check_filters(towns, topics, language, errors)
    if errors:
        raise _problem(errors)
    now = now or utcnow()
    subscription = _by_address(session, "email", address)
    if subscription is None:
        subscription = Subscription(
            channel="email", address_key=address_key("email", address), status="pending"
        )
        session.add(subscription)
    if subscription.status != "active":
        # An active subscription keeps its filters: the new ones wait in the confirmation
        # e-mail's delivery and apply when its link is opened.
        subscription.status = "pending"
        subscription.towns, subscription.topics = chosen.towns, chosen.topics
        subscription.language = chosen.language
        subscription.address = address
    session.flush()
    recent = subscription.confirmation_sent_at
    if recent is not None and now - recent < CONFIRMATION_INTERVAL:
        return EmailSignup(subscription, None)
    subscription.confirmation_sent_at = now
    payload = {"towns": chosen.towns, "topics": chosen.topics, "language": chosen.language}
    delivery = _queue(session, subscription, "confirm", now, payload)
    session.flush()
    return EmailSignup(subscription, delivery)


def confirm_subscription(
    session: Session, confirmation_id: str, *, now: datetime | None = None
) -> Subscription:
    """Activate an e-mail subscription from the link in one confirmation e-mail, with the
    filters that e-mail asked for."""
    delivery = session.get(Delivery, confirmation_id) if len(confirmation_id) <= 36 else None
    if delivery is None or delivery.kind != "confirm":
        raise NotFoundProblem("登録が見つかりません / subscription not found")
    subscription = delivery.subscription
    if subscription.status in ("unsubscribed", "gone") or not subscription.address:
        raise ConflictProblem(
            "この登録は解除されています。もう一度登録してください / this subscription was "
            "cancelled; please subscribe again"
        )
    asked = delivery.payload or {}
    subscription.towns = list(asked.get("towns", subscription.towns))
    subscription.topics = list(asked.get("topics", subscription.topics))
    subscription.language = str(asked.get("language", subscription.language))
    if subscription.status != "active":
        subscription.status = "active"
        subscription.confirmed_at = now or utcnow()
    session.flush()
    return subscription


def update_filters(
    session: Session,
    subscription: Subscription,
    *,
    towns: Iterable[str],
    topics: Iterable[str],
    language: str,
) -> Subscription:
    errors: dict[str, list[str]] = {}
    chosen = check_filters(towns, topics, language, errors)
    if errors:
        raise _problem(errors)
    if subscription.status not in ("active", "pending"):
        raise ConflictProblem("この登録は解除されています / this subscription was cancelled")
    subscription.towns, subscription.topics = chosen.towns, chosen.topics
    subscription.language = chosen.language
    session.flush()
    return subscription


def unsubscribe(session: Session, subscription: Subscription) -> None:
    """Stop every notice to this subscription and forget its address."""
    subscription.status = "unsubscribed"
    if subscription.channel != "webhook":
        subscription.address = ""
        subscription.keys = {}
    session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription.id, Delivery.status == "queued")
        .values(status="cancelled", last_error="配信停止 / unsubscribed", updated_at=utcnow())
    )
    session.flush()


# --- messages to one address (a reporter's updates, a reservation reminder ...) --------------

# A subscription of this status receives only the messages queued for it by name (its own
# report's updates), never notices; there is one per address and kind (notify/kinds.py), and
# its unsubscribe link stops that kind only, unless the page's second button stops them all.
DIRECT_STATUS = "direct"


def _direct_key(kind: str, key: str) -> str:
    """The address key of the direct subscription of ``kind`` for address key ``key``."""
    return "direct-" + key if kind == ALL_DIRECT else f"direct-{kind}-{key}"


def direct_kind(subscription: Subscription) -> str | None:
    """The kind of a direct subscription (ALL_DIRECT for the one that stands for every kind),
    None for any other subscription."""
    key = subscription.address_key or ""
    if not key.startswith("direct-"):
        return None
    rest = key.removeprefix("direct-")
    if rest.startswith("email:"):
        return ALL_DIRECT
    kind = rest.partition("-")[0]
    return kind if kind in DIRECT_KINDS else None


def _all_direct_stopped(session: Session, key: str) -> bool:
    found = session.scalar(
        select(Subscription.status).where(Subscription.address_key == _direct_key(ALL_DIRECT, key))
    )
    return found is not None and found != DIRECT_STATUS


def direct_email_subscription(session: Session, email: str, kind: str) -> Subscription:
    """The subscription through which ``email`` gets the messages of ``kind`` meant for it
    alone."""
    if kind not in DIRECT_KINDS:
        raise ValueError(f"unknown kind of direct e-mail: {kind}")
    address = normalize_email(email)
    key = _direct_key(kind, address_key("email", address))
    found = session.scalar(select(Subscription).where(Subscription.address_key == key))
    if found is None:
        found = Subscription(
            channel="email",
            address_key=key,
            address=address,
            status=DIRECT_STATUS,
            topics=[],
            towns=[],
            confirmed_at=utcnow(),
        )
        session.add(found)
        session.flush()
    return found


def queue_direct_email(
    session: Session,
    email: str,
    subject: str,
    body: str,
    *,
    kind: str,
    now: datetime | None = None,
) -> Delivery | None:
    """Queue one e-mail of ``kind`` to one address (None when its owner stopped this kind,
    or every kind)."""
    if kind not in DIRECT_KINDS:
        raise ValueError(f"unknown kind of direct e-mail: {kind}")
    address = normalize_email(email)
    if _all_direct_stopped(session, address_key("email", address)):
        return None
    subscription = direct_email_subscription(session, address, kind)
    if subscription.status != DIRECT_STATUS or not subscription.address:
        return None
    delivery = _queue(
        session,
        subscription,
        "direct",
        now or utcnow(),
        {"subject": subject[:200], "body": body[:BODY_LIMIT], "direct_kind": kind},
    )
    session.flush()
    return delivery


def direct_all_stopped(session: Session, subscription: Subscription) -> bool:
    """Whether every direct e-mail to the address of this direct subscription is stopped."""
    key = (subscription.address_key or "").removeprefix("direct-")
    if direct_kind(subscription) not in (None, ALL_DIRECT):
        key = key.partition("-")[2]
    return _all_direct_stopped(session, key)


def stop_all_direct_email(session: Session, subscription: Subscription) -> None:
    """From the link in any direct e-mail: stop every kind of direct e-mail to its address.

    The subscription that stands for every kind is unsubscribed (made, address-less, where it
    was missing), and so is each kind's, cancelling what they had queued.
    """
    kind = direct_kind(subscription)
    if kind is None:
        raise ValueError("not a direct e-mail subscription")
    key = (subscription.address_key or "").removeprefix("direct-")
    if kind != ALL_DIRECT:
        key = key.partition("-")[2]
    keys = [_direct_key(ALL_DIRECT, key), *(_direct_key(k, key) for k in DIRECT_KINDS)]
    found = {
        s.address_key: s
        for s in session.scalars(select(Subscription).where(Subscription.address_key.in_(keys)))
    }
    if keys[0] not in found:
        session.add(
            Subscription(
                channel="email", address_key=keys[0], address="", status="unsubscribed",
                topics=[], towns=[],
            )
        )  # fmt: skip
    for row in found.values():
        if row.status != "unsubscribed":
            unsubscribe(session, row)
    session.flush()


def direct_preferences(session: Session, email: str) -> dict[str, bool]:
    """Kind → whether direct e-mail of that kind reaches ``email`` now (in DIRECT_KINDS order).

    A kind is received unless its own subscription, or the one for every kind, is stopped; an
    address the city never wrote to receives every kind.
    """
    key = address_key("email", normalize_email(email))
    statuses = {
        row.address_key: (row.status, row.address)
        for row in session.execute(
            select(Subscription.address_key, Subscription.status, Subscription.address).where(
                Subscription.address_key.in_(
                    [_direct_key(k, key) for k in (ALL_DIRECT, *DIRECT_KINDS)]
                )
            )
        )
    }
    everything = statuses.get(_direct_key(ALL_DIRECT, key))
    if everything is not None and everything[0] != DIRECT_STATUS:
        return dict.fromkeys(DIRECT_KINDS, False)
    receiving: dict[str, bool] = {}
    for kind in DIRECT_KINDS:
        found = statuses.get(_direct_key(kind, key))
        receiving[kind] = found is None or (found[0] == DIRECT_STATUS and bool(found[1]))
    return receiving


def set_direct_preferences(session: Session, email: str, wanted: Iterable[str]) -> dict[str, bool]:
    """Receive the direct e-mail kinds in ``wanted`` at ``email`` and stop every other kind;
    answers :func:`direct_preferences` after the change.

    Only for an address whose owner is proven (a resident's confirmed address): unlike an
    unsubscribe link, this turns e-mail back on. An unknown kind is refused before anything
    changes. Where every kind was stopped, wanting any kind lifts that stop: the subscription
    that stands for every kind goes back to ``direct`` (kept, not deleted, so the link in an
    e-mail sent before kinds existed still finds it and can stop everything again); the kinds
    not wanted get stopped subscriptions of their own, so they stay stopped.
    """
    chosen = set(wanted)
    unknown = sorted(chosen - set(DIRECT_KINDS))
    if unknown:
        named = ", ".join(k[:40] for k in unknown[:3])  # what was sent, kept short
        message = f"メールの種類が正しくありません: {named} / unknown kind of e-mail: {named}"
        raise ValidationProblem(message, errors={"kinds": [message]})
    address = normalize_email(email)
    key = address_key("email", address)
    keys = {_direct_key(k, key): k for k in (ALL_DIRECT, *DIRECT_KINDS)}
    found = {
        keys[s.address_key]: s
        for s in session.scalars(select(Subscription).where(Subscription.address_key.in_(keys)))
        if s.address_key is not None
    }
    for kind in DIRECT_KINDS:
        row = found.get(kind)
        if kind in chosen:
            row = row or direct_email_subscription(session, address, kind)
            row.status, row.address = DIRECT_STATUS, address
        elif row is None:
            session.add(
                Subscription(
                    channel="email", address_key=_direct_key(kind, key), address="",
                    status="unsubscribed", topics=[], towns=[],
                )
            )  # fmt: skip
        elif row.status != "unsubscribed":
            unsubscribe(session, row)
    everything = found.get(ALL_DIRECT)
    if chosen and everything is not None and everything.status != DIRECT_STATUS:
        everything.status = DIRECT_STATUS  # address stays "": nothing is queued on it
    session.flush()
    return direct_preferences(session, address)


def report_update_email(event: ReportStatusChanged) -> tuple[str, str]:
    subject = (
        f"【三鷹市】ご報告 {event.request_id} 番は「{event.state_ja}」になりました / "
        f"Report {event.request_id}: {event.state_en}"
    )
    note_ja = f"\n市からのお知らせ:\n{event.note}\n" if event.note else ""
    body = (
        "【日本語】\n"
        f"ご報告いただいた「{event.service_ja}」（受付番号 {event.request_id}）の対応状況が"
        f"「{event.state_ja}」になりました。\n{note_ja}\n"
        f"詳しくは: {event.url}\n\n"
        "[English]\n"
        f'Your report "{event.service_en}" (number {event.request_id}) is now: '
        f"{event.state_en}.\nDetails: {event.url}"
    )
    return subject, body


def on_report_status_changed(db: Database, event: ReportStatusChanged) -> list[Delivery]:
    """Tell each reporter who gave an e-mail address that their report moved on."""
    subject, body = report_update_email(event)
    queued = []
    with db.session() as session:
        for email in event.recipients:
            try:
                delivery = queue_direct_email(session, email, subject, body, kind="reports")
            except ValidationProblem:
                log.warning("report %s: not an address we can write to", event.request_id)
                continue
            if delivery is not None:
                queued.append(delivery)
    return queued


def application_update_email(event: ApplicationStatusChanged) -> tuple[str, str]:
    subject = (
        f"【三鷹市】申請 {event.submission_id} 番は「{event.status_ja}」になりました / "
        f"Application {event.submission_id}: {event.status_en}"
    )
    comment = (
        f"\n市からのコメント / Comment from the city:\n{event.comment}\n" if event.comment else ""
    )
    body = (
        "【日本語】\n"
        f"電子申請「{event.form_ja}」（申請番号 {event.submission_id}）の状態が"
        f"「{event.status_ja}」になりました。\n"
        f"{comment}\n"
        f"マイページで確かめられます: {event.url}\n\n"
        "[English]\n"
        f'Your online application "{event.form_en}" (number {event.submission_id}) is now: '
        f"{event.status_en}.\nSee it on your my page: {event.url}"
    )
    return subject, body


def on_application_status_changed(db: Database, event: ApplicationStatusChanged) -> Delivery | None:
    """Tell the applicant that their online application moved on (None: they stopped these,
    or their address is not confirmed yet)."""
    if not event.email:
        return None
    subject, body = application_update_email(event)
    with db.session() as session:
        try:
            return queue_direct_email(session, event.email, subject, body, kind="applications")
        except ValidationProblem:
            log.warning("application %s: not an address we can write to", event.submission_id)
            return None


# --- webhooks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookInput:
    url: str
    secret: str = ""
    towns: Sequence[str] = ()
    topics: Sequence[str] = tuple(filters.TOPICS)
    language: str = "ja"
    label: str = ""


def _literal_private_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def create_webhook(
    session: Session, owner: User, data: WebhookInput, *, allow_private: bool = False
) -> tuple[Subscription, str]:
    """A developer's or the city's webhook; answers the subscription and its signing secret."""
    errors: dict[str, list[str]] = {}
    url = ""
    try:
        url = check_http_url(data.url, public=not allow_private)
        if not allow_private and _literal_private_host(url):
            errors["url"] = [
                "内部ネットワークのアドレスには送れません / the URL points at a private address"
            ]
    except ValidationProblem as exc:
        errors.update(exc.errors)
    secret = data.secret or ("whsec_" + secrets.token_urlsafe(32))
    # (SECRET_PATTERN documents this length rule.)
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        errors["secret"] = [
            f"秘密鍵は{SECRET_MIN}〜{SECRET_MAX}文字にしてください / the secret must have "
            f"{SECRET_MIN}-{SECRET_MAX} characters"
        ]
    if len(data.label or "") > 200:
        errors["label"] = ["200文字までです / at most 200 characters"]
    chosen = check_filters(data.towns, data.topics, data.language, errors)
    if errors:
        raise _problem(errors)
    subscription = Subscription(
        channel="webhook",
        address=url,
        status="active",
        secret=secret,
        towns=chosen.towns,
        topics=chosen.topics,
        language=chosen.language,
        label=(data.label or "").strip(),
        owner_id=owner.id,
        confirmed_at=utcnow(),
    )
    session.add(subscription)
    session.flush()
    audit.record(
        session, owner, "notify.webhook.create", "subscription", subscription.id,
        summary=urlsplit(url).netloc, via="api",
    )  # fmt: skip
    return subscription, secret


def list_webhooks(session: Session, user: User) -> list[Subscription]:
    query = select(Subscription).where(
        Subscription.channel == "webhook", Subscription.status == "active"
    )
    if not can_manage(user):
        query = query.where(Subscription.owner_id == user.id)
    return list(session.scalars(query.order_by(Subscription.created_at)))


def get_webhook(session: Session, user: User, subscription_id: str) -> Subscription:
    found = session.get(Subscription, subscription_id) if len(subscription_id) <= 36 else None
    if (
        found is None
        or found.channel != "webhook"
        or found.status != "active"
        or (found.owner_id != user.id and not can_manage(user))
    ):
        raise NotFoundProblem("Webhook が見つかりません / webhook not found")
    return found


def delete_webhook(session: Session, user: User, subscription_id: str) -> None:
    found = get_webhook(session, user, subscription_id)
    unsubscribe(session, found)
    audit.record(session, user, "notify.webhook.delete", "subscription", found.id, via="api")


# --- Web Push --------------------------------------------------------------------------------


def _b64url_length(value: str) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return None


def subscribe_webpush(
    session: Session,
    *,
    endpoint: str,
    p256dh: str,
    auth_secret: str,
    towns: Iterable[str] = (),
    topics: Iterable[str] = ("disaster",),
    language: str = "ja",
    allow_private: bool = False,
) -> Subscription:
    """Save (or update) a browser's push subscription with its filters."""
    errors: dict[str, list[str]] = {}
    try:
        check_http_url(endpoint, "endpoint", public=not allow_private)
        if not allow_private and not re.search(HTTPS_URL_PATTERN, endpoint):
            errors["endpoint"] = [
                "プッシュサービスの https URL ではありません / not an https push service URL"
            ]
    except ValidationProblem as exc:
        errors.update(exc.errors)
    if not re.search(P256DH_PATTERN, p256dh or "") or _b64url_length(p256dh) != 65:
        errors["keys.p256dh"] = ["P-256 公開鍵ではありません / not a P-256 public key"]
    if not re.search(AUTH_PATTERN, auth_secret or "") or _b64url_length(auth_secret) != 16:
        errors["keys.auth"] = ["16バイトの認証鍵ではありません / not a 16-byte auth secret"]
    chosen = check_filters(towns, topics, language, errors)
    if errors:
        raise _problem(errors)
    subscription = _by_address(session, "webpush", endpoint)
    if subscription is None:
        subscription = Subscription(
            channel="webpush", address_key=address_key("webpush", endpoint), confirmed_at=utcnow()
        )
        session.add(subscription)
    elif subscription.keys.get("auth") and subscription.keys.get("auth") != auth_secret:
        raise ForbiddenProblem(
            "このブラウザの購読ではありません / this push subscription belongs to another browser"
        )
    subscription.address = endpoint
    subscription.keys = {"p256dh": p256dh, "auth": auth_secret}
    subscription.status = "active"
    subscription.towns, subscription.topics = chosen.towns, chosen.topics
    subscription.language = chosen.language
    session.flush()
    return subscription


def find_webpush(session: Session, endpoint: str, auth_secret: str) -> Subscription:
    """The browser's own subscription: it proves it with the auth secret only it knows."""
    found = _by_address(session, "webpush", endpoint or "")
    if (
        found is None
        or found.status != "active"
        or not secrets.compare_digest(str(found.keys.get("auth", "")), auth_secret or "")
    ):
        raise NotFoundProblem("購読が見つかりません / push subscription not found")
    return found


# --- LINE ------------------------------------------------------------------------------------

LINE_DEFAULT_TOPICS = ["disaster"]


def _line_subscription(session: Session, user_id: str) -> Subscription:
    subscription = _by_address(session, "line", user_id)
    if subscription is None:
        subscription = Subscription(
            channel="line",
            address_key=address_key("line", user_id),
            topics=list(LINE_DEFAULT_TOPICS),
            towns=[],
            language="ja",
        )
        session.add(subscription)
    if subscription.status != "active":
        subscription.status = "active"
        subscription.confirmed_at = utcnow()
    subscription.address = user_id
    session.flush()
    return subscription


# LINE's limits: 13 quick reply buttons, a label of 20 characters, an action text of 300.
QUICK_REPLIES = 3
QUICK_LABEL_MAX = 20
QUICK_TEXT_MAX = 300


def _quick_label(question: str) -> str:
    written = " ".join(question.split())
    if len(written) <= QUICK_LABEL_MAX:
        return written
    return written[: QUICK_LABEL_MAX - 1] + "…"


def _apply_command(subscription: Subscription, command: line.Command) -> str:
    if command.error:
        reply = command.error
        asks_help = command.action in ("help", "unknown")
        return reply + ("\n\n" + line.help_text() if asks_help else "")
    if command.action == "towns":
        subscription.towns = list(command.towns)
    elif command.action == "topic":
        topics = set(subscription.topics or [])
        if command.on:
            topics.add(command.topic)
        else:
            topics.discard(command.topic)
        subscription.topics = [t for t in filters.TOPICS if t in topics]
    elif command.action == "language":
        subscription.language = command.language
    elif command.action in ("help", "unknown"):
        return line.help_text()
    settings = line.settings_text(
        list(subscription.towns), list(subscription.topics), subscription.language
    )
    if command.action == "status":
        return settings
    return "設定しました / Saved.\n\n" + settings


def handle_line_events(session: Session, payload: Any, *, now: datetime | None = None) -> list[str]:
    """Apply a LINE webhook's events; answers the ids of the replies queued."""
    now = now or utcnow()
    events = payload.get("events") if isinstance(payload, dict) else None
    replies: list[str] = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or event.get("mode", "active") != "active":
            continue
        source = event.get("source")
        user_id = source.get("userId") if isinstance(source, dict) else None
        if not isinstance(user_id, str) or not user_id or len(user_id) > 100:
            continue
        kind = event.get("type")
        reply_token = event.get("replyToken")
        text = ""
        quick: list[dict[str, str]] = []
        if kind == "follow":
            subscription = _line_subscription(session, user_id)
            text = line.welcome_text(
                list(subscription.towns), list(subscription.topics), subscription.language
            )
        elif kind == "unfollow":
            subscription_or_none = _by_address(session, "line", user_id)
            if subscription_or_none is not None:
                unsubscribe(session, subscription_or_none)
            continue
        elif kind == "message":
            message = event.get("message")
            if not isinstance(message, dict) or message.get("type") != "text":
                continue
            subscription = _line_subscription(session, user_id)
            written = str(message.get("text", ""))
            command = line.parse_command(written)
            answered = _answer_text(session, written) if command.action == "unknown" else None
            if answered is not None:
                text = answered.text
                quick = [
                    {"label": _quick_label(q), "text": q[:QUICK_TEXT_MAX]}
                    for q in answered.suggestions[:QUICK_REPLIES]
                    if q.strip()
                ]
            else:
                text = _apply_command(subscription, command)
        else:
            continue
        if isinstance(reply_token, str) and reply_token and text:
            lead = _evacuation_lead(session)
            if lead:  # in disaster mode, every answer leads with where to go
                text = f"{lead}\n\n{text}"
            payload_out: dict[str, Any] = {"reply_token": reply_token, "text": text}
            if quick:
                payload_out["quick_replies"] = quick
            delivery = _queue(session, subscription, "reply", now, payload_out, 1)
            replies.append(delivery.id)
    session.flush()
    return replies


# --- the delivery worker ---------------------------------------------------------------------


@dataclass
class DeliveryCounts:
    """What one run of the worker did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0

    def record(self, outcome: str) -> None:
        """Count one delivery's outcome ("taken" and "skipped" were not this worker's)."""
        if outcome in ("taken", "skipped"):
            return
        self.claimed += 1
        if outcome == "queued":
            self.retrying += 1
        elif outcome in ("sent", "failed", "unknown", "cancelled"):
            setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, other: DeliveryCounts) -> None:
        for name in ("claimed", "sent", "retrying", "failed", "unknown", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "unknown": self.unknown,
            "cancelled": self.cancelled,
        }


def due_delivery_ids(session: Session, now: datetime, limit: int) -> list[str]:
    query = (
        select(Delivery.id)
        .where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def has_due(session: Session, now: datetime) -> bool:
    return bool(due_delivery_ids(session, now, 1))


def _wanted(delivery: Delivery, subscription: Subscription) -> bool:
    if delivery.kind == "reply":
        return True
    if delivery.kind == "direct":
        return subscription.status == DIRECT_STATUS and bool(subscription.address)
    if delivery.kind == "confirm":
        return subscription.status in ("pending", "active") and bool(subscription.address)
    return subscription.status == "active" and bool(subscription.address)


def _notice_view(notice: Notice) -> NoticeView:
    return NoticeView(
        id=notice.id,
        topic=notice.topic,
        towns=tuple(notice.towns or ()),
        title={"ja": notice.title_ja, "en": notice.title_en, "easy": notice.title_easy},
        body={"ja": notice.body_ja, "en": notice.body_en, "easy": notice.body_easy},
        url=notice.url,
        source=notice.source,
        created_at=notice.created_at,
    )


def claim_delivery(session: Session, delivery_id: str, now: datetime) -> Job | str:
    """Take a queued delivery for sending: ``sending`` with this worker's claim, one more
    attempt logged. Answers the job, or "taken" (another worker has it) or "cancelled"
    (its recipient no longer wants it). The caller commits before sending."""
    claim = new_id()
    taken = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "queued")
        .values(
            status="sending",
            claim=claim,
            claimed_at=now,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return "taken"
    delivery = session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).execution_options(populate_existing=True)
    ).one()
    subscription = delivery.subscription
    attempt = DeliveryAttempt(
        delivery_id=delivery.id, number=delivery.attempts, started_at=now, outcome="sending"
    )
    session.add(attempt)
    if not _wanted(delivery, subscription):
        delivery.status = "cancelled"
        delivery.last_error = "受信者が配信を停止しました / the recipient unsubscribed"
        attempt.outcome, attempt.finished_at = "cancelled", now
        return "cancelled"
    return Job(
        delivery_id=delivery.id,
        claim=claim,
        attempt=delivery.attempts,
        max_attempts=delivery.max_attempts,
        kind=delivery.kind,
        channel=delivery.channel,
        subscription_id=subscription.id,
        address=subscription.address,
        language=subscription.language,
        topics=tuple(delivery.payload.get("topics", subscription.topics) or ()),
        towns=tuple(delivery.payload.get("towns", subscription.towns) or ()),
        secret=subscription.secret,
        keys=dict(subscription.keys or {}),
        payload=dict(delivery.payload or {}),
        notice=_notice_view(delivery.notice) if delivery.notice is not None else None,
    )


def backoff_after(attempt: int) -> timedelta:
    return BACKOFF[min(max(attempt, 1), len(BACKOFF)) - 1]


def finish_delivery(session: Session, job: Job, result: SendResult, now: datetime) -> str:
    """Record what happened to a claimed delivery; answers its new status.

    Only the worker holding the claim writes, and only over ``sending`` or ``unknown``: a
    worker that finishes after another marked its row unknown still records the truth.
    """
    values: dict[str, Any] = {"updated_at": now, "last_error": result.error[:2000]}
    status = result.outcome
    if result.outcome == "sent":
        values.update(sent_at=now, last_error="")
    elif result.outcome == "retry":
        if job.attempt < job.max_attempts:
            status = "queued"
            wait = backoff_after(job.attempt)
            if result.retry_after is not None:
                wait = max(wait, timedelta(seconds=result.retry_after))
            values["next_attempt_at"] = now + wait
        else:
            status = "failed"
            values["last_error"] = (
                f"{job.attempt}回試して届きませんでした / gave up after {job.attempt} attempts: "
                + result.error
            )[:2000]
    values["status"] = status
    written = session.execute(
        update(Delivery)
        .where(
            Delivery.id == job.delivery_id,
            Delivery.claim == job.claim,
            Delivery.status.in_(("sending", "unknown")),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.delivery_id == job.delivery_id, DeliveryAttempt.number == job.attempt
        )
        .values(
            finished_at=now,
            outcome="retry" if result.outcome == "retry" else result.outcome,
            status_code=result.status_code,
            error=result.error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    if result.gone:
        subscription = session.get(Subscription, job.subscription_id)
        if subscription is not None:
            subscription.status = "gone"
            subscription.address = ""
            subscription.keys = {}
    if getattr(written, "rowcount", 0) != 1:
        log.warning("delivery %s changed while it was being sent; kept as is", job.delivery_id)
    return status


def recover_interrupted(
    session: Session, now: datetime, older_than: timedelta = timedelta(0)
) -> int:
    """Mark deliveries left ``sending`` (a worker stopped mid-send) as ``unknown``.

    They may or may not have reached their recipient; sending them again could reach a person
    twice, so they wait for staff (who can send them again from the staff page).
    """
    cutoff = now - older_than
    stale = list(
        session.scalars(
            select(Delivery.id).where(Delivery.status == "sending", Delivery.claimed_at <= cutoff)
        )
    )
    if not stale:
        return 0
    message = (
        "送信中に作業が中断しました。届いたかどうかわかりません / the worker stopped while "
        "sending: it may or may not have arrived"
    )
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(stale), Delivery.status == "sending")
        .values(status="unknown", last_error=message, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(stale), DeliveryAttempt.outcome == "sending")
        .values(outcome="unknown", finished_at=now, error=message)
        .execution_options(synchronize_session=False)
    )
    log.warning("%d deliveries were interrupted while sending and are now unknown", len(stale))
    return len(stale)


def requeue_delivery(session: Session, user: User, delivery_id: str) -> Delivery:
    """Staff decide to send a failed or unknown delivery again."""
    if not can_manage(user):
        raise ForbiddenProblem(
            f"{user.name} にはこの操作の権限がありません / {user.name} may not do this"
        )
    delivery = session.get(Delivery, delivery_id) if len(delivery_id) <= 36 else None
    if delivery is None:
        raise NotFoundProblem("配信が見つかりません / delivery not found")
    if delivery.status not in ("failed", "unknown"):
        raise ConflictProblem(
            "送信待ち・送信済みの配信は再送できません / only failed or unknown deliveries can be sent again"
        )
    delivery.status = "queued"
    delivery.next_attempt_at = utcnow()
    delivery.max_attempts = delivery.attempts + MAX_ATTEMPTS
    audit.record(session, user, "notify.delivery.requeue", "delivery", delivery.id)
    return delivery


def _deliver_one(
    db: Database,
    transport: Transport,
    delivery_id: str,
    clock: Callable[[], datetime],
    should_stop: Callable[[], bool],
) -> str:
    if should_stop():
        return "skipped"
    with db.session() as session:
        job = claim_delivery(session, delivery_id, clock())
    if isinstance(job, str):
        return job
    return _send_claimed(db, transport, job, clock)


def _send_claimed(
    db: Database, transport: Transport, job: Job, clock: Callable[[], datetime]
) -> str:
    """Send a claimed (and committed) delivery once and record how it went."""
    try:
        result = channels.send(job, transport)
    except Exception as exc:
        log.exception("sending delivery %s failed unexpectedly", job.delivery_id)
        result = SendResult("unknown", f"内部エラー / internal error: {exc!r}"[:500])
    with db.session() as session:
        return finish_delivery(session, job, result, clock())


def send_now_to(
    db: Database,
    config: NotifyConfig | Settings,
    subscription_ids: Sequence[str],
    notice_ids: Sequence[str],
) -> DeliveryCounts:
    """Queue these notices for those of these subscribers whose topics and towns they meet,
    and send them at once, from this process.

    Each delivery is claimed in the transaction that creates it, so no other worker (the
    app's own) ever finds it due: for the flood demo's local SMTP server and receiver, or a
    deliberate re-send. A subscriber who already has a delivery of a notice is skipped (one
    copy each, as always). A failure is retried later by the worker, as any delivery.
    """
    config = notify_config(config)
    now = utcnow()
    jobs: list[Job] = []
    with db.session() as session:
        subscriptions = session.scalars(
            select(Subscription).where(Subscription.id.in_(list(subscription_ids)))
        ).all()
        notices = session.scalars(select(Notice).where(Notice.id.in_(list(notice_ids)))).all()
        for subscription in subscriptions:
            for notice in notices:
                # What the subscriber asked for, as when a notice is queued.
                if notice.topic not in (subscription.topics or []):
                    continue
                if not filters.towns_overlap(subscription.towns or [], notice.towns or []):
                    continue
                notice_id = notice.id
                had = session.scalar(
                    select(Delivery.id).where(
                        Delivery.notice_id == notice_id,
                        Delivery.subscription_id == subscription.id,
                    )
                )
                if had is not None:
                    continue
                row = Delivery(
                    **_delivery_row(
                        notice_id, subscription.id, subscription.channel, "notice", {},
                        MAX_ATTEMPTS, now,
                    )
                )  # fmt: skip
                session.add(row)
                session.flush()
                job = claim_delivery(session, row.id, now)
                if not isinstance(job, str):
                    jobs.append(job)
    counts = DeliveryCounts()
    with Transport(config) as transport:
        for job in jobs:
            counts.record(_send_claimed(db, transport, job, utcnow))
    return counts


def _deliver(
    db: Database,
    config: NotifyConfig,
    ids: Sequence[str],
    now: datetime | None,
    should_stop: Callable[[], bool] | None,
) -> DeliveryCounts:
    counts = DeliveryCounts()
    if not ids:
        return counts
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    stop = should_stop or (lambda: False)
    workers = min(config.notify_worker_concurrency, len(ids))
    with Transport(config) as transport:
        if workers == 1:
            outcomes = [_deliver_one(db, transport, i, clock, stop) for i in ids]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="cityos-notify") as pool:
                outcomes = list(
                    pool.map(lambda i: _deliver_one(db, transport, i, clock, stop), ids)
                )
    for outcome in outcomes:
        counts.record(outcome)
    return counts


def deliver_due(
    db: Database,
    config: NotifyConfig | Settings,
    now: datetime | None = None,
    limit: int = 100,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryCounts:
    """Send up to ``limit`` deliveries that are due at ``now`` (default: the clock).

    Each is claimed and committed as ``sending`` before it is sent, then recorded as sent,
    queued again with backoff (1 min, 5 min, 30 min, 2 h, 12 h), failed or unknown.
    """
    config = notify_config(config)
    with db.session() as session:
        ids = due_delivery_ids(session, now or utcnow(), limit)
    return _deliver(db, config, ids, now, should_stop)


def deliver_now(
    db: Database, config: NotifyConfig | Settings, ids: Sequence[str]
) -> DeliveryCounts:
    """Send these queued deliveries at once (a LINE reply, a confirmation e-mail)."""
    try:
        return _deliver(db, notify_config(config), list(ids), None, None)
    except Exception:
        # The worker sends whatever is still queued; the request that asked must not fail.
        log.exception("immediate delivery failed; the worker will retry")
        return DeliveryCounts()


# --- what staff see --------------------------------------------------------------------------


def mask_address(channel: str, address: str) -> str:
    """Enough to tell recipients apart, not to contact them."""
    if not address:
        return "—"
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if channel == "line":
        return address[:5] + "…"
    parts = urlsplit(address)
    if channel == "webpush":
        return f"{parts.scheme}://{parts.hostname}/…"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass(frozen=True)
class ProblemDelivery:
    id: str
    status: str
    channel: str
    kind: str
    recipient: str
    notice_title: str
    attempts: int
    error: str
    updated_at: datetime


def problem_deliveries(session: Session, limit: int = 50) -> list[ProblemDelivery]:
    rows = session.execute(
        select(Delivery, Subscription.address, Notice.title_ja)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .outerjoin(Notice, Notice.id == Delivery.notice_id)
        .where(Delivery.status.in_(("failed", "unknown")))
        .order_by(Delivery.updated_at.desc())
        .limit(limit)
    ).all()
    return [
        ProblemDelivery(
            id=d.id,
            status=d.status,
            channel=d.channel,
            kind=d.kind,
            recipient=mask_address(d.channel, address),
            notice_title=title
            or {"confirm": "（登録確認メール）", "reply": "（LINE 返信）"}.get(d.kind, ""),
            attempts=d.attempts,
            error=d.last_error,
            updated_at=d.updated_at,
        )
        for d, address, title in rows
    ]


@dataclass
class SubscriptionSummary:
    by_channel: dict[str, Counter[str]] = field(default_factory=dict)  # channel → status → n
    by_town: Counter[str] = field(default_factory=Counter)  # 町 → active subscriptions
    whole_city: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    active: int = 0
    # Direct e-mail, by kind (and ALL_DIRECT): "receiving" and "stopped" addresses. Not in
    # by_channel, whose columns are those of notice subscriptions.
    direct: dict[str, Counter[str]] = field(default_factory=dict)


def subscription_summary(session: Session) -> SubscriptionSummary:
    summary = SubscriptionSummary(by_channel={c: Counter() for c in CHANNELS})
    is_direct = Subscription.address_key.like("direct-%")
    for channel, status, count in session.execute(
        select(Subscription.channel, Subscription.status, func.count())
        .where(or_(Subscription.address_key.is_(None), ~is_direct))
        .group_by(Subscription.channel, Subscription.status)
    ):
        summary.by_channel.setdefault(channel, Counter())[status] += count
    for kind in (*DIRECT_KINDS, ALL_DIRECT):
        counts: Counter[str] = Counter()
        prefix = _direct_key(kind, "email:")
        for status, count in session.execute(
            select(Subscription.status, func.count())
            .where(Subscription.address_key.like(prefix + "%"))
            .group_by(Subscription.status)
        ):
            counts["receiving" if status == DIRECT_STATUS else "stopped"] += count
        summary.direct[kind] = counts
    for towns, topics in session.execute(
        select(Subscription.towns, Subscription.topics).where(Subscription.status == "active")
    ):
        summary.active += 1
        if not towns:
            summary.whole_city += 1
        for base in {filters.base_town(t) for t in towns or []}:
            summary.by_town[base] += 1
        for topic in topics or []:
            summary.by_topic[topic] += 1
    return summary


def queue_counts(session: Session) -> Counter[str]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return Counter({str(status): int(count) for status, count in rows})
