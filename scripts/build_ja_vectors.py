"""Build the chatbot's Japanese word vectors from the chiVe vectors that GiNZA ships.

    .venv-bench/bin/pip install ja-ginza==5.3.0      # GiNZA's model (a PyPI package), with spaCy
    PYTHONPATH=src .venv-bench/bin/python scripts/build_ja_vectors.py \\
        --vocab .venv-bench/lib/python3.11/site-packages/ja_ginza/ja_ginza-5.3.0/vocab

writes ``src/cityos/chatbot/data/ja_vectors.bin.gz``. The model's vocabulary holds 20,000
300-dimensional vectors of chiVe (Works Applications' word2vec trained on the NINJAL Web Japanese
Corpus, over Sudachi's normalized forms) and maps about 480,000 words to them: a frequent word to
its own vector, a rarer word to the vector of the frequent word nearest to it.

What the file keeps:
- the 20,000 vectors reduced to ``--dims`` dimensions by principal components (each component's
  sign fixed so that its largest loading is positive), each vector scaled to length 1 and stored
  as signed bytes (the engine scales them back to length 1: only directions matter);
- the words written only in kana, kanji, the long-vowel mark, 々 and Latin letters, of at most
  ``--longest`` characters, each under the key the engine indexes words by
  (:func:`cityos.core.text.search_key`: katakana as hiragana, case folded), sorted; where two
  words share a key, the one that is its own key (ごみ before ゴミ) gives the vector, else the
  first in code-point order.

Layout (gzip without a time stamp, so the file is rebuilt byte for byte on the same machine):
one JSON header line ``{"dims": D, "vectors": V, "words": W}``, then V×D signed
bytes, then W little-endian uint16 row numbers, then the W keys in UTF-8, one a line.

chiVe is © Works Applications Enterprise Co., Ltd., under the Apache License 2.0; GiNZA is under
the MIT License (see the data folder's SOURCES.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "cityos" / "chatbot" / "data" / "ja_vectors.bin.gz"
_KEPT = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff々ーa-zA-Z]+")


def reduced(vectors: np.ndarray, dims: int) -> np.ndarray:
    """``vectors`` projected on their first ``dims`` principal components, scaled to length 1
    and rounded to signed bytes."""
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    _u, _s, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:dims]
    signs = np.sign(components[np.arange(dims), np.abs(components).argmax(axis=1)])
    projected = centred @ (components * signs[:, None]).T
    projected /= np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)
    scale = 127.0 / np.maximum(np.abs(projected).max(axis=1, keepdims=True), 1e-12)
    return np.round(projected * scale).astype(np.int8)


def keyed_rows(words: list[str], rows: list[int], longest: int) -> dict[str, int]:
    """Search key -> vector row for the words worth keeping (see the module docstring)."""
    sys.path.insert(0, str(ROOT / "src"))
    from cityos.core.text import search_key

    chosen: dict[str, tuple[bool, str, int]] = {}
    for word, row in zip(words, rows, strict=True):
        if len(word) > longest or not _KEPT.fullmatch(word):
            continue
        key = search_key(word)
        if not key:
            continue
        candidate = (word != key, word, row)
        if key not in chosen or candidate < chosen[key]:
            chosen[key] = candidate
    return {key: row for key, (_own, _word, row) in chosen.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=Path, required=True, help="ja_ginza's vocab folder")
    parser.add_argument("--dims", type=int, default=100)
    parser.add_argument("--longest", type=int, default=10, help="longest word kept, characters")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    import srsly  # spaCy's serialization library, installed with ja-ginza
    from spacy.strings import hash_string

    key2row = srsly.read_msgpack(args.vocab / "key2row")
    strings = json.loads((args.vocab / "strings.json").read_text(encoding="utf-8"))
    vectors = np.load(args.vocab / "vectors", allow_pickle=False)
    words, rows = [], []
    for string in strings:
        row = key2row.get(hash_string(string))
        if row is not None:
            words.append(string)
            rows.append(int(row))
    kept = keyed_rows(words, rows, args.longest)
    keys = sorted(kept)
    matrix = reduced(vectors, args.dims)
    header = {"dims": args.dims, "vectors": int(matrix.shape[0]), "words": len(keys)}
    body = b"".join(
        [
            json.dumps(header, sort_keys=True).encode("ascii") + b"\n",
            matrix.tobytes(),
            np.array([kept[k] for k in keys], dtype="<u2").tobytes(),
            "\n".join(keys).encode("utf-8"),
        ]
    )
    args.out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    print(
        f"{len(keys):,} words -> {matrix.shape[0]:,} vectors of {args.dims} dimensions; "
        f"{args.out} ({args.out.stat().st_size / 1024:,.0f} KiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
