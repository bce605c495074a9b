"""The 自治体標準オープンデータセット schemas: columns, layouts, value kinds and validators.

Published files mix two layouts of each dataset: the 推奨データセット layout (2021, which starts
with 都道府県コード又は市区町村コード,NO,都道府県名,市区町村名 and has 住所,方書) and the 正式版 layout
(which starts with 全国地方公共団体コード,ID,地方公共団体名 and has the 所在地_* address block).
Both are accepted. A file's header is matched to the closer layout and its differences are
reported as drift (missing, extra and renamed columns) rather than rejected.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from cityos.core import text

# --- value kinds -------------------------------------------------------------------------

# The CKAN DataStore type each kind is stored as.
KIND_TYPES: dict[str, str] = {
    "text": "text",
    "id": "text",
    "lg_code": "text",
    "latitude": "numeric",
    "longitude": "numeric",
    "phone": "text",
    "url": "text",
    "date": "date",
    "time": "time",
    "integer": "int",
    "number": "numeric",
    "corporate_number": "text",
    "postcode": "text",
}

JAPAN_LAT = (20.0, 46.0)
JAPAN_LON = (122.0, 154.0)


class CellError(ValueError):
    """A cell value that its column's kind does not allow; the message is bilingual."""


@cache
def municipality_codes() -> dict[str, tuple[str, str]]:
    """全国地方公共団体コード (6 digits) → (prefecture, municipality) for all of Japan."""
    raw = json.loads(
        (
            resources.files("cityos.opendata")
            / "standards_data"
            / "municipality_codes_code-to-city.json"
        ).read_text(encoding="utf-8")
    )
    codes: dict[str, tuple[str, str]] = {}
    for pref in raw.values():
        pref_code = lg_code_with_check_digit(pref["code"] + "000")
        codes[pref_code] = (pref["name"], "")
        for city in pref["cities"].values():
            codes[city["code"]] = (pref["name"], city["cityName"])
    return codes


