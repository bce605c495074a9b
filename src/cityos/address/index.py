"""The address index: every prefecture, city and 町字 of Japan, keyed for fast prefix matching.

Built from the data in ``address/data/`` (see its SOURCES.md) once, by ``cityos address build``
or on first use, into CACHE_DIR/address-<fingerprint>/: a marisa trie of every name key with
its scope, and flat arrays of names and points, which later start-ups map in milliseconds.

Names are compared by their *key*: :func:`name_key` folds width, kana, variant kanji and
kanji numerals, so 下連雀三丁目, 下連雀３丁目 and ｼﾓﾚﾝｼﾞｬｸ3丁目 all meet the same entry.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import gzip
import hashlib
import logging
import math
import os
import pickle
import re
import shutil
import statistics
import tempfile
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from threading import Lock

import marisa_trie

from cityos.core import text
from cityos.core.geo import distance_m

log = logging.getLogger(__name__)

INDEX_VERSION = "6"
_NUMERALS = "〇一二三四五六七八九十百千"
_NUMERAL_RUN = re.compile(f"[{_NUMERALS}]+")
_REWRITE = re.compile(f"[{_NUMERALS}]+| ")
# A dash of any kind after a number (三—二二—一四, 3ー22): a separator, not a long vowel.
_NUMBER_DASH = re.compile(f"(?<=[0-9{_NUMERALS}])[{re.escape(text.DASHES)}]")
_CHOME = re.compile("^(.+?)([〇一二三四五六七八九十百]+)(丁目|丁)$")
_OAZA = re.compile("^(大字|字)")
_GUN = re.compile("^(.+?郡)(.+[町村])$")
_WARD = re.compile("^(.+?市)(.+区)$")
_PREF_SUFFIX = re.compile("(都|府|県)$")
CELL = 0.02  # degrees; reverse geocoding looks at the 3x3 cells around a point


@dataclass(slots=True)
class Keyed:
    """A normalized input, its matching key and the way back from key to input positions."""

    source: str
    key: str
    _ends: list[int] = field(default_factory=list)  # key positions where a number run ended
    _shifts: list[int] = field(default_factory=list)  # total length change up to there

    def source_index(self, key_index: int) -> int:
        """The position in ``source`` that corresponds to ``key_index`` in ``key``."""
        if not self._ends:
            return key_index
        at = bisect.bisect_right(self._ends, key_index)
        return key_index - (self._shifts[at - 1] if at else 0)


def keyed(source: str) -> Keyed:
    """Fold ``source`` for matching, keeping a map back to its positions.

    Variants are folded by :func:`text.fold_chars`; kanji numerals become digits on both sides
    of every comparison (三丁目 → 3丁目, and also 三鷹 → 3鷹, harmlessly); spaces go, except
    next to a number (22-14 2F), so 爾志郡 乙部町 reads as 爾志郡乙部町. ``source`` must
    already be :func:`text.normalize`'d (one ASCII space between words).
    """
    folded = _NUMBER_DASH.sub("-", text.fold_chars(source))
    if " " not in folded and _NUMERAL_RUN.search(folded) is None:
        return Keyed(source, folded)
    pieces: list[str] = []
    ends: list[int] = []
    shifts: list[int] = []
    last = length = shift = 0
    for match in _REWRITE.finditer(folded):
        found = match.group()
        if found == " ":
            before, after = folded[match.start() - 1 : match.start()], folded[match.end() :][:1]
            if before.isdigit() or after.isdigit():
                continue  # 22-14 2F, 下連雀 3-22: kept where it may part numbers
            replacement = ""
        else:
            try:
                replacement = str(text.kanji_to_int(found))
            except ValueError:
                continue
        kept = folded[last : match.start()]
        pieces += [kept, replacement]
        length += len(kept) + len(replacement)
        shift += len(replacement) - len(found)
        ends.append(length)
        shifts.append(shift)
        last = match.end()
    pieces.append(folded[last:])
    return Keyed(source, "".join(pieces), ends, shifts)


def name_key(name: str) -> str:
    return keyed(text.normalize(name)).key.replace(" ", "")


@dataclass(slots=True)
class Area:
    """A prefecture or a city: its name and representative point."""

    pref: str
    name: str
    lat: float | None
    lon: float | None


@dataclass(slots=True)
class Place:
    """What a town reference points at: a 町字, or a family of 丁目 sharing one name."""

    pref: str
    city: str
    town: str
    lat: float | None
    lon: float | None
    family: int | None = None  # set for a family: its id, to look a 丁目 up


# Trie scopes: a key is stored as SCOPE + "\t" + name key.
PREF_CITY = "p{}"  # cities of a prefecture (by prefecture number)
ALL_CITY = "c"  # cities of Japan
CITY_TOWN = "t{}"  # towns of a city (by city id)
PREF_TOWN = "r{}"  # towns of a prefecture
ALL_TOWN = "g"  # towns of Japan
CHOME = "f{}"  # 丁目 numbers of a family: f<family>\t<number>


class AddressIndex:
    """Read-only lookups over the compiled index (safe to share between threads)."""

    def __init__(self, directory: Path) -> None:
        with (directory / "meta.pickle").open("rb") as handle:
            meta = pickle.load(handle)  # noqa: S301 (our own cache file)
        self.prefs: list[Area] = meta["prefs"]
        self.pref_numbers: dict[str, int] = {a.name: i for i, a in enumerate(self.prefs)}
        self.pref_keys: dict[str, int] = meta["pref_keys"]
        self.pref_longest: int = max(len(k) for k in self.pref_keys)
        self.cities: list[Area] = meta["cities"]
        self.designated: dict[str, list[int]] = meta["designated"]
        self.designated_sizes = sorted({len(k) for k in self.designated}, reverse=True)
        self.families: list[tuple[int, str]] = meta["families"]  # (city id, base name)
        self.trie = marisa_trie.RecordTrie("<i")
        self.trie.mmap(str(directory / "keys.marisa"))
        names = (directory / "towns.txt").read_text(encoding="utf-8")
        self.town_names = names.split("\n")
        self.town_city: array[int] = array("i", (directory / "town_city.bin").read_bytes())
        self.town_lat = _floats(directory / "town_lat.bin")
        self.town_lon = _floats(directory / "town_lon.bin")
        self.family_lat = _floats(directory / "family_lat.bin")
        self.family_lon = _floats(directory / "family_lon.bin")
        self._directory = directory
        self._postcodes: dict[str, tuple[str, str, str]] | None = None
        self._grid: dict[tuple[int, int], list[int]] | None = None
        self._lock = Lock()

    # -- matching --

    def longest(self, scope: str, key: str, start: int) -> tuple[int, list[int]] | None:
        """The longest name of ``scope`` at ``key[start:]``: (its length, its references)."""
        prefix = scope + "\t"
        found = self.trie.prefixes(prefix + key[start:])
        if not found:
            return None
        best = max(found, key=len)
        return len(best) - len(prefix), [ref for (ref,) in self.trie[best]]

    def names_in(self, scope: str) -> list[str]:
        prefix = scope + "\t"
        return [k[len(prefix) :] for k in self.trie.keys(prefix)]

    def refs(self, scope: str, name: str) -> list[int]:
        return [ref for (ref,) in self.trie.get(scope + "\t" + name, [])]

    def chome(self, family: int, number: int) -> int | None:
        found = self.trie.get(CHOME.format(family) + "\t" + str(number))
        return found[0][0] if found else None

    def place(self, ref: int) -> Place:
        if ref >= 0:
            city = self.cities[self.town_city[ref]]
            lat, lon = self.town_lat[ref], self.town_lon[ref]
            return Place(city.pref, city.name, self.town_names[ref], _point(lat), _point(lon))
        family = -ref - 1
        city_id, base = self.families[family]
        city = self.cities[city_id]
        lat, lon = self.family_lat[family], self.family_lon[family]
        return Place(city.pref, city.name, base, _point(lat), _point(lon), family)

    def city_of(self, ref: int) -> int:
        return self.town_city[ref] if ref >= 0 else self.families[-ref - 1][0]

    # -- postcodes and reverse geocoding (loaded on first use) --

    def postcode(self, code: str) -> tuple[str, str, str] | None:
        return self._postcode_table().get(code)

    def _postcode_table(self) -> dict[str, tuple[str, str, str]]:
        table = self._postcodes
        if table is None:
            with self._lock:
                # Threads that queued here behind the first load use its table: each of 64
                # loading it again in turn kept the last resident waiting for seconds.
                table = self._postcodes
                if table is None:
                    with (self._directory / "postcodes.pickle").open("rb") as handle:
                        table = pickle.load(handle)  # noqa: S301 (our own cache file)
                    self._postcodes = table
        return table

    def nearest_town(self, lat: float, lon: float) -> tuple[int, float] | None:
        """The town whose representative point is nearest, and the distance in metres."""
        grid = self._grid or self._build_grid()
        row, col = _cell(lat, lon)
        best: tuple[int, float] | None = None
        for reach in (1, 3, 8):
            for r in range(row - reach, row + reach + 1):
                for c in range(col - reach, col + reach + 1):
                    for town in grid.get((r, c), ()):
                        distance = distance_m(lat, lon, self.town_lat[town], self.town_lon[town])
                        if best is None or distance < best[1]:
                            best = (town, distance)
            if best is not None:
                return best
        return None

    def _build_grid(self) -> dict[tuple[int, int], list[int]]:
        with self._lock:
            if self._grid is None:
                grid: dict[tuple[int, int], list[int]] = defaultdict(list)
                for town, (lat, lon) in enumerate(zip(self.town_lat, self.town_lon, strict=True)):
                    if not math.isnan(lat):
                        grid[_cell(lat, lon)].append(town)
                self._grid = dict(grid)
        return self._grid


def _point(value: float) -> float | None:
    return None if math.isnan(value) else value


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return (math.floor(lat / CELL), math.floor(lon / CELL))


def _floats(path: Path) -> array[float]:
    return array("d", path.read_bytes())


# --- building ----------------------------------------------------------------------------


def _data_file(name: str) -> Path:
    return Path(str(resources.files("cityos.address") / "data" / name))


def _rows(name: str) -> Iterator[list[str]]:
    with gzip.open(_data_file(name), "rt", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            yield line.rstrip("\n").split("\t")


def _median(points: list[tuple[float, float]]) -> tuple[float, float]:
    if not points:
        return math.nan, math.nan
    return (
        round(statistics.median(p[0] for p in points), 6),
        round(statistics.median(p[1] for p in points), 6),
    )


def _aliases(name: str) -> set[str]:
    """A town's keys: as written, and without a leading 大字 or 字."""
    stripped = _OAZA.sub("", name)
    keys = {name_key(name)}
    if stripped and stripped != name:
        keys.add(name_key(stripped))
    return keys


