"""LINE Messaging API: the webhook signature and the text commands residents send.

Residents add the city's LINE account as a friend (a follow event subscribes them) and set
their filters by writing to it: 「町 下連雀」, 「防犯 オン」, 「言語 English」, 「設定」.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from cityos.core import text
from cityos.notify import filters

_TOWN = re.compile(r"^(?:町|まち|地域|ちいき|town|area)\s*(.*)$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^(?:言語|げんご|language|lang)\s*(.+)$", re.IGNORECASE)
_SWITCH = re.compile(
    r"^(.+?)\s*(オン|おん|on|受け取る|オフ|おふ|off|止める|とめる)$", re.IGNORECASE
)
_ON_WORDS = {"オン", "おん", "on", "受け取る"}
_STATUS_WORDS = {"設定", "せってい", "状態", "settings", "status"}
_HELP_WORDS = {"ヘルプ", "へるぷ", "使い方", "つかいかた", "help", "?"}


def signature_valid(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """X-Line-Signature is base64(HMAC-SHA256(channel secret, raw body))."""
    if not channel_secret or not signature:
        return False
    expected = base64.b64encode(
        hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, signature.strip())


@dataclass(frozen=True)
class Command:
    action: str  # towns, topic, language, status, help, unknown (not a command: a question?)
    towns: tuple[str, ...] = ()
    topic: str = ""
    on: bool = True
    language: str = ""
    error: str = ""


def parse_command(message: str) -> Command:
    """What a resident's message asks for; text that is no command is ``unknown`` (it gets
    the FAQ chatbot's answer where one is installed, else the help text)."""
    written = text.normalize(message or "").strip()
    if written.lower() in _STATUS_WORDS:
        return Command("status")
    if written.lower() in _HELP_WORDS or not written:
        return Command("help")
    found = _TOWN.match(written)
    if found:
        names = [n for n in re.split(r"[\s,、・]+", found.group(1)) if n]
        if not names:
            return Command("help", error="町名を書いてください / write a town name")
        try:
            return Command("towns", towns=tuple(filters.parse_towns(names)))
        except filters.FilterError as exc:
            return Command("towns", error=str(exc))
    found = _LANGUAGE.match(written)
    if found:
        try:
            return Command("language", language=filters.parse_language(found.group(1)))
        except filters.FilterError as exc:
            return Command("language", error=str(exc))
    found = _SWITCH.match(written)
    if found:
        try:
            topics = filters.parse_topics([found.group(1)])
        except filters.FilterError as exc:
            return Command("topic", error=str(exc))
        return Command("topic", topic=topics[0], on=found.group(2).lower() in _ON_WORDS)
    return Command("unknown", error=f"「{written[:30]}」はわかりませんでした / not understood")


def settings_text(towns: list[str], topics: list[str], language: str) -> str:
    towns_ja = filters.towns_label(towns, "ja")
    towns_en = filters.towns_label(towns, "en")
    topics_ja = "、".join(filters.topic_label(t, "ja") for t in topics) or "（なし）"
    topics_en = ", ".join(filters.topic_label(t, "en") for t in topics) or "(none)"
    lang_ja, lang_en = filters.LANGUAGES.get(language, filters.LANGUAGES["ja"])
    return (
        "今の設定 / Your settings\n"
        f"町: {towns_ja}\n分野: {topics_ja}\n言語: {lang_ja}\n"
        f"Area: {towns_en} / Topics: {topics_en} / Language: {lang_en}"
    )


def help_text() -> str:
    topics = "・".join(t.ja for t in filters.TOPICS.values())
    return (
        "使い方 / How to use\n"
        "・「町 下連雀」… 受け取る町を選ぶ（「町 全域」で市内全域）\n"
        f"・「防犯 オン」「防犯 オフ」… 分野を切り替える（{topics}）\n"
        "・「言語 English」「言語 やさしい日本語」\n"
        "・「設定」… 今の設定を見る\n"
        'Send "town Shimorenjaku", "crime on", "language English" or "settings".'
    )


def welcome_text(towns: list[str], topics: list[str], language: str) -> str:
    return (
        "三鷹市の防災・防犯などのお知らせをお届けします。\n"
        "You will get notices from Mitaka City here.\n\n"
        + settings_text(towns, topics, language)
        + "\n\n"
        + help_text()
    )
