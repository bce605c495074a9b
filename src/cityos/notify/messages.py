"""What each channel sends: e-mails, LINE texts, push payloads and webhook bodies.

Japanese comes first; a subscriber who chose English or やさしい日本語 reads that first, and
every message still carries the other languages the notice has.
"""

from __future__ import annotations

import email.policy
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from cityos.notify import filters, kinds, links
from cityos.notify.config import NotifyConfig

LINE_TEXT_LIMIT = 5000  # characters in one LINE text message
PUSH_PAYLOAD_LIMIT = 3000  # bytes: push services take 4 KB, less the encryption overhead
SUBJECT_LIMIT = 120

CITY = {"ja": "三鷹市", "en": "Mitaka City", "easy": "みたかし"}
RULE = "――――――――――――――――"


@dataclass(frozen=True)
class NoticeView:
    """A notice as the channels need it (read before sending; no database session)."""

    id: str
    topic: str
    towns: tuple[str, ...]
    title: dict[str, str]  # ja, en, easy (empty when the notice has none)
    body: dict[str, str]
    url: str
    source: str
    created_at: datetime

    def text(self, lang: str) -> tuple[str, str]:
        """Title and body in ``lang``, else in Japanese."""
        if self.title.get(lang) and self.body.get(lang):
            return self.title[lang], self.body[lang]
        return self.title["ja"], self.body["ja"]

    def languages(self, first: str) -> list[str]:
        """The notice's languages in the order a subscriber of ``first`` reads them."""
        order = {
            "ja": ["ja", "easy", "en"],
            "en": ["en", "ja", "easy"],
            "easy": ["easy", "ja", "en"],
        }
        return [lang for lang in order.get(first, order["ja"]) if self.title.get(lang)]


@dataclass(frozen=True)
class Job:
    """One claimed delivery: everything needed to send it once."""

    delivery_id: str
    claim: str
    attempt: int
    max_attempts: int
    kind: str  # notice, confirm, reply, direct
    channel: str
    subscription_id: str
    address: str
    language: str
    topics: tuple[str, ...]
    towns: tuple[str, ...]
    secret: str = ""
    keys: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    notice: NoticeView | None = None


def _footer(job: Job, config: NotifyConfig) -> str:
    manage = links.manage_url(config.base_url, config.secret_key, job.subscription_id)
    stop = links.unsubscribe_url(config.base_url, config.secret_key, job.subscription_id)
    lines = [RULE]
    if job.kind == "notice":
        lines.append(f"配信設定の変更 / Change your settings:\n{manage}")
    lines.append(f"配信停止 / Unsubscribe:\n{stop}")
    kind = str(job.payload.get("direct_kind", "")) if job.kind == "direct" else ""
    if kind in kinds.DIRECT_KINDS:
        stops = kinds.label(kind)
        lines.append(
            f"（このリンクで止まるのは「{stops.ja}」だけです。リンク先で、このアドレスあての"
            "市からのメールをすべて止めることもできます。）\n"
            f"(This link stops {stops.en} only; the page also lets you stop every e-mail "
            "the city writes to this address.)"
        )
    lines += [
        "",
        "このメールは送信専用です。返信はできません。",
        "This message was sent automatically; replies are not read.",
        f"{CITY['ja']} City OS — {config.base_url}/notify",
    ]
    return "\n".join(lines)


def _notice_email(job: Job, config: NotifyConfig) -> tuple[str, str]:
    notice = job.notice
    assert notice is not None
    first = job.language
    title, _body = notice.text(first)
    topic = filters.topic_label(notice.topic, first if notice.title.get(first) else "ja")
    city = CITY[first] if notice.title.get(first) else CITY["ja"]
    subject = f"[{city} {topic}] {title}"
    sections = []
    for lang in notice.languages(first):
        heading = {"ja": "【日本語】", "en": "[English]", "easy": "【やさしい にほんご】"}[lang]
        area = filters.towns_label(notice.towns, "en" if lang == "en" else "ja")
        label = {"ja": "対象地域", "en": "Area", "easy": "ばしょ"}[lang]
        sections.append(
            f"{heading}\n{notice.title[lang]}\n\n{notice.body[lang]}\n\n{label}: {area}"
        )
    more = notice.url or links.notice_url(config.base_url, notice.id)
    body = "\n\n".join(sections) + f"\n\n詳しく / More: {more}\n\n" + _footer(job, config)
    return subject, body