class _Builder:
    def __init__(self) -> None:
        self.entries: set[tuple[str, int]] = set()
        self.cities: list[Area] = []
        self.city_ids: dict[tuple[str, str], int] = {}
        self.town_names: list[str] = []
        self.town_city = array("i")
        self.town_lat = array("d")
        self.town_lon = array("d")
        self.city_points: dict[int, list[tuple[float, float]]] = defaultdict(list)
        self.pref_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.families: list[tuple[int, str]] = []
        self.family_lat = array("d")
        self.family_lon = array("d")
        self.town_refs: dict[tuple[int, str], list[int]] = defaultdict(list)  # (city, key) → refs

    def add(self, scope: str, key: str, ref: int) -> None:
        if key:
            self.entries.add((scope + "\t" + key, ref))

    def city(self, pref: str, name: str) -> int:
        found = self.city_ids.get((pref, name))
        if found is None:
            found = len(self.cities)
            self.city_ids[(pref, name)] = found
            self.cities.append(Area(pref, name, None, None))
        return found

    def town(self, city_id: int, name: str, lat: float, lon: float) -> int:
        town_id = len(self.town_names)
        self.town_names.append(name)
        self.town_city.append(city_id)
        self.town_lat.append(lat)
        self.town_lon.append(lon)
        return town_id

    def town_key(self, city_id: int, key: str, ref: int) -> None:
        refs = self.town_refs[(city_id, key)]
        if ref not in refs:
            refs.append(ref)


