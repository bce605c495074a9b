"""Japanese words of a text: SudachiPy with its shipped core dictionary (nothing downloaded).

One dictionary a process, loaded on first use (it takes a moment); one tokenizer a thread
over it, because a Sudachi tokenizer refuses to be used by two threads at once (the web app
answers in a thread pool).
SplitMode C: the longest units (保育園, 待機児童 stay whole); each word carries its dictionary
form (来た → 来る), its normalized form (子ども → 子供, 引越し → 引っ越し), its reading in
katakana and its part of speech.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from cityos.core import text as jtext

#: Sudachi refuses inputs over about 49 KB; texts are cut into pieces well under that.
_PIECE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Word:
    surface: str
    base: str  # dictionary form
    pos: str  # 名詞, 動詞, 形容詞, 助詞 ...
    detail: str  # 普通名詞, 固有名詞, 数詞, 一般, 非自立可能 ...
    normalized: str = ""  # spelling variants folded: 子ども, こども → 子供
    reading: str = ""  # katakana: 住民票 → ジュウミンヒョウ


_LOCK = threading.Lock()
_PER_THREAD = threading.local()


@cache
def _dictionary() -> tuple[Any, dict[int, tuple[str, str]]]:
    from sudachipy import Dictionary

    return Dictionary(dict="core"), {}


def thread_tokenizer(mode: str = "C") -> Any:
    """This thread's Sudachi tokenizer for split mode ``A``, ``B`` or ``C`` (made once per
    thread and mode over the one dictionary; never share one between threads)."""
    found: dict[str, Any] | None = getattr(_PER_THREAD, "tokenizers", None)
    if found is None:
        found = _PER_THREAD.tokenizers = {}
    tokenizer = found.get(mode)
    if tokenizer is None:
        from sudachipy import SplitMode

        with _LOCK:  # the first threads to arrive load the dictionary once
            dictionary, _pos = _dictionary()
        tokenizer = found[mode] = dictionary.tokenizer(mode=getattr(SplitMode, mode))
    return tokenizer


def _tokenizer() -> tuple[Any, Any, dict[int, tuple[str, str]]]:
    tokenizer = thread_tokenizer("C")
    dictionary, pos_cache = _dictionary()
    return tokenizer, dictionary, pos_cache


def words(written: str) -> list[Word]:
    """The words of *written* (normalized first with :func:`cityos.core.text.normalize`)."""
    tokenizer, dictionary, pos_cache = _tokenizer()
    normalized = jtext.normalize(written)
    found: list[Word] = []
    for start in range(0, len(normalized), _PIECE_CHARS):
        for morpheme in tokenizer.tokenize(normalized[start : start + _PIECE_CHARS]):
            pos_id = morpheme.part_of_speech_id()
            pos = pos_cache.get(pos_id)
            if pos is None:
                full = dictionary.pos_of(pos_id)
                pos = pos_cache[pos_id] = (full[0], full[1])
            found.append(
                Word(
                    morpheme.surface(),
                    morpheme.dictionary_form(),
                    pos[0],
                    pos[1],
                    morpheme.normalized_form(),
                    morpheme.reading_form(),
                )
            )
    return found