def _confirm_email(job: Job, config: NotifyConfig) -> tuple[str, str]:
    confirm = links.confirm_url(config.base_url, config.secret_key, job.delivery_id)
    towns_ja = filters.towns_label(job.towns, "ja")
    towns_en = filters.towns_label(job.towns, "en")
    topics_ja = "、".join(filters.topic_label(t, "ja") for t in job.topics)
    topics_en = ", ".join(filters.topic_label(t, "en") for t in job.topics)
    subject = "【三鷹市】メール配信の登録確認 / Please confirm your subscription"
    easy = ""
    if job.language == "easy":
        easy = (
            "【やさしい にほんご】\n"
            "みたかしの メールを うけとる ための かくにんです。\n"
            "したの リンクを ひらいて ください。\n\n"
        )
    body = (
        f"{easy}"
        "三鷹市からのお知らせメールの登録を受け付けました。\n"
        "次のリンクを開いて、登録を完了してください（7日間有効）。\n\n"
        f"{confirm}\n\n"
        f"地域: {towns_ja}\n分野: {topics_ja}\n\n"
        "心当たりがない場合は、このメールを破棄してください。登録は完了しません。\n\n"
        "[English]\n"
        "We received a request to send notices of Mitaka City to this address.\n"
        "Open the link above to confirm it (valid for 7 days).\n"
        f"Area: {towns_en}\nTopics: {topics_en}\n"
        "If you did not ask for this, ignore this e-mail: nothing will be sent.\n\n"
        + _footer(job, config)
    )
    return subject, body


def _direct_email(job: Job, config: NotifyConfig) -> tuple[str, str]:
    """A message written for this one recipient by the domain that queued it."""
    subject = str(job.payload.get("subject", ""))
    body = str(job.payload.get("body", "")) + "\n\n" + _footer(job, config)
    return subject, body


def email_message(job: Job, config: NotifyConfig) -> EmailMessage:
    if job.kind == "confirm":
        subject, body = _confirm_email(job, config)
    elif job.kind == "direct":
        subject, body = _direct_email(job, config)
    else:
        subject, body = _notice_email(job, config)
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    name, address = parseaddr(config.smtp_from)
    domain = config.from_address.rpartition("@")[2] or "localhost"
    unsubscribe = links.unsubscribe_url(config.base_url, config.secret_key, job.subscription_id)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((name, address or config.from_address))
    message["To"] = job.address
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    # Stable across retries, so a mail system that saw it already can tell.
    message["Message-ID"] = f"<{job.delivery_id}@{domain}>"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message["Auto-Submitted"] = "auto-generated"
    message["X-CityOS-Delivery"] = job.delivery_id
    message.set_content(body, charset="utf-8")
    return message


def line_text(job: Job, config: NotifyConfig) -> str:
    """A notice as one LINE text message, in the subscriber's language."""
    notice = job.notice
    assert notice is not None
    lang = job.language if notice.title.get(job.language) else "ja"
    title, body = notice.text(lang)
    topic = filters.topic_label(notice.topic, lang)
    head = f"[{topic}] {title}" if lang == "en" else f"【{topic}】{title}"
    more = notice.url or links.notice_url(config.base_url, notice.id)
    tail = f"\n\n{more}"
    text = f"{head}\n\n{body}"
    if len(text) + len(tail) > LINE_TEXT_LIMIT:
        text = text[: LINE_TEXT_LIMIT - len(tail) - 1] + "…"
    return text + tail


def push_payload(job: Job, config: NotifyConfig) -> bytes:
    """The JSON the service worker shows as a notification (small enough to encrypt)."""
    notice = job.notice
    assert notice is not None
    lang = job.language if notice.title.get(job.language) else "ja"
    title, body = notice.text(lang)
    topic = filters.topic_label(notice.topic, lang)
    data: dict[str, Any] = {
        "title": f"[{topic}] {title}" if lang == "en" else f"【{topic}】{title}",
        "body": body,
        "url": notice.url or links.notice_url(config.base_url, notice.id),
        "tag": f"cityos-{notice.id}",
        "lang": "en" if lang == "en" else "ja",
        "notice_id": notice.id,
        "delivery_id": job.delivery_id,
    }
    encoded = json.dumps(data, ensure_ascii=False).encode()
    while len(encoded) > PUSH_PAYLOAD_LIMIT and data["body"]:
        data["body"] = data["body"][: max(0, len(data["body"]) - 200)].rstrip() + "…"
        if len(data["body"]) <= 1:
            data["body"] = ""
        encoded = json.dumps(data, ensure_ascii=False).encode()
    return encoded


def webhook_body(job: Job, config: NotifyConfig) -> bytes:
    """The JSON a webhook receives; the same bytes on every retry of one delivery."""
    notice = job.notice
    assert notice is not None
    topic = filters.TOPICS.get(notice.topic)
    body = {
        "delivery_id": job.delivery_id,
        "event": "notice",
        "notice": {
            "id": notice.id,
            "topic": notice.topic,
            "topic_label": {"ja": topic.ja, "en": topic.en} if topic else {},
            "towns": list(notice.towns),
            "title": {lang: text for lang, text in notice.title.items() if text},
            "body": {lang: text for lang, text in notice.body.items() if text},
            "url": notice.url,
            "page": links.notice_url(config.base_url, notice.id),
            "source": notice.source,
            "created_at": notice.created_at.isoformat(),
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
