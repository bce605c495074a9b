"""Build the address dev set: benchmarks/data/address_devset.jsonl (seeded, deterministic).

Every line is one address a resident, a form or an old ledger might give, with what the
normalizer should answer::

    {"id": 1, "category": "well_formed", "input": "東京都三鷹市下連雀三丁目22-14",
     "expected": {"pref": "東京都", "city": "三鷹市", "town": "下連雀三丁目",
                  "addr": "22-14", "level": 8}}

The addresses are synthetic but built on real names: the expected pref/city/town always come
from the official town list shipped with the product (``src/cityos/address/data/``: Geolonia's
japanese-addresses, CC BY 4.0, and Japan Post's KEN_ALL); only the 番地/号 numbers and the
buildings are invented. ``real`` holds hand-written addresses of well-known public buildings.
benchmarks/data/README.md explains every category.

    python3 benchmarks/make_address_devset.py              # writes the committed file
    python3 benchmarks/make_address_devset.py --seed 7 --output /tmp/devset.jsonl

It needs only the standard library, so any Python 3.11 runs it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "src" / "cityos" / "address" / "data"
DEFAULT_OUTPUT = HERE / "data" / "address_devset.jsonl"
DEFAULT_SEED = 20260401
MITAKA = ("東京都", "三鷹市")

# --- Japanese numbers and characters ---------------------------------------------------------

_KANJI_DIGITS = "〇一二三四五六七八九"
_KANJI_VALUES = {c: i for i, c in enumerate(_KANJI_DIGITS)}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_CHOME = re.compile("^(?P<base>.+?)(?P<num>[一二三四五六七八九十]+)丁目$")
# The characters that make up a usable town name: kanji, kana, 々, 〆, ヶ.
_NAME = re.compile("^[\u3005\u3006\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff\uf900-\ufaff]+$")
_ENDS_NUMERIC = re.compile("[〇一二三四五六七八九十百千丁条線号番割区]$")
DASHES = "-‐‑‒–—―−ーｰ－"  # every dash residents type
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－",
)

# Characters written either way in place names. OLD_NEW pairs an old form (旧字体) with its new
# form; the variants category swaps one of them, or a ケ/ヶ/が or ノ/の/之, in either direction.
OLD_NEW = [
    ("澤", "沢"), ("邊", "辺"), ("邉", "辺"), ("檜", "桧"), ("髙", "高"), ("﨑", "崎"),
    ("濱", "浜"), ("廣", "広"), ("國", "国"), ("櫻", "桜"), ("齋", "斎"), ("瀨", "瀬"),
]  # fmt: skip
KE = "ケヶが"
NO = "ノの之"
# Similar-looking characters for the typo category (each way).
LOOKALIKES = [
    ("大", "太"), ("木", "本"), ("未", "末"), ("田", "由"), ("島", "鳥"), ("宮", "官"),
    ("土", "士"), ("北", "比"), ("西", "酉"), ("王", "玉"), ("千", "干"), ("連", "蓮"),
    ("鷹", "鷲"), ("原", "源"), ("間", "問"), ("新", "親"), ("清", "晴"), ("住", "往"),
    ("賀", "貿"), ("若", "苦"), ("福", "副"), ("緑", "縁"), ("石", "右"), ("今", "令"),
    ("橋", "矯"), ("幡", "播"), ("浦", "捕"), ("瀬", "頼"), ("輪", "倫"), ("岡", "罔"),
]  # fmt: skip
_LOOKALIKE = dict(LOOKALIKES) | {b: a for a, b in LOOKALIKES}
_FOLD = str.maketrans({"ヶ": "ケ", "が": "ケ", "の": "ノ", "之": "ノ"} | dict(OLD_NEW))
_OAZA = re.compile("^(大字|字)")


def kanji_number(n: int) -> str:
    """22 → 二十二, 1234 → 千二百三十四 (the way 丁目 and 番地 are written in kanji)."""
    if n == 0:
        return "〇"
    out = []
    for unit, value in (("千", 1000), ("百", 100), ("十", 10)):
        digit, n = divmod(n, value)
        if digit:
            out.append(("" if digit == 1 else _KANJI_DIGITS[digit]) + unit)
    if n:
        out.append(_KANJI_DIGITS[n])
    return "".join(out)


def kanji_value(text: str) -> int:
    """二十二 → 22 (the 丁目 numbers of the data)."""
    total, digit = 0, 0
    for char in text:
        if char in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[char]
            digit = 0
        else:
            digit = _KANJI_VALUES[char]
    return total + digit


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def _half_width_kana_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in range(0xFF61, 0xFFA0):
        half = chr(code)
        table.setdefault(unicodedata.normalize("NFKC", half), half)
    for code in range(0x30A1, 0x30FB):
        full = chr(code)
        if full in table:
            continue
        base, *marks = unicodedata.normalize("NFD", full)
        if base in table and marks in (["\u3099"], ["\u309a"]):
            table[full] = table[base] + ("ﾞ" if marks == ["\u3099"] else "ﾟ")
    return table


_HALF_KANA = _half_width_kana_table()


def half_width_kana(text: str) -> str:
    return "".join(_HALF_KANA.get(c, c) for c in text)


def hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def fold(name: str) -> str:
    """The key under which two spellings of a name are the same place (for uniqueness checks)."""
    return _OAZA.sub("", unicodedata.normalize("NFKC", name).translate(_FOLD))


def within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


# --- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    pref: str
    city: str
    town: str

    @property
    def chome(self) -> tuple[str, int] | None:
        """(下連雀, 3) for 下連雀三丁目; None for a town without 丁目."""
        found = _CHOME.match(self.town)
        return (found["base"], kanji_value(found["num"])) if found else None

    @property
    def base(self) -> str:
        chome = self.chome
        return chome[0] if chome else self.town


def _tsv(name: str) -> Iterable[dict[str, str]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as lines:
        header = next(lines).rstrip("\n").split("\t")
        for line in lines:
            yield dict(zip(header, line.rstrip("\n").split("\t"), strict=True))


@dataclass
class Atlas:
    """The official lists, arranged for picking addresses whose answer is beyond doubt."""

    prefs: list[str] = field(default_factory=list)
    cities: dict[str, list[str]] = field(default_factory=dict)  # pref → cities (data order)
    towns: dict[tuple[str, str], list[Town]] = field(default_factory=dict)  # usable towns
    all_names: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # every town
    koaza: list[tuple[Town, str]] = field(default_factory=list)
    postcodes: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    kana: dict[tuple[str, str, str], str] = field(default_factory=dict)
    kana_count: Counter[str] = field(default_factory=Counter)
    base_count: Counter[str] = field(default_factory=Counter)

    @classmethod
    def load(cls) -> Atlas:
        atlas = cls()
        folds: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        rows = list(_tsv("towns.tsv.gz"))
        for row in rows:
            key = (row["pref"], row["city"])
            if row["pref"] not in atlas.cities:
                atlas.prefs.append(row["pref"])
                atlas.cities[row["pref"]] = []
            if key not in atlas.all_names:
                atlas.cities[row["pref"]].append(row["city"])
                atlas.all_names[key] = set()
            if row["town"] not in atlas.all_names[key]:
                atlas.all_names[key].add(row["town"])
                folds[key][fold(row["town"])] += 1
        seen: set[Town] = set()
        for row in rows:
            key = (row["pref"], row["city"])
            town = Town(row["pref"], row["city"], row["town"])
            usable = bool(_NAME.match(town.town)) and folds[key][fold(town.town)] == 1
            if row["koaza"]:
                if usable and _NAME.match(row["koaza"]):
                    atlas.koaza.append((town, row["koaza"]))
                continue
            # A town whose name folds like another town of its city is left out: its
            # variants would not say which one is meant.
            if usable and row["lat"] and town not in seen:
                seen.add(town)
                atlas.towns.setdefault(key, []).append(town)
        for key, names in atlas.all_names.items():
            for name in {fold(Town(*key, n).base) for n in names}:
                atlas.base_count[name] += 1
        for row in _tsv("postcodes.tsv.gz"):
            if row["town"]:
                place = (row["pref"], row["city"], row["town"])
                atlas.postcodes.setdefault(place, set()).add(row["postcode"])
                atlas.kana[place] = row["town_kana"]
        atlas.kana_count = Counter(atlas.kana.values())  # places that share a reading
        return atlas

    def postcode(self, town: Town) -> str | None:
        """The one postcode of the town's base name, when Japan Post has exactly one."""
        for name in (town.base, _OAZA.sub("", town.base)):
            codes = self.postcodes.get((town.pref, town.city, name), set())
            if len(codes) == 1:
                return next(iter(codes))
        return None

    def city_towns(self, pref: str, city: str) -> list[Town]:
        return self.towns.get((pref, city), [])


