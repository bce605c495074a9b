"""Where a post is about: Mitaka's towns (with 丁目), their kana and romaji, landmarks and the
shelters of the portal — or a place outside Mitaka.

Residents write places every way: 「三鷹市大沢2丁目」「大沢２−１４」「ｼﾓﾚﾝｼﾞｬｸ3」「Osawa 4-chome」
「ICUの近く」「杏林病院前」. The gazetteer finds the most precise Mitaka place a text names and
answers its 町 (with 丁目 when the text gives one that exists) and a representative point from the
address index or from the shelter's own coordinates. Town names that are also surnames (大沢さん,
野崎くん) are not places.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cityos.core import text

CITY = "三鷹市"
_HONORIFIC = re.compile(r"^(さん|くん|君|ちゃん|様|さま|氏|先生|家|選手)")
_KANJI_DIGITS = "〇一二三四五六七八九十"
# After a town: 2丁目, ２−１４, 四丁目, 2の14, " 4", "4-chome" (romaji).
_CHOME_AFTER = re.compile(
    rf"^\s?(?:([0-9]{{1,2}})|([{_KANJI_DIGITS}]{{1,3}}))\s?(?:丁目|ちょうめ|-chome|chome|\s?-|の|番|$|[^0-9])"
)


@dataclass(frozen=True)
class Place:
    """A place a post names: its 町 (丁目 included when known), point, and why."""

    town: str
    lat: float | None
    lon: float | None
    evidence: str  # the words of the post that named it
    kind: str  # address, town, landmark, shelter


@dataclass(frozen=True)
class Outside:
    evidence: str


@dataclass(frozen=True)
class _Name:
    key: str  # search_key of the name (or lower-case romaji)
    town: str
    kind: str
    max_chome: int  # 0: no 丁目 may follow
    point: tuple[float, float] | None
    romaji: bool = False


@cache
def _places() -> dict[str, Any]:
    source = resources.files("cityos.sns") / "data" / "places.json"
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return data


@cache
def _town_point(town: str) -> tuple[float, float] | None:
    from cityos.address import service as address

    found = address.normalize(CITY + town)
    if found.city == CITY and found.lat is not None and found.lon is not None:
        return (found.lat, found.lon)
    return None


class Gazetteer:
    """Names of Mitaka's places, longest first; build once, then :meth:`find` per post."""

    def __init__(
        self, shelters: Sequence[tuple[str, str, float | None, float | None]] = ()
    ) -> None:
        data = _places()
        names: list[_Name] = []
        self.max_chome: dict[str, int] = {}
        for town, info in data["towns"].items():
            self.max_chome[town] = int(info["chome"])
            names.append(_Name(text.search_key(town), town, "town", int(info["chome"]), None))
            for kana in info["kana"]:
                names.append(_Name(text.search_key(kana), town, "town", int(info["chome"]), None))
            for romaji in info["romaji"]:
                names.append(_Name(romaji, town, "town", int(info["chome"]), None, romaji=True))
        for landmark in data["landmarks"]:
            for name in landmark["names"]:
                is_romaji = name.isascii()
                key = name.lower() if is_romaji else text.search_key(name)
                names.append(_Name(key, landmark["town"], "landmark", 0, None, romaji=is_romaji))
        for name, town, lat, lon in shelters:
            if not town or len(name) < 3:
                continue
            point = (lat, lon) if lat is not None and lon is not None else None
            names.append(_Name(text.search_key(name), town, "shelter", 0, point))
        self._kanji = {n.key: n for n in sorted(names, key=lambda n: len(n.key)) if not n.romaji}
        self._romaji = {n.key: n for n in names if n.romaji}
        kanji_keys = sorted(self._kanji, key=len, reverse=True)
        self._kanji_re = re.compile("|".join(re.escape(k) for k in kanji_keys))
        romaji_keys = sorted(self._romaji, key=len, reverse=True)
        self._romaji_re = re.compile(
            r"(?<![a-z])(" + "|".join(re.escape(k) for k in romaji_keys) + r")(?![a-z])"
        )
        outside = [text.search_key(o) if not o.isascii() else o.lower() for o in data["outside"]]
        self._outside_re = re.compile(
            "|".join(re.escape(o) for o in sorted(outside, key=len)[::-1])
        )

    def find(
        self, written: str, key: str | None = None, lower: str | None = None
    ) -> Place | Outside | None:
        """The most precise Mitaka place ``written`` names; else a place outside; else None.

        ``key`` and ``lower`` (its search key and lower-cased normal form) may be passed
        when the caller has them already.
        """
        key = text.search_key(written) if key is None else key
        lower = text.normalize(written).lower() if lower is None else lower
        outside_spans = [m.span() for m in self._outside_re.finditer(key)]
        best: Place | None = None
        for match in self._kanji_re.finditer(key):
            if any(a <= match.start() < b for a, b in outside_spans):
                continue  # 深大寺そば, 調布市深大寺: the place outside
            name = self._kanji[match.group()]
            place = self._place(name, key, match.start(), match.end())
            if place is not None and _better(place, best):
                best = place
        for match in self._romaji_re.finditer(lower):
            name = self._romaji[match.group(1)]
            place = self._place(name, lower, match.start(1), match.end(1))
            if place is not None and _better(place, best):
                best = place
        if best is not None:
            return best
        outside = self._outside_re.search(key) or self._outside_re.search(lower)
        return Outside(outside.group()) if outside else None

    def _place(self, name: _Name, written: str, start: int, end: int) -> Place | None:
        after = written[end:]
        if name.kind == "town" and _HONORIFIC.match(after):
            return None  # 大沢さん: a person
        before = written[max(0, start - 4) : start]
        if name.kind == "town" and not name.romaji and _inside_word(before, after, name):
            return None
        evidence = written[start:end]
        chome = self._chome(name, after) if name.max_chome else 0
        if chome:
            town = f"{name.town}{text.chome_to_kanji(chome)}丁目"
            match = _CHOME_AFTER.match(after)
            evidence += after[: match.end(1) if match and match.group(1) else 2].rstrip()
            lat, lon = _town_point(town) or _town_point(name.town) or (None, None)
            return Place(town, lat, lon, evidence=evidence, kind="address")
        if name.kind == "town" and not name.romaji and _part_of_longer_name(before, after):
            return None  # 新川崎, 北野天満宮, 中原区, 東大沢: another place
        point = name.point or _town_point(name.town) or _town_point(_base(name.town))
        lat, lon = point or (None, None)
        return Place(name.town, lat, lon, evidence=evidence, kind=name.kind)

    def _chome(self, name: _Name, after: str) -> int:
        match = _CHOME_AFTER.match(after)
        if not match:
            return 0
        value = int(match.group(1)) if match.group(1) else text.kanji_to_int(match.group(2))
        return value if 1 <= value <= name.max_chome else 0


