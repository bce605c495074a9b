"""Japanese words of a text, also from many threads at once (the web app's thread pool)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from cityos.core import tokens

TEXTS = [
    "粗大ごみを出したいのですが、どうすればよいですか。",
    "子どもの医療費助成について知りたい。",
    "住民票の写しはどこで取れますか。",
    "引っ越してきたときの手続きを教えてください。",
]


def test_words_carry_base_normalized_form_and_reading() -> None:
    found = {w.surface: w for w in tokens.words("子どもが来た住民票")}
    assert found["子ども"].normalized == "子供"
    assert found["来"].base == "来る"
    assert found["住民票"].reading == "ジュウミンヒョウ"
    assert found["住民票"].pos == "名詞"


def test_many_threads_at_once_get_the_same_words_as_one() -> None:
    expected = [tokens.words(text) for text in TEXTS]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(tokens.words, TEXTS * 200))
    assert results == expected * 200