def city_kind(city: str) -> str:
    if re.match("^.+市.+区$", city):
        return "ward"
    if "郡" in city:
        return "gun"
    return "city"


# --- the ways of writing an address ----------------------------------------------------------


BUILDINGS = [
    " ハイツ三鷹201号室", "ハイツ三鷹201号室", " ２F", " 2階", " B棟", "Ｂ棟１０３号室",
    " メゾン緑ヶ丘102", "　コーポ山田 1F", " 三鷹駅前ビル5階", " サンハイツ 203",
    " グランドメゾン 1203号室", "　ＡＢＣマンション３０１", " 市営住宅3号棟404", " (株)三鷹商事",
    " さくらアパート2号室", " レジデンス井の頭 B-202", " 第二ビル 地下1階", " 4F 受付",
]  # fmt: skip
Written = tuple[str, str | None]  # (input, expected addr)


class Writers:
    """The ways of writing an address of a town; each returns (input, addr), or None where
    the form does not fit the town (no postcode of its own, no variant character ...)."""

    def __init__(self, rng: random.Random, atlas: Atlas) -> None:
        self.rng = rng
        self.atlas = atlas

    def numbers(self, town: Town, *, go_needed: bool = False) -> tuple[int, int | None]:
        """番地 and 号: small in a 丁目 district (住居表示), up to 3000 in the country."""
        rng = self.rng
        if town.chome:
            return rng.randint(1, 30), rng.randint(1, 25)
        # Where the town also has 丁目 (小島町 and 小島町二丁目), 小島町2-35 could mean 二丁目 35:
        # its 番地 stay above any 丁目 number.
        small = rng.random() < 0.5 and not self.has_chome(town)
        banchi = rng.randint(1, 60) if small else rng.randint(61, 3000)
        with_go = go_needed or rng.random() < 0.7
        return banchi, (rng.randint(1, 20) if with_go else None)

    def plain(self, banchi: int, go: int | None) -> str:
        """番地/号 as written on a well-formed form: arabic numbers, the words sometimes."""
        if go is None:
            return self.rng.choice([f"{banchi}", f"{banchi}番地", f"{banchi}番"])
        forms = [f"{banchi}-{go}"] * 4
        forms += [f"{banchi}番{go}号", f"{banchi}番地{go}", f"{banchi}番地の{go}"]
        return self.rng.choice(forms)

    def well_formed(self, t: Town) -> Written:
        if self.rng.random() < 0.08:
            return f"{t.pref}{t.city}{t.town}", None
        banchi, go = self.numbers(t)
        return f"{t.pref}{t.city}{t.town}{self.plain(banchi, go)}", addr_of(banchi, go)

    def width_kanji(self, t: Town) -> Written:
        rng = self.rng
        banchi, go = self.numbers(t, go_needed=True)
        assert go is not None
        dash = rng.choice(DASHES)
        if t.chome:
            base, n = t.chome
            forms = [
                f"{base}{kanji_number(n)}丁目{kanji_number(banchi)}番{kanji_number(go)}号",
                f"{base}{n}丁目{banchi}番{go}号",
                f"{base}{n}丁目{banchi}番{go}号",  # twice: the most common of these
                f"{base}{full_width(str(n))}丁目{full_width(str(banchi))}{dash}{full_width(str(go))}",
                f"{base}{n}丁目{banchi}の{go}",
                f"{base}{kanji_number(n)}丁目{banchi}番地{go}",
            ]
            # 下連雀3-22-14 for 下連雀三丁目 22-14 is how most people write; it is left out
            # where 3 could belong to the name (北三条西 ...) or 下連雀 alone is a town too.
            if not _ENDS_NUMERIC.search(base) and base not in self.names(t):
                forms += [f"{base}{n}{dash}{banchi}{dash}{go}"] * 3
        else:
            forms = [
                f"{t.town}{full_width(str(banchi))}{dash}{full_width(str(go))}",
                f"{t.town}{banchi}の{go}",
                f"{t.town}{banchi}番地の{go}",
                f"{t.town}{banchi}{dash}{go}",
            ]
            if not _ENDS_NUMERIC.search(t.town):
                forms += [
                    f"{t.town}{kanji_number(banchi)}番地{kanji_number(go)}",
                    f"{t.town}{kanji_number(banchi)}番{kanji_number(go)}号",
                ]
        return f"{t.pref}{t.city}{rng.choice(forms)}", f"{banchi}-{go}"

    def no_pref(self, t: Town) -> Written:
        text, addr = self.well_formed(t)
        return text[len(t.pref) :], addr

    def spaces(self, t: Town) -> Written:
        rng = self.rng
        banchi, go = self.numbers(t)
        number = self.plain(banchi, go)
        city = t.city
        if city_kind(city) != "city" and rng.random() < 0.5:
            city = re.sub("^(.+?[市郡])", r"\1 ", city)  # 横浜市 中区, 西多摩郡 瑞穂町
        forms = [
            f"{t.pref} {city} {t.town} {number}",
            f"{t.pref}　{city}　{t.town}{number}",
            f"{t.pref}{city}\n{t.town}{number}",
            f"  {t.pref}{city}{t.town}{number}  ",
            f"{t.pref}{city}{t.town}\n{number}",
            f"{t.pref}{city}{t.town}{number}\r\n",
            f"{t.pref}\t{city}\t{t.town}\t{number}",
            f"{t.pref} {city}{t.town} {number}\n",
        ]
        return rng.choice(forms), addr_of(banchi, go)

    def building(self, t: Town) -> Written:
        rng = self.rng
        banchi, go = self.numbers(t, go_needed=True)
        building = rng.choice(BUILDINGS)
        number = rng.choice([f"{banchi}-{go}", f"{banchi}番{go}号", f"{banchi}番地{go}"])
        return f"{t.pref}{t.city}{t.town}{number}{building}", f"{banchi}-{go}"

    def postcode(self, t: Town) -> Written | None:
        code = self.atlas.postcode(t)
        if code is None:
            return None
        text, addr = self.well_formed(t)
        dashed = f"{code[:3]}-{code[3:]}"
        forms = [
            f"〒{dashed} {text}",
            f"{dashed} {text}",
            f"{code}{text}",
            f"〒{full_width(dashed)}　{text}",
            f"〒{dashed}\n{text}",
            f"〒{code} {text[len(t.pref) :]}",
        ]
        return self.rng.choice(forms), addr

    def oaza(self, t: Town) -> Written | None:
        rng = self.rng
        if t.town.startswith("大字"):
            written = t.town[2:]
        elif t.town.startswith("字"):
            written = rng.choice([t.town[1:], "大" + t.town])
        elif not t.chome and city_kind(t.city) == "gun" and not t.town.endswith(("町", "丁")):
            written = rng.choice(["大字", "字"]) + t.town
        else:
            return None
        banchi, go = self.numbers(t)
        return f"{t.pref}{t.city}{written}{self.plain(banchi, go)}", addr_of(banchi, go)

    def variant(self, t: Town) -> Written | None:
        written = swap_variant(self.rng, t.town)
        if written is None or fold(written) != fold(t.town):
            return None
        banchi, go = self.numbers(t)
        return f"{t.pref}{t.city}{written}{self.plain(banchi, go)}", addr_of(banchi, go)

    def typo(self, t: Town) -> Written | None:
        spots = [i for i, c in enumerate(t.base) if c in _LOOKALIKE]
        if len(t.town) < 3 or not spots:
            return None
        i = self.rng.choice(spots)
        written = t.town[:i] + _LOOKALIKE[t.town[i]] + t.town[i + 1 :]
        near = [n for n in self.names(t) if within_one_edit(fold(n), fold(written))]
        if near != [t.town]:
            return None  # the typo must point at exactly one town of the city
        banchi, go = self.numbers(t)
        return f"{t.pref}{t.city}{written}{self.plain(banchi, go)}", addr_of(banchi, go)

    def names(self, t: Town) -> set[str]:
        return self.atlas.all_names[(t.pref, t.city)]

    def has_chome(self, t: Town) -> bool:
        """Whether 〇〇一丁目 ... exist beside the town 〇〇 itself."""
        return any(
            n.startswith(t.town) and Town(t.pref, t.city, n).base == t.town
            for n in self.names(t)
            if n != t.town
        )