def _base(town: str) -> str:
    return re.sub(r"[一二三四五六七八九十]+丁目$", "", town)


_RANK = {"address": 4, "shelter": 3, "landmark": 3, "town": 2}


def _better(place: Place, best: Place | None) -> bool:
    if best is None:
        return True
    return (_RANK[place.kind], len(place.evidence)) > (_RANK[best.kind], len(best.evidence))


_KANJI = re.compile(r"[\u4e00-\u9fff々]")
# Kanji that may follow a town's name in a place: 丁目, 付近, 周辺, 方面, 地区, 辺り, 交差点, 通り ...
_PLACE_SUFFIX = "丁付周方地辺交通住近駅側内全一二三四五六七八九"


def _part_of_longer_name(before: str, after: str) -> bool:
    """Whether a town's kanji name stands inside a longer name (新川崎, 中原区, 上大沢)."""
    if before and _KANJI.match(before[-1]) and not before.endswith(("三鷹市", "三鷹", "市")):
        return True
    return bool(after and _KANJI.match(after[0]) and after[0] not in _PLACE_SUFFIX)


def _inside_word(before: str, after: str, name: _Name) -> bool:
    """A kana reading inside a longer word (むれ in 群れ's reading, のざき in ...)."""
    if not re.fullmatch(r"[ぁ-ゖー]+", name.key):
        return False
    return bool(before and re.search(r"[ぁ-ゖー]$", before)) or bool(
        after
        and re.match(r"^[ぁ-ゖー]", after)
        and not after.startswith(("の", "で", "に", "は", "が", "を", "へ", "から", "まで"))
    )


def gazetteer_from(session: Any) -> Gazetteer:
    """The gazetteer with the portal's shelters (their names and coordinates) added."""
    from cityos.disaster import service

    shelters = [
        (re.split(r"[（(]", s.name)[0].strip(), s.town, s.lat, s.lon)
        for s in service.list_shelters(session)
        if s.city == CITY and s.town
    ]
    return Gazetteer(shelters)


def town_in_english(town: str) -> str:
    """大沢四丁目 → "Osawa 4-chome", 大沢 → "Osawa" (the town as it is written unknown)."""
    base = _base(town)
    info = _places()["towns"].get(base)
    if not info or not info.get("romaji"):
        return town
    name = str(info["romaji"][0]).replace("-", " ").title()
    chome = town[len(base) :].removesuffix("丁目")
    return f"{name} {text.kanji_to_int(chome)}-chome" if chome else name
