"""Texts that arrive as JSON lines (SNS posts, citizens' opinions): each line an object with an
``id`` and a ``text``. A bad line never stops the others: it is reported with its number and
the reason (Japanese, then English), and the good lines go on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

MAX_TEXT_CHARS = 10_000  # a post or an opinion is at most a few thousand characters
MAX_LINE_BYTES = 1_000_000


@dataclass
class Record:
    line: int
    id: str
    text: str
    data: dict[str, Any]  # the object as it came


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str
    kept: bool = False  # the line was still read (only a detail was wrong)

    def __str__(self) -> str:
        return f"{self.line}行目 / line {self.line}: {self.reason}"


def _read_line(number: int, raw: bytes, seen: dict[str, int]) -> Record | Problem | None:
    if len(raw) > MAX_LINE_BYTES:
        return Problem(number, f"行が長すぎます / the line is over {MAX_LINE_BYTES:,} bytes")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(number, f"UTF-8 ではありません / not UTF-8 (byte {exc.start + 1})")
    if not line.strip():
        return None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Problem(number, f"JSON として読めません / not JSON: {exc}"[:200])
    if not isinstance(data, dict):
        return Problem(number, "JSON オブジェクトではありません / not a JSON object")
    ident = data.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str) or not ident.strip():
        return Problem(number, "id がありません / the id is missing")
    if ident in seen:
        return Problem(number, f"id {ident!r} が重複しています（{seen[ident]}行目） / duplicate id")
    written = data.get("text")
    if not isinstance(written, str) or not written.strip():
        return Problem(number, "text が空です / the text is empty")
    if len(written) > MAX_TEXT_CHARS:
        return Problem(
            number,
            f"text が長すぎます（{len(written):,}文字） / the text is over {MAX_TEXT_CHARS:,} characters",
        )
    seen[ident] = number
    return Record(number, ident, written, data)


def read_records(lines: Iterable[bytes]) -> tuple[list[Record], list[Problem]]:
    """Every good object of ``lines`` (one a line), and what was wrong with the rest."""
    records: list[Record] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        found = _read_line(number, raw.rstrip(b"\r\n"), seen)
        if isinstance(found, Record):
            records.append(found)
        elif found is not None:
            problems.append(found)
    return records, problems


def input_lines(path: Path) -> list[bytes]:
    """The lines of a command's ``--input``: a file, or standard input for ``-``.
    FileNotFoundError when the file is not there."""
    if str(path) == "-":
        return list(sys.stdin.buffer)
    if not path.is_file():
        raise FileNotFoundError(path)
    with path.open("rb") as handle:
        return list(handle)