def addr_of(banchi: int, go: int | None) -> str:
    return f"{banchi}-{go}" if go else str(banchi)


def swap_variant(rng: random.Random, name: str) -> str | None:
    """One variant character of ``name`` written the other way, or None if it has none."""
    spots: list[tuple[int, list[str]]] = []
    for i, char in enumerate(name):
        for group in (KE, NO):
            if char in group:
                spots.append((i, [c for c in group if c != char]))
        for old, new in OLD_NEW:
            if char == old:
                spots.append((i, [new]))
            elif char == new:
                spots.append((i, [old]))
    if not spots:
        return None
    i, others = rng.choice(spots)
    return name[:i] + rng.choice(others) + name[i + 1 :]


def starts_with_any(name: str, heads: set[str]) -> bool:
    return any(name[:k] in heads for k in range(1, len(name) + 1))


# --- building the whole set -------------------------------------------------------------------

Writer = Callable[[Town], Written | None]


class Builder:
    def __init__(self, seed: int, atlas: Atlas) -> None:
        self.rng = random.Random(seed)
        self.atlas = atlas
        self.write = Writers(self.rng, atlas)
        self.lines: list[dict[str, Any]] = []

    def add(
        self,
        category: str,
        text: str,
        *,
        pref: str | None = None,
        city: str | None = None,
        town: str | None = None,
        addr: str | None = None,
        level: int = 0,
    ) -> None:
        expected = {"pref": pref, "city": city, "town": town, "addr": addr, "level": level}
        self.lines.append({"category": category, "input": text, "expected": expected})

    def place(self, category: str, written: Written, town: Town) -> None:
        """An address whose answer is ``town``: level 8 with a 番地, else 3."""
        text, addr = written
        level = 8 if addr else 3
        self.add(
            category, text, pref=town.pref, city=town.city, town=town.town, addr=addr, level=level
        )

    def build(self) -> list[dict[str, Any]]:
        w = self.write
        self.per_prefecture()
        self.mitaka()
        self.no_pref_city(100)
        self.anywhere("variants", w.variant, 60)
        self.city_variants()
        self.anywhere("oaza", w.oaza, 50)
        self.anywhere("typo", w.typo, 36)
        self.koaza(30)
        self.ambiguous(40)
        for text in BAD:
            self.add("bad", text)
        self.real()
        return [{"id": i, **line} for i, line in enumerate(self.lines, start=1)]

    # --- every prefecture ---

    def cities_in_turn(self, pref: str) -> list[str]:
        """The prefecture's cities shuffled, wards, 郡 towns and cities taking turns."""
        by_kind: dict[str, list[str]] = defaultdict(list)
        for city in self.atlas.cities[pref]:
            if self.atlas.city_towns(pref, city):
                by_kind[city_kind(city)].append(city)
        for cities in by_kind.values():
            self.rng.shuffle(cities)
        order: list[str] = []
        while any(by_kind.values()):
            for kind in ("ward", "gun", "city"):
                if by_kind[kind]:
                    order.append(by_kind[kind].pop())
        return order

    def pick(
        self, pref: str, cities: list[str], writer: Writer, wanted: int, start: int = 0
    ) -> list[tuple[Town, Written]]:
        """``wanted`` addresses from as many different cities as possible (round robin)."""
        picked: list[tuple[Town, Written]] = []
        for i in range(start, start + 400):
            if len(picked) == wanted or not cities:
                break
            town = self.rng.choice(self.atlas.city_towns(pref, cities[i % len(cities)]))
            written = writer(town)
            if written is not None:
                picked.append((town, written))
        return picked

    def per_prefecture(self) -> None:
        w = self.write
        plan: list[tuple[str, Writer, int]] = [
            ("well_formed", w.well_formed, 20),
            ("width_kanji", w.width_kanji, 6),
            ("building", w.building, 4),
            ("spaces_newlines", w.spaces, 3),
            ("postcode", w.postcode, 3),
            ("oaza", w.oaza, 2),
            ("variants", w.variant, 2),
        ]
        unique = unique_cities(self.atlas)
        for pref in self.atlas.prefs:
            cities = self.cities_in_turn(pref)
            start = 0
            for category, writer, wanted in plan:
                for town, written in self.pick(pref, cities, writer, wanted, start):
                    self.place(category, written, town)
                start += wanted
            alone = [c for c in cities if (pref, c) in unique]
            for town, written in self.pick(pref, alone, w.no_pref, 3):
                self.place("no_pref", written, town)
            # Levels 1 and 2: the prefecture alone, a city with nothing after it.
            city = self.rng.choice(cities)
            self.add("partial", pref, pref=pref, level=1)
            self.add("partial", f"{pref}{city}", pref=pref, city=city, level=2)
            self.gun_omitted(pref, cities)

    def gun_omitted(self, pref: str, cities: list[str]) -> None:
        """西多摩郡瑞穂町 written 瑞穂町, where no other city of the prefecture ends that way."""
        for city in cities:
            found = re.match("^.+?郡(.+[町村])$", city)
            if found and sum(c.endswith(found[1]) for c in self.atlas.cities[pref]) == 1:
                town = self.rng.choice(self.atlas.city_towns(pref, city))
                text, addr = self.write.well_formed(town)
                text = f"{pref}{found[1]}{text[len(pref) + len(city) :]}"
                self.place("gun_omitted", (text, addr), town)
                return

    # --- Mitaka ---

    def mitaka(self) -> None:
        w = self.write
        towns = self.atlas.city_towns(*MITAKA)
        assert len(towns) == 62, f"三鷹市 has {len(towns)} usable 町丁目, expected 62"
        forms: list[tuple[str, Writer]] = [
            ("well_formed", w.well_formed),
            ("width_kanji", w.width_kanji),
            ("width_kanji", w.width_kanji),
            ("no_pref", w.no_pref),
            ("postcode", w.postcode),
            ("building", w.building),
            ("spaces_newlines", w.spaces),
        ]
        for town in towns:
            for category, writer in forms:
                written = writer(town)
                assert written is not None, (category, town)
                self.place(category, written, town)
        self.kana(towns)
        # Typos the city's counters see: 下蓮雀, 上蓮雀 ...
        for town in self.rng.sample([t for t in towns if "連" in t.town], 4):
            written = w.typo(town)
            if written is not None:
                self.place("typo", written, town)

    def kana(self, towns: list[Town]) -> None:
        """Mitaka's towns in katakana (full/half width) and hiragana, from Japan Post's readings."""
        rng = self.rng
        bases: dict[str, list[Town]] = defaultdict(list)
        for town in towns:
            bases[town.base].append(town)
        readings = set(self.atlas.kana.values())
        for base in sorted(bases):
            kana = self.atlas.kana[(*MITAKA, base)]
            # Without the city only where the reading names one place in Japan and is not
            # the start of another reading (ジンダイジ / ジンダイジキタマチ in 調布市).
            alone = self.atlas.kana_count[kana] == 1 and not any(
                r != kana and r.startswith(kana) for r in readings
            )
            for _ in range(4):
                town = rng.choice(bases[base])
                assert town.chome is not None
                n = town.chome[1]
                banchi, go = rng.randint(1, 30), rng.randint(1, 25)
                forms = [
                    f"東京都三鷹市{kana}{n}丁目{banchi}-{go}",
                    f"三鷹市{half_width_kana(kana)}{n}-{banchi}-{go}",
                    f"三鷹市{kana}{full_width(str(n))}－{banchi}－{go}",
                    f"東京都三鷹市{hiragana(kana)}{n}丁目{banchi}番{go}号",
                ]
                if alone:
                    forms += [
                        f"{half_width_kana(kana)}{n}-{banchi}-{go}",
                        f"{kana}{n}-{banchi}-{go}",
                    ]
                self.place("kana", (rng.choice(forms), f"{banchi}-{go}"), town)

    # --- anywhere in Japan ---

    def anywhere(self, category: str, writer: Writer, wanted: int) -> None:
        keys = sorted(self.atlas.towns)
        added = 0
        while added < wanted:
            town = self.rng.choice(self.atlas.towns[self.rng.choice(keys)])
            written = writer(town)
            if written is not None:
                self.place(category, written, town)
                added += 1

    def heads(self) -> set[str]:
        """Names a parser may take for a prefecture or a city at the start of a text."""
        prefs = self.atlas.prefs
        cities = {c for cs in self.atlas.cities.values() for c in cs}
        short = {re.sub("[市区町村]$", "", c.split("郡")[-1]) for c in cities}
        return set(prefs) | {p[:-1] for p in prefs} | cities | {s for s in short if len(s) > 1}

    def no_pref_city(self, wanted: int) -> None:
        """Only the town and 番地, where the town's name (without 丁目) is unique in Japan."""
        rng = self.rng
        heads = self.heads()
        candidates = [
            town
            for _key, towns in sorted(self.atlas.towns.items())
            for town in towns
            if len(town.base) >= 3
            and self.atlas.base_count[fold(town.base)] == 1
            and not starts_with_any(town.base, heads)
        ]
        for town in rng.sample(candidates, wanted):
            banchi, go = self.write.numbers(town, go_needed=True)
            dash_ok = not _ENDS_NUMERIC.search(town.base) and town.base not in self.write.names(
                town
            )
            if town.chome and dash_ok and rng.random() < 0.5:
                text = f"{town.base}{town.chome[1]}-{banchi}-{go}"
            else:
                text = f"{town.town}{banchi}-{go}"
            self.place("no_pref_city", (text, f"{banchi}-{go}"), town)

    def city_variants(self) -> None:
        """Cities written with ケ for ヶ and back (龍ヶ崎市 / 龍ケ崎市, 袖ケ浦市 / 袖ヶ浦市)."""
        for pref in self.atlas.prefs:
            for city in self.atlas.cities[pref]:
                towns = self.atlas.city_towns(pref, city)
                if ("ケ" in city or "ヶ" in city) and towns:
                    written = city.translate(str.maketrans("ケヶ", "ヶケ"))
                    town = self.rng.choice(towns)
                    text, addr = self.write.well_formed(town)
                    text = text.replace(city, written, 1)
                    self.place("variants", (text, addr), town)

    def koaza(self, wanted: int) -> None:
        """A 小字 after the town (杣木善九郎): the expected town is town + 小字 (see README)."""
        candidates = []
        for town, koaza in self.atlas.koaza:
            joined = town.town + koaza
            if len(koaza) < 2 or re.search("[〇一二三四五六七八九十百千号線割]", koaza):
                continue
            names = self.atlas.all_names[(town.pref, town.city)]
            # No longer town of the city may start the text.
            if any(len(n) > len(town.town) and joined.startswith(n) for n in names):
                continue
            candidates.append((town, koaza))
        for town, koaza in self.rng.sample(candidates, wanted):
            banchi = self.rng.randint(1, 3000)
            self.add(
                "koaza",
                f"{town.pref}{town.city}{town.town}{koaza}{banchi}",
                pref=town.pref,
                city=town.city,
                town=town.town + koaza,
                addr=str(banchi),
                level=8,
            )

    def ambiguous(self, wanted: int) -> None:
        """A town name alone that exists in three prefectures or more: nothing can be said."""
        prefs_of: dict[str, set[str]] = defaultdict(set)
        for (pref, _city), names in self.atlas.all_names.items():
            for name in names:
                prefs_of[name].add(pref)
        heads = self.heads()
        candidates = sorted(
            name
            for name, prefs in prefs_of.items()
            if len(prefs) >= 3 and _NAME.match(name) and not starts_with_any(name, heads)
        )
        for name in self.rng.sample(candidates, wanted):
            self.add("ambiguous", name)

    def real(self) -> None:
        for text, pref, city, town, addr in REAL:
            if town not in self.atlas.all_names.get((pref, city), set()):
                raise SystemExit(f"real address {text}: {pref}{city}{town} is not in towns.tsv.gz")
            level = 8 if addr else 3
            self.add("real", text, pref=pref, city=city, town=town, addr=addr, level=level)