def build(directory: Path) -> None:
    """Compile the shipped data into ``directory`` (written whole, then renamed into place)."""
    b = _Builder()
    koaza_points: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    plain: set[tuple[int, str]] = set()
    koaza_alone: dict[tuple[int, str], list[int]] = defaultdict(list)
    families: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for pref, city_name, town_name, koaza, lat_text, lon_text in _rows("towns.tsv.gz"):
        city_id = b.city(pref, city_name)
        lat = float(lat_text) if lat_text else math.nan
        lon = float(lon_text) if lon_text else math.nan
        if lat_text and lon_text:
            b.pref_points[pref].append((lat, lon))
            b.city_points[city_id].append((lat, lon))
            koaza_points[(city_id, town_name)].append((lat, lon))
        town_id = b.town(city_id, town_name + koaza, lat, lon)
        if koaza:
            for key in _aliases(town_name):
                b.town_key(city_id, key + name_key(koaza), town_id)
                b.town_key(city_id, key + "字" + name_key(koaza), town_id)
            koaza_alone[(city_id, name_key(koaza))].append(town_id)
            continue
        plain.add((city_id, town_name))
        for key in _aliases(town_name):
            b.town_key(city_id, key, town_id)
        chome = _CHOME.match(town_name)
        if chome:
            with contextlib.suppress(ValueError):
                families[(city_id, chome.group(1))][text.kanji_to_int(chome.group(2))] = town_id
    # Towns known only through their 小字 still match by the town name alone.
    for (city_id, town_name), points in koaza_points.items():
        if (city_id, town_name) not in plain:
            lat, lon = _median(points)
            town_id = b.town(city_id, town_name, lat, lon)
            for key in _aliases(town_name):
                b.town_key(city_id, key, town_id)
    for (city_id, base), members in families.items():
        family = len(b.families)
        b.families.append((city_id, base))
        lat, lon = _median(
            [
                (b.town_lat[t], b.town_lon[t])
                for t in members.values()
                if not math.isnan(b.town_lat[t])
            ]
        )
        b.family_lat.append(lat)
        b.family_lon.append(lon)
        for number, town_id in members.items():
            b.add(CHOME.format(family), str(number), town_id)
        for key in _aliases(base):
            if (city_id, key) not in b.town_refs:  # a town of that very name wins
                b.town_key(city_id, key, -family - 1)

    # A 小字 alone (深川市メム, 長野市県町) names its place when nothing else in the city does:
    # added last, so that towns and 丁目 families keep their own names.
    for (city_id, key), towns in koaza_alone.items():
        if len(towns) == 1 and len(key) >= 2 and (city_id, key) not in b.town_refs:
            b.town_key(city_id, key, towns[0])

    prefs, pref_keys = _prefs(b)
    designated = _cities(b, prefs)
    _readings(b, prefs, pref_keys)
    pref_number = {a.name: i for i, a in enumerate(prefs)}
    for (city_id, key), refs in b.town_refs.items():
        pref_id = pref_number[b.cities[city_id].pref]
        for ref in refs:
            b.add(CITY_TOWN.format(city_id), key, ref)
            b.add(PREF_TOWN.format(pref_id), key, ref)
            b.add(ALL_TOWN, key, ref)

    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".building-"))
    try:
        trie = marisa_trie.RecordTrie("<i", [(key, (ref,)) for key, ref in sorted(b.entries)])
        trie.save(str(work / "keys.marisa"))
        (work / "towns.txt").write_text("\n".join(b.town_names), encoding="utf-8")
        for name, values in (
            ("town_city", b.town_city), ("town_lat", b.town_lat), ("town_lon", b.town_lon),
            ("family_lat", b.family_lat), ("family_lon", b.family_lon),
        ):  # fmt: skip
            (work / f"{name}.bin").write_bytes(values.tobytes())
        meta = {
            "prefs": prefs,
            "pref_keys": pref_keys,
            "cities": b.cities,
            "designated": designated,
            "families": b.families,
        }
        with (work / "meta.pickle").open("wb") as handle:
            pickle.dump(meta, handle, protocol=pickle.HIGHEST_PROTOCOL)
        with (work / "postcodes.pickle").open("wb") as handle:
            pickle.dump(_postcodes(b), handle, protocol=pickle.HIGHEST_PROTOCOL)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(work, directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _prefs(b: _Builder) -> tuple[list[Area], dict[str, int]]:
    prefs: list[Area] = []
    keys: dict[str, int] = {}
    for name, points in b.pref_points.items():
        lat, lon = _median(points)
        keys[name_key(name)] = len(prefs)
        short = _PREF_SUFFIX.sub("", name)
        if short != name:
            keys.setdefault(name_key(short), len(prefs))
        prefs.append(Area(name, name, lat, lon))
    return prefs, keys


def _cities(b: _Builder, prefs: list[Area]) -> dict[str, list[int]]:
    """City keys: the name, the name without its 郡, a ward without its city; 政令市 by name."""
    number = {a.name: i for i, a in enumerate(prefs)}
    designated: dict[str, list[int]] = defaultdict(list)
    for city_id, city in enumerate(b.cities):
        city.lat, city.lon = _median(b.city_points.get(city_id, []))
        keys = {name_key(city.name)}
        gun = _GUN.match(city.name)
        if gun:
            keys.add(name_key(gun.group(2)))
        ward = _WARD.match(city.name)
        if ward:
            keys.add(name_key(ward.group(2)))
            designated[name_key(ward.group(1))].append(city_id)
        for key in keys:
            b.add(PREF_CITY.format(number[city.pref]), key, city_id)
            b.add(ALL_CITY, key, city_id)
    return dict(designated)


def _readings(b: _Builder, prefs: list[Area], pref_keys: dict[str, int]) -> None:
    """Kana readings from the postal data (ミタカシ, シモレンジャク) match as names too."""
    number = {a.name: i for i, a in enumerate(prefs)}
    for _code, pref, city_name, town_name, pref_kana, city_kana, town_kana in _rows(
        "postcodes.tsv.gz"
    ):
        if pref in number and pref_kana:
            pref_keys.setdefault(name_key(pref_kana), number[pref])
        city_id = b.city_ids.get((pref, city_name))
        if city_id is None:
            continue
        if city_kana:
            b.add(PREF_CITY.format(number[pref]), name_key(city_kana), city_id)
            b.add(ALL_CITY, name_key(city_kana), city_id)
        if town_name and town_kana:
            refs = b.town_refs.get((city_id, name_key(town_name)), [])
            for ref in list(refs):
                b.town_key(city_id, name_key(town_kana), ref)


def _postcodes(b: _Builder) -> dict[str, tuple[str, str, str]]:
    codes: dict[str, tuple[str, str, str]] = {}
    for code, pref, city_name, town_name, *_kana in _rows("postcodes.tsv.gz"):
        if (pref, city_name) in b.city_ids:
            codes.setdefault(code, (pref, city_name, town_name))
    for code, _name, pref, city_name, town_name, banchi in _rows("offices.tsv.gz"):
        if (pref, city_name) in b.city_ids:
            chome = re.match(r"^(\d+)丁目", text.normalize(banchi))
            suffix = text.chome_to_kanji(int(chome.group(1))) + "丁目" if chome else ""
            codes.setdefault(code, (pref, city_name, town_name + suffix))
    return codes


# --- loading -----------------------------------------------------------------------------


@cache
def fingerprint() -> str:
    """Changes whenever the data or this module changes, so an old index is never used."""
    digest = hashlib.sha256(INDEX_VERSION.encode())
    for name in ("towns.tsv.gz", "postcodes.tsv.gz", "offices.tsv.gz"):
        digest.update(f"{name}:{_data_file(name).stat().st_size}".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    from cityos.settings import Settings

    return Settings().resolved_cache_dir


def _build_once(directory: Path) -> None:
    """Build under a file lock, so parallel processes (test workers) build it only once."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with (directory.parent / ".address-index.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (directory / "meta.pickle").exists():
            return
        log.info("building the address index in %s (once per data version)", directory)
        build(directory)
        for old in directory.parent.glob("address-*"):
            if old != directory and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


_loaded: dict[Path, AddressIndex] = {}
_default: list[AddressIndex] = []  # the index of this process's cache root, once loaded
_load_lock = Lock()


def load_index(root: Path | None = None) -> AddressIndex:
    """The compiled index, built first if this data version has none yet."""
    if root is None and _default:
        return _default[0]
    directory = (root or cache_root()) / f"address-{fingerprint()}"
    found = _loaded.get(directory)
    if found is not None:
        return found
    with _load_lock:
        if directory not in _loaded:
            if not (directory / "meta.pickle").exists():
                _build_once(directory)
            _loaded[directory] = AddressIndex(directory)
            if root is None:
                _default.append(_loaded[directory])
    return _loaded[directory]
