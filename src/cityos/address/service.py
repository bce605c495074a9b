"""Japanese addresses → prefecture, city, 町字, 番地, the rest, and a representative point.

``normalize("東京都三鷹市下連雀三丁目２２番１４号 ハイツ201")`` gives pref 東京都, city 三鷹市, town
下連雀三丁目, addr 22-14, other ハイツ201, level 8 and the town's point. The parser reads the
text from the left: an optional postcode, the prefecture, the city, the town with its 丁目,
then 番地・号; each step tries the longest name the index knows at that place. Whatever it
cannot place is left in ``other``. Every domain calls this module for addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from cityos.address.index import (
    ALL_CITY,
    ALL_TOWN,
    CITY_TOWN,
    PREF_CITY,
    PREF_TOWN,
    AddressIndex,
    Keyed,
    keyed,
    load_index,
    name_key,
)
from cityos.core import text

MAX_INPUT = 500  # characters looked at; an address is never longer
LEVEL_NONE, LEVEL_PREF, LEVEL_CITY, LEVEL_TOWN, LEVEL_ADDR = 0, 1, 2, 3, 8

_POSTCODE = re.compile(r"^\s*(?:〒|郵便番号|T\s)?\s*(\d{3})\s*-?\s*(\d{4})(?!\d)[\s,、]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The number chain that ends an address (22-14, 22番地14号, 22の14), not 団地 nor キタノ.
_TAIL = re.compile(r"(?:\d|[\s\-]|番地|番|号|(?<=\d)の(?=\d))*$")
_CHAIN = re.compile(r"\s*\d+(?:(?:番地の?|番の?|の|-)\d+){0,3}(?:番地|番|号)?\s*")
_SPACES = " \u3000,、"
# 丁目 after a town name: 3丁目, 3丁, 3- (when the town has that 丁目), 3 at the end.
_CHOME_AFTER = re.compile(r"\s*(\d{1,3})(?:丁目|丁|-(?=\d)|(?=\s*$))")
# Kyoto writes the way from a crossing before the town: 寺町通御池上る, 烏丸通四条下ル, 西入.
_KYOTO_STREET = re.compile(
    r"\S{1,30}?(?:上る|下る|上ル|下ル|東入る|西入る|東入ル|西入ル|東入|西入)"
)
# 番地・号: 22-14, 22番14号, 22番地14, 22の14, 1234番地の5 … never a floor or a room.
_NUMBER = re.compile(
    r"\s*-?\s*([甲乙丙丁戊]?\d+)(?!\d|\s*(?:f(?![a-z])|階|号室|号棟|室|棟|號室))", re.IGNORECASE
)
# A 小字 or 地割 the town list does not know, between the town and the 番地: 字中川原100.
_UNLISTED = re.compile(r"\s*(字[^\d\s\-字]{1,12}?|第(\d{1,3})地割)(?=\s*[甲乙丙丁]?\d)")
_CHOME_TOWN = re.compile("(丁目|丁)$")
_LINK = re.compile(r"番地の?|番の?|の|-")
_LAST = re.compile(r"号|番地|番")


def _read_addr(k: str, pos: int, most: int = 3) -> tuple[str, int] | None:
    """番地 and 号 from ``pos`` as "22-14", and where they end; 号 ends the chain.

    ``most`` is 2 in 丁目 towns (住居表示: 番-号; a third number is a room, 22-14-101).
    """
    first = _NUMBER.match(k, pos)
    if first is None:
        return None
    parts = [first.group(1)]
    pos = first.end()
    while len(parts) < most:
        link = _LINK.match(k, pos)
        if link is None:
            break
        number = _NUMBER.match(k, link.end())
        if number is None or number.start(1) != link.end():
            pos = link.end() if link.group() != "-" else pos
            break
        parts.append(number.group(1))
        pos = number.end()
    last = _LAST.match(k, pos)
    if last is not None:
        pos = last.end()
    return "-".join(parts), pos


@dataclass
class Address:
    """The result of :func:`normalize` (nulls where unknown)."""

    input: str
    pref: str | None = None
    city: str | None = None
    town: str | None = None
    addr: str | None = None
    other: str | None = None
    level: int = LEVEL_NONE
    lat: float | None = None
    lon: float | None = None
    ambiguous: bool = False
    candidates: list[str] = field(default_factory=list)

    def as_dict(self, *, extras: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not extras:
            data.pop("ambiguous")
            data.pop("candidates")
        return data


@dataclass
class _Parse:
    """One reading of the text: what matched and where the key position stands."""

    pos: int
    pref: int | None = None  # prefecture number
    city: int | None = None  # city id
    town: int | None = None  # town ref (a family when negative)
    chome: bool = False
    candidates: list[str] = field(default_factory=list)

    @property
    def level(self) -> int:
        if self.town is not None:
            return LEVEL_TOWN
        if self.city is not None:
            return LEVEL_CITY
        return LEVEL_PREF if self.pref is not None else LEVEL_NONE


def normalize(raw: str, *, prefer_city: str | None = None) -> Address:
    """Split and standardize one address; never raises on any text.

    ``prefer_city`` ("東京都三鷹市" or "三鷹市") settles a town name that several cities share,
    for services of one city where residents leave the city out ("野崎1-1-1").
    """
    result = Address(input=raw)
    cleaned = _CONTROL.sub(" ", raw[:MAX_INPUT]) if isinstance(raw, str) else ""
    source = text.normalize(cleaned)
    if not source:
        return result
    postcode = None
    found = _POSTCODE.match(source)
    if found:
        postcode = found.group(1) + found.group(2)
        source = source[found.end() :]
    index = load_index()
    key = keyed(source)
    k = key.key
    # Addresses of one city share their head (東京都三鷹市北野二丁目) and differ in the number
    # chain that ends them (29番10号): the head is read once and remembered.
    cut = _TAIL.search(k)
    head = k[: cut.start()] if cut and _CHAIN.fullmatch(k, cut.start()) else k
    reading = _finish_family(index, k, _read_head(head, postcode, prefer_city))
    _fill(result, index, key, reading)
    return result


@lru_cache(maxsize=8192)
def _read_head(head: str, postcode: str | None, prefer: str | None) -> _Parse:
    return _read(load_index(), head, postcode, prefer)


def _finish_family(index: AddressIndex, k: str, reading: _Parse) -> _Parse:
    """A town read as 下連雀 (a family of 丁目) takes its 丁目 from the number that follows."""
    if reading.town is None or reading.town >= 0:
        return reading
    family = index.place(reading.town).family
    chome = _CHOME_AFTER.match(k, reading.pos)
    if family is None or chome is None:
        return reading
    town = index.chome(family, int(chome.group(1)))
    if town is None:
        return reading
    return replace(reading, town=town, pos=chome.end(), chome=True)


def normalize_many(lines: Iterable[str], *, prefer_city: str | None = None) -> list[Address]:
    return [normalize(line, prefer_city=prefer_city) for line in lines]


# --- reading the parts ---------------------------------------------------------------------


def _skip(key: str, pos: int) -> int:
    while pos < len(key) and key[pos] in _SPACES:
        pos += 1
    return pos


def _read(index: AddressIndex, k: str, postcode: str | None, prefer: str | None) -> _Parse:
    start = _skip(k, 0)
    readings: list[_Parse] = []
    pref = _match_pref(index, k, start)
    if pref is not None:
        readings.append(_after_pref(index, k, pref[0], _skip(k, pref[1])))
    if pref is None or not _full_pref_name(index, k, start, pref):
        # No prefecture, or a short name that may begin a city (京都 of 京都市, 福岡 of 福岡市):
        # read from the start too, keeping only a reading in that same prefecture.
        other = _without_pref(index, k, start, prefer)
        if pref is None or other.pref in (None, pref[0]):
            readings.append(other)
    best = max(readings, key=lambda r: (r.level, r.pos))
    if postcode and best.town is None:
        best = _with_postcode(index, k, best, postcode) or best
    return best


def _full_pref_name(index: AddressIndex, k: str, start: int, pref: tuple[int, int]) -> bool:
    """Was the prefecture written out (静岡県), not just its short name (静岡)?"""
    return k[start : pref[1]] == name_key(index.prefs[pref[0]].name)


def _match_pref(index: AddressIndex, k: str, pos: int) -> tuple[int, int] | None:
    for length in range(min(index.pref_longest, len(k) - pos), 0, -1):
        number = index.pref_keys.get(k[pos : pos + length])
        if number is not None:
            return number, pos + length
    return None


def _after_pref(index: AddressIndex, k: str, pref: int, pos: int) -> _Parse:
    parse = _Parse(pos, pref=pref)
    city = _match_city(index, k, pos, PREF_CITY.format(pref))
    if city is None:
        city = _fuzzy_city(index, k, pos, pref)
    if city is None:
        # The city is missing: the town may still be unique within the prefecture.
        return _town_without_city(index, k, parse, PREF_TOWN.format(pref), None)
    city_ids, end = city
    return _choose_city(index, k, parse, city_ids, end)


def _without_pref(index: AddressIndex, k: str, pos: int, prefer: str | None) -> _Parse:
    parse = _Parse(pos)
    city = _match_city(index, k, pos, ALL_CITY)
    if city is not None:
        city_ids, end = city
        return _choose_city(index, k, parse, city_ids, end, prefer)
    return _town_without_city(index, k, parse, ALL_TOWN, prefer)


def _match_city(index: AddressIndex, k: str, pos: int, scope: str) -> tuple[list[int], int] | None:
    found = index.longest(scope, k, pos)
    length = found[0] if found else 0
    # A 政令市 (横浜市) longer than any city name here: its ward, or else all its wards, one
    # of which the town will pick (横浜市本町6-50-10 → 横浜市中区).
    for size in index.designated_sizes:
        wards = index.designated.get(k[pos : pos + size])
        if wards is None or size < length:
            continue
        ward = _match_city(index, k, _skip(k, pos + size), scope)
        if ward is not None and set(ward[0]) & set(wards):
            return [c for c in ward[0] if c in wards], ward[1]
        in_scope = [
            w
            for w in wards
            if scope == ALL_CITY or index.cities[w].pref in scope_prefs(index, scope)
        ]
        return in_scope or wards, pos + size
    if found is None:
        return None
    return found[1], pos + length


def scope_prefs(index: AddressIndex, scope: str) -> set[str]:
    """The prefecture a PREF_CITY scope (p<number>) stands for."""
    return {index.prefs[int(scope[1:])].name} if scope.startswith("p") else set()


def _choose_city(
    index: AddressIndex,
    k: str,
    parse: _Parse,
    city_ids: list[int],
    end: int,
    prefer: str | None = None,
) -> _Parse:
    if parse.pref is not None:
        city_ids = [c for c in city_ids if index.cities[c].pref == index.prefs[parse.pref].name]
    pos = _skip(k, end)
    readings = []
    for city_id in city_ids:
        town = _match_town(index, k, pos, city_id)
        reading = _Parse(pos, parse.pref, city_id)
        if town is not None:
            reading.town, reading.pos, reading.chome = town
        readings.append(reading)
    with_town = [r for r in readings if r.town is not None]
    pool = with_town or readings
    if len(pool) > 1 and prefer:
        preferred = [r for r in pool if _is_preferred(index, r.city, prefer)]
        pool = preferred or pool
    if len(pool) == 1:
        chosen = pool[0]
        chosen.pref = index.pref_numbers[index.cities[chosen.city or 0].pref]
        return chosen
    parse.candidates = [_city_label(index, r.city) for r in pool if r.city is not None]
    return parse


def _is_preferred(index: AddressIndex, city_id: int | None, prefer: str) -> bool:
    if city_id is None:
        return False
    city = index.cities[city_id]
    return prefer in (city.name, city.pref + city.name)


def _city_label(index: AddressIndex, city_id: int) -> str:
    city = index.cities[city_id]
    return city.pref + city.name


def _match_town(
    index: AddressIndex, k: str, pos: int, city_id: int
) -> tuple[int, int, bool] | None:
    """(town ref, key position after it and its 丁目, whether a 丁目 was read)."""
    scope = CITY_TOWN.format(city_id)
    found = index.longest(scope, k, pos)
    for start in (pos, pos + 2, pos + 1):  # as written, or without a leading 大字 / 字
        if found is not None:
            break
        if (k.startswith("大字", pos) and start == pos + 2) or (
            k.startswith("字", pos) and start == pos + 1
        ):
            found = index.longest(scope, k, start)
            if found is not None:
                found = (found[0] + start - pos, found[1])
    street = _KYOTO_STREET.match(k, pos)
    if street and "通" in street.group():
        # 京都: 寺町通御池上る上本能寺前町 — the way from a crossing, then the town.
        after = _match_town(index, k, _skip(k, street.end()), city_id)
        if after is not None:
            return after
    if found is None:
        return _fuzzy_town(index, k, pos, city_id)
    length, refs = found
    end = pos + length
    if not _boundary(k, end):
        # 字蟹田右浜 read as 字蟹田 + "右浜": a longer name with one wrong character fits better.
        guess = _fuzzy_town(index, k, pos, city_id)
        if guess is not None and guess[1] > end:
            return guess
    ref = refs[0]
    family = index.place(ref).family if ref < 0 else None
    if family is not None:
        chome = _CHOME_AFTER.match(k, end)
        if chome:
            town = index.chome(family, int(chome.group(1)))
            if town is not None:
                return town, chome.end(), True
    return ref, end, False


def _town_without_city(
    index: AddressIndex, k: str, parse: _Parse, scope: str, prefer: str | None
) -> _Parse:
    found = index.longest(scope, k, parse.pos)
    if found is None:
        return parse
    _length, refs = found
    cities = sorted({index.city_of(ref) for ref in refs})
    if len(cities) > 1 and prefer:
        preferred = [c for c in cities if _is_preferred(index, c, prefer)]
        cities = preferred or cities
    if len(cities) != 1:
        parse.candidates = [_city_label(index, c) for c in cities[:20]]
        return parse
    chosen = _choose_city(index, k, parse, cities, parse.pos)
    if chosen.town is None:
        return parse
    # With neither prefecture nor city, a town must end where names end (ああああ is no 「あ」).
    chosen = _finish_family(index, k, chosen)
    return chosen if _boundary(k, chosen.pos) else parse


def _with_postcode(index: AddressIndex, k: str, best: _Parse, postcode: str) -> _Parse | None:
    """A postcode names the city (and usually the town) when the text alone did not."""
    found = index.postcode(postcode)
    if found is None:
        return None
    pref_name, city_name, _town = found
    matches = [i for i, c in enumerate(index.cities) if c.pref == pref_name and c.name == city_name]
    if not matches:
        return None
    parse = _Parse(best.pos, index.pref_numbers[pref_name], matches[0])
    if best.city is None:
        town = _match_town(index, k, _skip(k, best.pos), matches[0])
        if town is not None:
            parse.town, parse.pos, parse.chome = town
    elif best.city == matches[0]:
        return None
    return parse


# --- typos ---------------------------------------------------------------------------------


def _near(candidate: str, written: str) -> bool:
    """One character of a name replaced (3+ characters), or dropped or added (4+ characters).

    ``written`` is the rest of the text from where the name should start.
    """
    size = len(candidate)
    if size < 3:
        return False
    same = written[:size]
    if len(same) == size and sum(a != b for a, b in zip(candidate, same, strict=True)) == 1:
        return _boundary(written, size)
    if size < 4:
        return False
    longer = written[: size + 1]
    if len(longer) == size + 1 and any(
        longer[:i] + longer[i + 1 :] == candidate for i in range(size + 1)
    ):
        return _boundary(written, size + 1)
    shorter = written[: size - 1]
    if any(candidate[:i] + candidate[i + 1 :] == shorter for i in range(size)):
        return _boundary(written, size - 1)
    return False


def _boundary(written: str, end: int) -> bool:
    """A name guessed despite a typo must be followed by what follows names: a number, a
    丁目 or 番地 word, a space, or nothing."""
    rest = written[end : end + 1]
    return rest == "" or rest.isdigit() or rest in " -丁番字大"


def _fuzzy(names: list[str], written: str) -> str | None:
    """The one name ``written`` starts with but for one character; the longest of several
    (上蓮雀8丁目 fits both 上連雀 and 上連雀8丁目: the second says more)."""
    hits = sorted({name for name in names if _near(name, written)}, key=len, reverse=True)
    if not hits or (len(hits) > 1 and len(hits[0]) == len(hits[1])):
        return None
    return hits[0]


def _fuzzy_city(index: AddressIndex, k: str, pos: int, pref: int) -> tuple[list[int], int] | None:
    scope = PREF_CITY.format(pref)
    name = _fuzzy(index.names_in(scope), k[pos:])
    if name is None:
        return None
    end = _fuzzy_end(name, k, pos)
    return index.refs(scope, name), end


def _fuzzy_town(
    index: AddressIndex, k: str, pos: int, city_id: int
) -> tuple[int, int, bool] | None:
    scope = CITY_TOWN.format(city_id)
    written = k[pos:]
    name = _fuzzy(index.names_in(scope), written)
    if name is None:
        return None
    end = _fuzzy_end(name, k, pos)
    ref = index.refs(scope, name)[0]
    family = index.place(ref).family if ref < 0 else None
    if family is not None:
        chome = _CHOME_AFTER.match(k, end)
        if chome and (town := index.chome(family, int(chome.group(1)))) is not None:
            return town, chome.end(), True
    return ref, end, False


def _fuzzy_end(name: str, k: str, pos: int) -> int:
    """Where a near-miss name ends in the text: same length, one more or one less."""
    for length in (len(name), len(name) + 1, len(name) - 1):
        written = k[pos : pos + length]
        if written == name or (len(written) == len(name) and _near(name, written)):
            return pos + length
    return pos + len(name)


# --- the result ----------------------------------------------------------------------------


def _fill(result: Address, index: AddressIndex, key: Keyed, reading: _Parse) -> None:
    k = key.key
    if reading.pref is not None:
        pref = index.prefs[reading.pref]
        result.pref, result.lat, result.lon = pref.name, pref.lat, pref.lon
        result.level = LEVEL_PREF
    if reading.city is not None:
        city = index.cities[reading.city]
        result.pref, result.city = city.pref, city.name
        result.lat, result.lon = city.lat or result.lat, city.lon or result.lon
        result.level = LEVEL_CITY
    pos = reading.pos
    if reading.town is not None:
        place = index.place(reading.town)
        result.town = place.town
        if place.lat is not None and place.lon is not None:
            result.lat, result.lon = place.lat, place.lon
        result.level = LEVEL_TOWN
        unlisted = _UNLISTED.match(k, pos)
        if unlisted:
            chiwari = unlisted.group(2)
            start, pos = key.source_index(unlisted.start(1)), unlisted.end()
            result.town += (
                f"第{text.int_to_kanji(int(chiwari))}地割"
                if chiwari
                else key.source[start : key.source_index(pos)]
            )
        addr = _read_addr(k, pos, 2 if _CHOME_TOWN.search(place.town) else 3)
        if addr:
            result.addr, pos = addr
            result.level = LEVEL_ADDR
    if reading.candidates and reading.city is None:
        result.ambiguous = len(reading.candidates) > 1
        result.candidates = reading.candidates
    if result.level == LEVEL_NONE:
        return
    rest = key.source[key.source_index(pos) :].strip(_SPACES + "-")
    result.other = rest or None


def reverse(lat: float, lon: float) -> dict[str, Any] | None:
    """The 町字 whose representative point is nearest to a point (None far from any)."""
    index = load_index()
    found = index.nearest_town(lat, lon)
    if found is None:
        return None
    town_id, distance = found
    place = index.place(town_id)
    return {
        "pref": place.pref,
        "city": place.city,
        "town": place.town,
        "lat": place.lat,
        "lon": place.lon,
        "distance_m": round(distance, 1),
    }


def town_key(name: str) -> str:
    """The matching key of a town name (for other domains' gazetteers)."""
    return name_key(name)


@lru_cache(maxsize=16)
def towns_of(city: str) -> tuple[tuple[str, float, float], ...]:
    """Every 町字 of a city (丁目 by 丁目, not the 丁目 families) with its point, by name.

    ``towns_of("三鷹市")`` gives (("上連雀一丁目", 35.70, 139.55), …); empty for an unknown city.
    """
    index = load_index()
    found: dict[str, tuple[float, float]] = {}
    for city_id, area in enumerate(index.cities):
        if area.name != city and area.pref + area.name != city:
            continue
        scope = CITY_TOWN.format(city_id)
        for key in index.names_in(scope):
            for ref in index.refs(scope, key):
                place = index.place(ref)
                if place.family is None and place.lat is not None and place.lon is not None:
                    found[place.town] = (place.lat, place.lon)
    return tuple((town, lat, lon) for town, (lat, lon) in sorted(found.items()))
