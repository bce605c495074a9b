"""Reading citizens' texts (JSON lines) and analysing a batch: sentiment and topic of each.

A bad line never stops the others: it is reported with its number and the reason, and the
good lines go on. Nothing here needs the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cityos.core import jsonlines, tokens
from cityos.voice import analysis, topics

Text = jsonlines.Record
Problem = jsonlines.Problem


def read_texts(lines: Iterable[bytes]) -> tuple[list[Text], list[Problem]]:
    """Every good text of ``lines`` (one JSON object a line with id and text), and what was
    wrong with the rest."""
    return jsonlines.read_records(lines)


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