def lg_code_with_check_digit(five_digits: str) -> str:
    """Append the check digit of the 全国地方公共団体コード (weights 6,5,4,3,2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(five_digits, (6, 5, 4, 3, 2), strict=True))
    return five_digits + str((11 - total % 11) % 10)


@lru_cache(maxsize=4096)
def check_lg_code(value: str) -> str:
    code = unicodedata.normalize("NFKC", value).strip()
    if len(code) == 5 and code.isdigit():
        code = lg_code_with_check_digit(code)
    if len(code) != 6 or not code.isdigit():
        raise CellError(
            f"全国地方公共団体コードは6桁の数字です / a local government code has 6 digits: {value!r}"
        )
    if lg_code_with_check_digit(code[:5]) != code:
        raise CellError(
            f"全国地方公共団体コードの検査数字が違います / wrong check digit in code {value!r}"
        )
    if code not in municipality_codes():
        raise CellError(
            f"存在しない全国地方公共団体コードです / unknown local government code {value!r}"
        )
    return code


def _to_float(value: str) -> float:
    try:
        return float(unicodedata.normalize("NFKC", value).replace(",", "").strip())
    except ValueError:
        raise CellError(f"数値ではありません / not a number: {value!r}") from None


def check_latitude(value: str) -> float:
    number = _to_float(value)
    if not JAPAN_LAT[0] <= number <= JAPAN_LAT[1]:
        raise CellError(
            f"緯度が日本の範囲（{JAPAN_LAT[0]}〜{JAPAN_LAT[1]}）外です / "
            f"latitude outside Japan: {value!r}"
        )
    return number


def check_longitude(value: str) -> float:
    number = _to_float(value)
    if not JAPAN_LON[0] <= number <= JAPAN_LON[1]:
        raise CellError(
            f"経度が日本の範囲（{JAPAN_LON[0]}〜{JAPAN_LON[1]}）外です / "
            f"longitude outside Japan: {value!r}"
        )
    return number


def check_number(value: str) -> float:
    return _to_float(value)


@lru_cache(maxsize=4096)
def check_integer(value: str) -> int:
    cleaned = unicodedata.normalize("NFKC", value).replace(",", "").strip()
    try:
        return int(cleaned)
    except ValueError:
        raise CellError(f"整数ではありません / not a whole number: {value!r}") from None


@lru_cache(maxsize=8192)
def check_phone(value: str) -> str:
    phone = text.normalize_phone(value)
    if phone is None:
        raise CellError(f"電話番号の形式ではありません / not a Japanese phone number: {value!r}")
    return phone


_URL_UNSAFE = frozenset(' <>"')


def check_url(value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not _URL_UNSAFE.isdisjoint(url):
        raise CellError(f"http(s):// で始まるURLではありません / not an http(s) URL: {value!r}")
    return url


@lru_cache(maxsize=8192)
def check_date(value: str) -> str:
    try:
        return text.parse_date(value).isoformat()
    except ValueError:
        raise CellError(
            f"日付として読めません（西暦・和暦） / not a date (Western or Japanese era): {value!r}"
        ) from None


@lru_cache(maxsize=4096)
def check_time(value: str) -> str:
    cleaned = unicodedata.normalize("NFKC", value).strip()
    if cleaned in ("24:00", "24:00:00"):
        return "24:00:00"  # closing at midnight is common and valid in PostgreSQL's time type
    try:
        return text.parse_time(value).isoformat()
    except ValueError:
        raise CellError(f"時刻として読めません / not a time of day: {value!r}") from None


@lru_cache(maxsize=4096)
def check_corporate_number(value: str) -> str:
    digits = unicodedata.normalize("NFKC", value).strip()
    if len(digits) != 13 or not digits.isdigit():
        raise CellError(f"法人番号は13桁の数字です / a corporate number has 13 digits: {value!r}")
    body = digits[1:]
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(body)))
    if int(digits[0]) != 9 - total % 9:
        raise CellError(f"法人番号の検査数字が違います / wrong check digit: {value!r}")
    return digits


def check_postcode(value: str) -> str:
    code = text.normalize_postcode(value)
    if code is None:
        raise CellError(f"郵便番号の形式ではありません / not a postcode: {value!r}")
    return code


def _keep(value: str) -> str:
    return value


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "text": _keep,
    "id": _keep,
    "lg_code": check_lg_code,
    "latitude": check_latitude,
    "longitude": check_longitude,
    "phone": check_phone,
    "url": check_url,
    "date": check_date,
    "time": check_time,
    "integer": check_integer,
    "number": check_number,
    "corporate_number": check_corporate_number,
    "postcode": check_postcode,
}

# Which kind a column has, decided by its name as the standard writes it.
_KIND_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(都道府県コード又は市区町村コード|全国地方公共団体コード|所在地_全国地方公共団体コード|市区町村コード)$"
        ),
        "lg_code",
    ),
    (re.compile(r"^(NO|ID)$"), "id"),
    (re.compile(r"^緯度$"), "latitude"),
    (re.compile(r"^経度$"), "longitude"),
    (re.compile(r"(電話番号|FAX番号)$"), "phone"),
    (re.compile(r"^(URL|連絡先FormURL)$"), "url"),
    (re.compile(r"^郵便番号$"), "postcode"),
    (re.compile(r"^法人番号$"), "corporate_number"),
    (re.compile(r"(開始日|終了日|年月日|指定日|登録日|更新日)$"), "date"),
    (re.compile(r"(開始時間|終了時間)$"), "time"),
    (re.compile(r"^(標高|高度の値)$"), "number"),
    (
        re.compile(
            r"(総人口|^男性$|^女性$|歳の男性$|歳の女性$|以上の男性$|以上の女性$|世帯数|定員|"
            r"病床数|収容人数|トイレ総数|トイレ数（.*）$|多機能トイレ数|バリアフリートイレ数|"
            r"員数（数）|^口径$)"
        ),
        "integer",
    ),
]


def kind_of(column: str) -> str:
    key = header_key(column)
    for pattern, kind in _KIND_RULES:
        if pattern.search(key):
            return kind
    return "text"


def header_key(column: str) -> str:
    """How headers are compared: NFKC, no spaces, with the standard's own parentheses."""
    key = unicodedata.normalize("NFKC", column).replace(" ", "").strip()
    # NFKC turns （） into (); the standard writes both, so compare with one form.
    return key.replace("(", "（").replace(")", "）")


