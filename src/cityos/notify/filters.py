"""What a resident filters notices by: topics, Mitaka's 町名, and the language they read.

Towns are Mitaka's 町 (下連雀) or 町丁目 (下連雀三丁目), as the city's address data lists them.
A subscription for a 町 gets the notices for any of its 丁目, a subscription for one 丁目 gets
the notices for that 丁目 and for the whole 町; no towns at all means the whole city.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from cityos.core import text

CITY = "東京都三鷹市"
WHOLE_CITY_WORDS = frozenset({"全域", "市内全域", "全市", "すべて", "全部", "all", "whole city"})


@dataclass(frozen=True)
class Topic:
    id: str
    ja: str
    en: str
    easy: str


# The city's 安全安心メール topics first, then the city's general news.
TOPICS: dict[str, Topic] = {
    t.id: t
    for t in (
        Topic("disaster", "防災", "Disaster prevention", "さいがい"),
        Topic("crime", "防犯", "Crime prevention", "はんざい"),
        Topic("environment", "環境", "Environment", "かんきょう"),
        Topic("city", "市からのお知らせ", "City news", "しからの おしらせ"),
    )
}

LANGUAGES: dict[str, tuple[str, str]] = {
    "ja": ("日本語", "Japanese"),
    "en": ("English", "English"),
    "easy": ("やさしい日本語", "Easy Japanese"),
}

# Readings of Mitaka's 町, for English pages and romanized input.
_TOWN_READINGS: dict[str, tuple[str, str]] = {
    "井口": ("いぐち", "Iguchi"),
    "井の頭": ("いのかしら", "Inokashira"),
    "大沢": ("おおさわ", "Osawa"),
    "上連雀": ("かみれんじゃく", "Kamirenjaku"),
    "北野": ("きたの", "Kitano"),
    "下連雀": ("しもれんじゃく", "Shimorenjaku"),
    "新川": ("しんかわ", "Shinkawa"),
    "深大寺": ("じんだいじ", "Jindaiji"),
    "中原": ("なかはら", "Nakahara"),
    "野崎": ("のざき", "Nozaki"),
    "牟礼": ("むれ", "Mure"),
}
_CHOME = re.compile(r"[一二三四五六七八九十]+丁目$")


class FilterError(ValueError):
    """A topic, town or language that is not one of ours; the message is bilingual."""


@dataclass(frozen=True)
class Town:
    name: str  # 下連雀
    kana: str
    en: str
    chome: tuple[str, ...]  # 下連雀一丁目 ... (empty when the town has none)


def base_town(name: str) -> str:
    """下連雀三丁目 → 下連雀; a 町 stays as it is."""
    return _CHOME.sub("", name)


@cache
def towns() -> tuple[Town, ...]:
    """Mitaka's 町 in 五十音 order, each with its 丁目, from the city's address data."""
    source = resources.files("cityos.opendata") / "demo_data/geolonia_towns_132047_mitaka.json"
    rows = json.loads(source.read_text(encoding="utf-8"))
    chome: dict[str, list[str]] = {}
    for row in rows:
        name = str(row["town"])
        chome.setdefault(base_town(name), [])
        if name != base_town(name):
            chome[base_town(name)].append(name)
    found = []
    for base, names in chome.items():
        kana, en = _TOWN_READINGS.get(base, (base, base))
        ordered = sorted(names, key=lambda n: text.kanji_to_int(n[len(base) : -2]))
        found.append(Town(base, kana, en, tuple(ordered)))
    return tuple(sorted(found, key=lambda t: t.kana))


@cache
def _known() -> dict[str, str]:
    """Every accepted spelling (name, kana, romaji, 丁目) → the canonical name."""
    known: dict[str, str] = {}
    for town in towns():
        for spelling in (town.name, town.kana, town.en.lower()):
            known[spelling] = town.name
        for chome in town.chome:
            known[chome] = chome
    return known


def _order(name: str) -> tuple[int, int]:
    names = [t.name for t in towns()]
    base = base_town(name)
    town = towns()[names.index(base)]
    return names.index(base), (town.chome.index(name) + 1 if name in town.chome else 0)


def canonical_town(value: str) -> str | None:
    """The town's name as the city writes it (下連雀, 下連雀三丁目), else None.

    Variants go through the address normalizer: ｼﾓﾚﾝｼﾞｬｸ, 下連雀3丁目, 下連雀３, 井ノ頭.
    """
    written = text.normalize(value).strip()
    for prefix in (CITY, "三鷹市", "東京都"):
        written = written.removeprefix(prefix)
    if not written:
        return None
    known = _known()
    found = known.get(written) or known.get(written.lower())
    if found:
        return found
    from cityos.address import service as address

    result = address.normalize(CITY + written)
    if result.city == "三鷹市" and result.town and not result.other and not result.addr:
        return known.get(result.town)
    return None


def parse_towns(values: Iterable[str]) -> list[str]:
    """Canonical town names, deduplicated and in the city's order; [] is the whole city.

    Raises FilterError naming every value that is not a town of Mitaka.
    """
    found: set[str] = set()
    unknown: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            unknown.append("（空欄 / blank）")
            continue
        if text.normalize(value).strip().lower() in WHOLE_CITY_WORDS:
            return []
        name = canonical_town(value)
        if name is None:
            unknown.append(value.strip()[:50])
        else:
            found.add(name)
    if unknown:
        listed = "、".join(unknown)
        raise FilterError(
            f"三鷹市の町名ではありません: {listed} / not a town of Mitaka: {', '.join(unknown)}"
        )
    # A whole 町 covers its 丁目: keep the broader filter only.
    bases = {name for name in found if name == base_town(name)}
    kept = {name for name in found if name in bases or base_town(name) not in bases}
    return sorted(kept, key=_order)


def parse_topics(values: Iterable[str]) -> list[str]:
    """Topic ids from ids or their Japanese/English names (防犯, crime, Crime prevention)."""
    aliases = {}
    for topic in TOPICS.values():
        for alias in (topic.id, topic.ja, topic.en.lower(), topic.easy):
            aliases[alias] = topic.id
    found: set[str] = set()
    unknown: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            unknown.append("（空欄 / blank）")
            continue
        key = text.normalize(value).strip()
        topic_id = aliases.get(key) or aliases.get(key.lower())
        if topic_id is None:
            unknown.append(value.strip()[:50])
        else:
            found.add(topic_id)
    if unknown:
        names = "、".join(t.ja for t in TOPICS.values())
        raise FilterError(
            f"分野は {names} のいずれかです: {'、'.join(unknown)} / a topic is one of "
            f"{', '.join(TOPICS)}: {', '.join(unknown)}"
        )
    return [topic for topic in TOPICS if topic in found]


def parse_language(value: str) -> str:
    key = (value or "ja").strip().lower()
    aliases = {"ja": "ja", "日本語": "ja", "en": "en", "english": "en", "英語": "en"}
    aliases.update({"easy": "easy", "やさしい日本語": "easy", "やさしい": "easy"})
    if key not in aliases:
        raise FilterError(
            "言語は ja（日本語）、en（English）、easy（やさしい日本語）のいずれかです / "
            "the language is ja, en or easy"
        )
    return aliases[key]


def towns_overlap(subscribed: Sequence[str], targeted: Sequence[str]) -> bool:
    """Whether a subscriber's towns meet a notice's towns (empty on either side: everywhere)."""
    if not subscribed or not targeted:
        return True
    for mine in subscribed:
        for theirs in targeted:
            if mine == theirs:
                return True
            if base_town(mine) == base_town(theirs) and (
                mine == base_town(mine) or theirs == base_town(theirs)
            ):
                return True
    return False


def town_label(name: str, lang: str) -> str:
    """下連雀三丁目 in Japanese; "Shimorenjaku 3-chome" in English."""
    if lang != "en":
        return name
    base = base_town(name)
    en = _TOWN_READINGS.get(base, (base, base))[1]
    if name == base:
        return en
    return f"{en} {text.kanji_to_int(name[len(base) : -2])}-chome"


def towns_label(names: Sequence[str], lang: str) -> str:
    if not names:
        return "Whole city" if lang == "en" else "市内全域"
    return (", " if lang == "en" else "、").join(town_label(n, lang) for n in names)


def topic_label(topic_id: str, lang: str) -> str:
    topic = TOPICS.get(topic_id)
    if topic is None:
        return topic_id
    return {"en": topic.en, "easy": topic.easy}.get(lang, topic.ja)
