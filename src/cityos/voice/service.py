"""Reading citizens' texts (JSON lines) and analysing a batch: sentiment and topic of each.

A bad line never stops the others: it is reported with its number and the reason, and the
good lines go on. Nothing here needs the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from cityos.core import tokens
from cityos.voice import analysis, topics

MAX_TEXT_CHARS = 10_000


@dataclass
class Text:
    line: int
    id: str
    text: str
    data: dict[str, Any]  # the object as it came


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.line}行目 / line {self.line}: {self.reason}"


def _read_line(number: int, raw: bytes, seen: set[str]) -> Text | Problem | None:
    if not raw.strip():
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(number, "UTF-8 ではありません / the line is not valid UTF-8")
    try:
        data = orjson.loads(decoded)
    except orjson.JSONDecodeError:
        return Problem(number, "JSON として読めません / the line is not JSON")
    if not isinstance(data, dict):
        return Problem(number, "JSON オブジェクトではありません / the line is not a JSON object")
    ident = data.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str) or not ident.strip():
        return Problem(number, "id がありません / no id")
    written = data.get("text")
    if not isinstance(written, str) or not written.strip():
        return Problem(number, f"{ident}: text が空です / the text is empty or missing")
    if len(written) > MAX_TEXT_CHARS:
        return Problem(
            number,
            f"{ident}: text が長すぎます（{len(written):,}文字） / the text is over {MAX_TEXT_CHARS:,} characters",
        )
    if ident in seen:
        return Problem(number, f"{ident}: id が重複しています / duplicate id")
    seen.add(ident)
    return Text(number, ident, written, data)


def read_texts(lines: Iterable[bytes]) -> tuple[list[Text], list[Problem]]:
    found: list[Text] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        result = _read_line(number, raw, seen)
        if isinstance(result, Text):
            found.append(result)
        elif result is not None:
            problems.append(result)
    return found, problems


def analyze(
    texts: list[Text], progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    """Each text's object with ``sentiment``, ``sentiment_score`` and ``topic`` added; the
    topics are found over the whole batch."""
    rows: list[dict[str, Any]] = []
    words_of = []
    for item in texts:
        words = tokens.words(item.text)
        words_of.append(words)
        rows.append({**item.data, **analysis.sentiment_of(item.text, words).as_dict()})
        if progress is not None:
            progress(1)
    for row, topic in zip(rows, topics.find_topics(words_of), strict=True):
        row["topic"] = topic
    return rows