# --- schemas -------------------------------------------------------------------------------

RECOMMENDED_PREFIX = ["都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名"]
# Columns the 正式版 renamed; each pair is (推奨 name, 正式版 name).
RENAMES: list[tuple[str, str]] = [
    ("都道府県コード又は市区町村コード", "全国地方公共団体コード"),
    ("NO", "ID"),
    ("市区町村名", "地方公共団体名"),
    ("住所", "所在地_連結表記"),
    ("方書", "建物名等(方書)"),
    ("多機能トイレ数", "バリアフリートイレ数"),
    ("標高", "高度の値"),
]

DESIGNATED_SHELTER_COLUMNS = [
    "NO", "名称", "名称_カナ", "住所", "方書", "緯度", "経度", "標高", "電話番号", "内線番号",
    "市区町村コード", "都道府県名", "市区町村名", "想定収容人数", "対象となる町会・自治会",
    "受入対象者", "指定緊急避難場所との重複", "URL", "備考",
]  # fmt: skip

# (id, key in ods_headers.json, English title)
_SCHEMA_INDEX: list[tuple[str, str, str]] = [
    ("aed", "01_AED設置箇所一覧", "AED locations"),
    ("care_services", "02_介護サービス事業所一覧", "Care service providers"),
    ("medical", "03_医療機関一覧", "Medical institutions"),
    ("cultural_properties", "04_文化財一覧", "Cultural properties"),
    ("tourism", "05_観光施設一覧", "Tourist facilities"),
    ("events", "06_イベント一覧", "Events"),
    ("wifi", "07_公衆無線LANアクセスポイント一覧", "Public Wi-Fi access points"),
    ("public_toilets", "08_公衆トイレ一覧", "Public toilets"),
    ("fire_water", "09_消防水利施設一覧", "Fire-fighting water sources"),
    (
        "emergency_evacuation_sites",
        "10_指定緊急避難場所一覧",
        "Designated emergency evacuation sites",
    ),
    ("population", "11_地域・年齢別人口", "Population by area and age"),
    ("public_facilities", "12_公共施設一覧", "Public facilities"),
    ("childcare", "13_子育て施設一覧", "Child-care facilities"),
    ("opendata_list", "14_オープンデータ一覧", "List of open data"),
]

# The column holding the name of each row, required in every row.
_NAME_COLUMNS = ("名称", "イベント名", "介護サービス事業所名称", "データ名称", "地域名", "種別")


@dataclass(frozen=True)
class Layout:
    name: str  # "recommended" or "official"
    columns: tuple[str, ...]


@dataclass(frozen=True)
class StandardSchema:
    id: str
    title: str
    title_en: str
    layouts: tuple[Layout, ...]
    required: frozenset[str]
    aliases: dict[str, str] = field(default_factory=dict)  # header key → canonical column

    def known_columns(self) -> set[str]:
        return {header_key(c) for layout in self.layouts for c in layout.columns}

    def canonical(self, column: str) -> str:
        """The 推奨 name of a column given in either layout (or the column itself)."""
        key = header_key(column)
        return self.aliases.get(key, column)


def _official_columns(recommended: list[str]) -> list[str]:
    ods = _ods_headers()
    columns: list[str] = []
    if recommended[: len(RECOMMENDED_PREFIX)] == RECOMMENDED_PREFIX:
        columns += ods["standard_official_common_prefix"]
        recommended = recommended[len(RECOMMENDED_PREFIX) :]
    renamed = dict(RENAMES)
    for column in recommended:
        if column == "住所":
            columns += ods["standard_official_address_block"]
        elif column == "方書":
            continue  # part of the address block
        else:
            columns.append(renamed.get(column, column))
    return columns