def unique_cities(atlas: Atlas) -> set[tuple[str, str]]:
    """Cities whose name is unique in Japan and not the tail of another (北区 vs 堺市北区)."""
    every = [city for cities in atlas.cities.values() for city in cities]
    names = Counter(every)
    return {
        (pref, city)
        for pref, cities in atlas.cities.items()
        for city in cities
        if names[city] == 1 and not any(o != city and o.endswith(city) for o in every)
    }


BAD = [
    "", " ", "　", "\n", "\t \r\n", "😀", "🏠📮🗾", "hello world", "Tokyo Tower, Minato-ku",
    "1600 Pennsylvania Avenue NW, Washington, DC", "\x00\x01\x02", "\x1b[31m赤\x1b[0m",
    "\u200b\u200b\u200b", "null", "None", "<script>alert(1)</script>",
    "'; DROP TABLE towns; --", "-----", "〒", "番地", "丁目", "１２３４５６７８９０",
    "！？！？", "ああああああ", "x" * 10_000, "あいうえお" * 2_000,
]  # fmt: skip


# Hand-checked real addresses of public buildings: (input, pref, city, town, addr).
# Each was checked against Japan Post's large-office list (offices.tsv.gz) or the
# building's own web page; every town is checked against towns.tsv.gz when building the set.
REAL = [
    ("東京都新宿区西新宿二丁目8-1", "東京都", "新宿区", "西新宿二丁目", "8-1"),  # 東京都庁
    ("〒163-8001 東京都新宿区西新宿2丁目8番1号", "東京都", "新宿区", "西新宿二丁目", "8-1"),
    ("東京都三鷹市野崎一丁目1-1", "東京都", "三鷹市", "野崎一丁目", "1-1"),  # 三鷹市役所
    ("〒181-8555 三鷹市野崎1-1-1", "東京都", "三鷹市", "野崎一丁目", "1-1"),
    ("東京都三鷹市大沢2-21-1", "東京都", "三鷹市", "大沢二丁目", "21-1"),  # 国立天文台
    ("東京都三鷹市下連雀1丁目1番83号", "東京都", "三鷹市", "下連雀一丁目", "1-83"),  # ジブリ美術館
    ("東京都三鷹市大沢3-10-2", "東京都", "三鷹市", "大沢三丁目", "10-2"),  # 国際基督教大学
    ("東京都三鷹市下連雀三丁目46-1", "東京都", "三鷹市", "下連雀三丁目", "46-1"),  # 三鷹駅
    ("東京都三鷹市新川6-20-2", "東京都", "三鷹市", "新川六丁目", "20-2"),  # 杏林大学病院
    ("東京都武蔵野市緑町2-2-28", "東京都", "武蔵野市", "緑町二丁目", "2-28"),  # 武蔵野市役所
    ("東京都調布市小島町2丁目35番地1", "東京都", "調布市", "小島町二丁目", "35-1"),  # 調布市役所
    ("東京都千代田区永田町1-7-1", "東京都", "千代田区", "永田町一丁目", "7-1"),  # 国会議事堂
    ("東京都千代田区丸の内1丁目9-1", "東京都", "千代田区", "丸の内一丁目", "9-1"),  # 東京駅
    ("東京都港区虎ノ門3-6-9", "東京都", "港区", "虎ノ門三丁目", "6-9"),  # 気象庁
    ("東京都港区芝公園4丁目2-8", "東京都", "港区", "芝公園四丁目", "2-8"),  # 東京タワー
    ("北海道札幌市中央区北3条西6丁目", "北海道", "札幌市中央区", "北三条西六丁目", None),  # 道庁
    ("札幌市中央区北1条西2丁目", "北海道", "札幌市中央区", "北一条西二丁目", None),  # 札幌市役所
    ("青森県青森市長島1-1-1", "青森県", "青森市", "長島一丁目", "1-1"),  # 青森県庁
    ("岩手県盛岡市内丸10-1", "岩手県", "盛岡市", "内丸", "10-1"),  # 岩手県庁
    ("宮城県仙台市青葉区本町3丁目8番1号", "宮城県", "仙台市青葉区", "本町三丁目", "8-1"),
    ("仙台市青葉区国分町3-7-1", "宮城県", "仙台市青葉区", "国分町三丁目", "7-1"),  # 仙台市役所
    ("秋田県秋田市山王4丁目1-1", "秋田県", "秋田市", "山王四丁目", "1-1"),  # 秋田県庁
    ("山形県山形市松波二丁目8-1", "山形県", "山形市", "松波二丁目", "8-1"),  # 山形県庁
    ("福島県福島市杉妻町2-16", "福島県", "福島市", "杉妻町", "2-16"),  # 福島県庁
    ("茨城県水戸市笠原町978番6", "茨城県", "水戸市", "笠原町", "978-6"),  # 茨城県庁
    ("栃木県宇都宮市塙田1丁目1番20号", "栃木県", "宇都宮市", "塙田一丁目", "1-20"),
    ("群馬県前橋市大手町1-1-1", "群馬県", "前橋市", "大手町一丁目", "1-1"),  # 群馬県庁
    ("埼玉県さいたま市浦和区高砂3-15-1", "埼玉県", "さいたま市浦和区", "高砂三丁目", "15-1"),
    ("千葉県千葉市中央区市場町1-1", "千葉県", "千葉市中央区", "市場町", "1-1"),  # 千葉県庁
    ("神奈川県横浜市中区日本大通1", "神奈川県", "横浜市中区", "日本大通", "1"),  # 神奈川県庁
    ("横浜市中区本町6丁目50番地の10", "神奈川県", "横浜市中区", "本町六丁目", "50-10"),
    ("新潟県新潟市中央区新光町4番地1", "新潟県", "新潟市中央区", "新光町", "4-1"),
    ("富山県富山市新総曲輪1-7", "富山県", "富山市", "新総曲輪", "1-7"),  # 富山県庁
    ("石川県金沢市鞍月1丁目1番地", "石川県", "金沢市", "鞍月一丁目", "1"),  # 石川県庁
    ("福井県福井市大手3丁目17-1", "福井県", "福井市", "大手三丁目", "17-1"),  # 福井県庁
    ("山梨県甲府市丸の内一丁目6番1号", "山梨県", "甲府市", "丸の内一丁目", "6-1"),
    ("長野県松本市丸の内3-7", "長野県", "松本市", "丸の内", "3-7"),  # 松本市役所
    ("岐阜県岐阜市薮田南2-1-1", "岐阜県", "岐阜市", "薮田南二丁目", "1-1"),  # 岐阜県庁
    ("静岡県静岡市葵区追手町9-6", "静岡県", "静岡市葵区", "追手町", "9-6"),  # 静岡県庁
    ("愛知県名古屋市中区三の丸三丁目1番2号", "愛知県", "名古屋市中区", "三の丸三丁目", "1-2"),
    ("〒460-8501 名古屋市中区三の丸3-1-1", "愛知県", "名古屋市中区", "三の丸三丁目", "1-1"),
    ("三重県津市広明町13番地", "三重県", "津市", "広明町", "13"),  # 三重県庁
    ("滋賀県大津市京町四丁目1-1", "滋賀県", "大津市", "京町四丁目", "1-1"),  # 滋賀県庁
    ("京都府京都市上京区下立売通新町西入薮ノ内町", "京都府", "京都市上京区", "藪之内町", None),
    ("京都市中京区寺町通御池上る上本能寺前町488", "京都府", "京都市中京区", "上本能寺前町", "488"),
    ("大阪府大阪市中央区大手前2丁目1-22", "大阪府", "大阪市中央区", "大手前二丁目", "1-22"),
    ("大阪市北区中之島1-3-20", "大阪府", "大阪市北区", "中之島一丁目", "3-20"),  # 大阪市役所
    ("兵庫県神戸市中央区下山手通5丁目10番1号", "兵庫県", "神戸市中央区", "下山手通五丁目", "10-1"),
    ("神戸市中央区加納町6-5-1", "兵庫県", "神戸市中央区", "加納町六丁目", "5-1"),  # 神戸市役所
    ("奈良県奈良市登大路町30", "奈良県", "奈良市", "登大路町", "30"),  # 奈良県庁
    ("和歌山県和歌山市小松原通1丁目1番地", "和歌山県", "和歌山市", "小松原通一丁目", "1"),
    ("鳥取県鳥取市東町1丁目220", "鳥取県", "鳥取市", "東町一丁目", "220"),  # 鳥取県庁
    ("島根県松江市殿町1番地", "島根県", "松江市", "殿町", "1"),  # 島根県庁
    ("岡山県岡山市北区内山下2-4-6", "岡山県", "岡山市北区", "内山下二丁目", "4-6"),  # 岡山県庁
    ("広島県広島市中区基町10-52", "広島県", "広島市中区", "基町", "10-52"),  # 広島県庁
    ("広島市中区国泰寺町1丁目6番34号", "広島県", "広島市中区", "国泰寺町一丁目", "6-34"),
    ("山口県山口市滝町1-1", "山口県", "山口市", "滝町", "1-1"),  # 山口県庁
    ("徳島県徳島市万代町1丁目", "徳島県", "徳島市", "万代町一丁目", None),  # 徳島県庁
    ("香川県高松市番町四丁目1番10号", "香川県", "高松市", "番町四丁目", "1-10"),  # 香川県庁
    ("愛媛県松山市一番町4-4-2", "愛媛県", "松山市", "一番町四丁目", "4-2"),  # 愛媛県庁
    ("高知県高知市丸ノ内1丁目2番20号", "高知県", "高知市", "丸ノ内一丁目", "2-20"),  # 高知県庁
    ("福岡県福岡市博多区東公園7番7号", "福岡県", "福岡市博多区", "東公園", "7-7"),  # 福岡県庁
    ("〒810-8620 福岡市中央区天神1-8-1", "福岡県", "福岡市中央区", "天神一丁目", "8-1"),
    ("佐賀県佐賀市城内1-1-59", "佐賀県", "佐賀市", "城内一丁目", "1-59"),  # 佐賀県庁
    ("長崎県長崎市尾上町3番1号", "長崎県", "長崎市", "尾上町", "3-1"),  # 長崎県庁
    ("熊本県熊本市中央区水前寺6丁目18番1号", "熊本県", "熊本市中央区", "水前寺六丁目", "18-1"),
    ("大分県大分市大手町3丁目1番1号", "大分県", "大分市", "大手町三丁目", "1-1"),  # 大分県庁
    ("宮崎県宮崎市橘通東2丁目10番1号", "宮崎県", "宮崎市", "橘通東二丁目", "10-1"),  # 宮崎県庁
    ("鹿児島県鹿児島市鴨池新町10番1号", "鹿児島県", "鹿児島市", "鴨池新町", "10-1"),
    ("沖縄県那覇市泉崎1丁目2番2号", "沖縄県", "那覇市", "泉崎一丁目", "2-2"),  # 沖縄県庁
]


