"""Standardizing the address of each row during ingest, with the address domain's normalizer.

A standard dataset's 住所 (推奨 layout) or 所在地_連結表記 (正式版) is normalized row by row, and
the 正式版 address block — 所在地_都道府県, 所在地_市区町村, 所在地_町字, 所在地_番地以下 — is filled
where the file leaves it empty (and added to the table when the file's layout lacks it).
Addresses the normalizer cannot place in a city are reported; the rows are still loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cityos.address import service as address
from cityos.opendata import standards

SOURCE_COLUMNS = ("住所", "所在地_連結表記")
BLOCK_COLUMNS = ("所在地_都道府県", "所在地_市区町村", "所在地_町字", "所在地_番地以下")
CITY_COLUMNS = ("市区町村名", "地方公共団体名")
MAX_LISTED = 50


@dataclass
class AddressStep:
    """Where the address is in a row, where its parts go, and what was found so far."""

    column: str
    source: int
    context: int | None
    targets: list[int]
    added: list[str]
    recognized: int = 0
    unrecognized: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)

    def apply(self, line: int, values: list[Any]) -> None:
        written = values[self.source]
        if not isinstance(written, str) or not written:
            return
        context = values[self.context] if self.context is not None else None
        parts = _normalized(written, context if isinstance(context, str) else None)
        if parts is None:
            self.unrecognized += 1
            if len(self.examples) < MAX_LISTED:
                self.examples.append((line, written))
            return
        self.recognized += 1
        for target, value in zip(self.targets, parts, strict=True):
            if values[target] is None and value:
                values[target] = value

    def summary(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "recognized": self.recognized,
            "unrecognized": self.unrecognized,
            "added_columns": self.added,
            "unrecognized_lines": [{"line": n, "value": v} for n, v in self.examples],
        }


@lru_cache(maxsize=65536)
def _normalized(written: str, city: str | None) -> tuple[str, str, str, str] | None:
    """(prefecture, city, 町字, the rest) of an address, None when no city is recognized."""
    result = address.normalize(written, prefer_city=city)
    if result.level < address.LEVEL_CITY or result.pref is None or result.city is None:
        return None
    rest = " ".join(part for part in (result.addr, result.other) if part)
    return result.pref, result.city, result.town or "", rest


def plan(
    header: list[str], schema: standards.StandardSchema | None
) -> tuple[AddressStep | None, list[str]]:
    """The address step for a file, and the block columns to add to its table."""
    if schema is None:
        return None, []
    keys = [standards.header_key(schema.canonical(name)) for name in header]
    source = next(
        (
            i
            for i, key in enumerate(keys)
            if key in {standards.header_key(c) for c in SOURCE_COLUMNS}
        ),
        None,
    )
    if source is None:
        return None, []
    by_key = {standards.header_key(name): i for i, name in enumerate(header)}
    targets: list[int] = []
    added: list[str] = []
    for name in BLOCK_COLUMNS:
        found = by_key.get(standards.header_key(name))
        if found is None:
            found = len(header) + len(added)
            added.append(name)
        targets.append(found)
    context = next(
        (
            by_key[standards.header_key(c)]
            for c in CITY_COLUMNS
            if standards.header_key(c) in by_key
        ),
        None,
    )
    return AddressStep(header[source], source, context, targets, added), added