@cache
def _ods_headers() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (resources.files("cityos.opendata") / "standards_data" / "ods_headers.json").read_text(
            encoding="utf-8"
        )
    )
    return data


def _make_schema(
    schema_id: str, title: str, title_en: str, recommended: list[str]
) -> StandardSchema:
    official = _official_columns(recommended)
    if schema_id == "public_toilets":
        official = list(_ods_headers()["standard_official_public_toilet"])
    aliases = {header_key(new): old for old, new in RENAMES}
    required = {
        c
        for c in recommended
        if c in ("都道府県コード又は市区町村コード", "市区町村コード", "NO") or c in _NAME_COLUMNS
    }
    # Only the first name-like column is the row's name (子育て施設一覧 has both 名称 and 種別).
    names = [c for c in recommended if c in _NAME_COLUMNS]
    required -= set(names[1:])
    return StandardSchema(
        id=schema_id,
        title=title,
        title_en=title_en,
        layouts=(Layout("recommended", tuple(recommended)), Layout("official", tuple(official))),
        required=frozenset(required),
        aliases=aliases,
    )


@cache
def all_schemas() -> dict[str, StandardSchema]:
    recommended = _ods_headers()["recommended_2021"]
    schemas: dict[str, StandardSchema] = {}
    for schema_id, key, title_en in _SCHEMA_INDEX:
        title = key.split("_", 1)[1]
        schemas[schema_id] = _make_schema(schema_id, title, title_en, list(recommended[key]))
    schemas["designated_shelters"] = _make_schema(
        "designated_shelters", "指定避難所一覧", "Designated shelters", DESIGNATED_SHELTER_COLUMNS
    )
    return dict(sorted(schemas.items()))


def get_schema(schema_id: str) -> StandardSchema | None:
    return all_schemas().get(schema_id) if schema_id else None


# --- matching a file's header to a schema --------------------------------------------------


@dataclass
class Drift:
    layout: str
    missing: list[str]
    extra: list[str]
    renamed: list[tuple[str, str]]  # (column in the file, the layout's name for it)

    @property
    def any(self) -> bool:
        return bool(self.missing or self.extra or self.renamed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "missing": self.missing,
            "extra": self.extra,
            "renamed": [{"from": a, "to": b} for a, b in self.renamed],
        }


def match_header(schema: StandardSchema, header: list[str]) -> Drift:
    """Pick the layout closest to ``header`` and say how the header differs from it."""
    keys = [header_key(h) for h in header]

    def score(layout: Layout) -> int:
        return len({header_key(c) for c in layout.columns} & set(keys))

    layout = max(schema.layouts, key=score)
    layout_keys = {header_key(c): c for c in layout.columns}
    pair_of: dict[str, str] = {}
    for old, new in RENAMES:
        pair_of[header_key(old)] = header_key(new)
        pair_of[header_key(new)] = header_key(old)
    renamed: list[tuple[str, str]] = []
    extra: list[str] = []
    covered: set[str] = set()
    for original, key in zip(header, keys, strict=True):
        if key in layout_keys:
            covered.add(key)
        elif pair_of.get(key) in layout_keys:
            renamed.append((original, layout_keys[pair_of[key]]))
            covered.add(pair_of[key])
        elif key not in schema.known_columns():
            extra.append(original)
        else:
            covered.add(key)  # a column of the other layout: known, not drift
    missing = [name for key, name in layout_keys.items() if key not in covered]
    # A missing 住所 is no drift when the file carries the other layout's address block.
    if "所在地_連結表記" in [header_key(h) for h in header] and "住所" in missing:
        missing.remove("住所")
    return Drift(layout=layout.name, missing=missing, extra=extra, renamed=renamed)


def is_required(schema: StandardSchema, column: str) -> bool:
    return schema.canonical(column) in schema.required