def check(lines: list[dict[str, Any]], atlas: Atlas) -> None:
    """The promises of the README: coverage of Japan and of Mitaka."""
    per_pref = Counter(line["expected"]["pref"] for line in lines)
    thin = {p: per_pref[p] for p in atlas.prefs if per_pref[p] < 30}
    if thin or len(lines) < 2400:
        raise SystemExit(f"too few addresses: {len(lines)} in all; thin prefectures: {thin}")
    mitaka = Counter(
        line["expected"]["town"] for line in lines if line["expected"]["city"] == MITAKA[1]
    )
    missing = [t.town for t in atlas.city_towns(*MITAKA) if mitaka[t.town] < 3]
    if missing:
        raise SystemExit(f"Mitaka towns with fewer than 3 addresses: {missing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    atlas = Atlas.load()
    lines = Builder(args.seed, atlas).build()
    check(lines, atlas)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="\n") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    counts = Counter(str(line["category"]) for line in lines)
    prefs = Counter(line["expected"]["pref"] for line in lines)
    print(f"{args.output}: {len(lines):,} addresses (seed {args.seed})", file=sys.stderr)
    for category, n in counts.most_common():
        print(f"  {category:<16} {n:>5}", file=sys.stderr)
    fewest = min((n, p) for p, n in prefs.items() if p)
    print(f"  prefectures: {len(prefs) - 1}, fewest: {fewest[1]} {fewest[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
