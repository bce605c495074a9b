"""Build the chatbot's general English -> Japanese word list from JMdict.

    .venv-bench/bin/pip install jamdict-data==1.5      # JMdict as SQLite (a PyPI package)
    .venv/bin/python scripts/build_en_ja_lexicon.py --db .venv-bench/lib/python3.11/site-packages/jamdict_data/jamdict.db

writes ``src/cityos/chatbot/data/en_ja_jmdict.tsv.gz``: one English word or short phrase (one
to three words, lower case, as JMdict's English glosses say it) a line, then the Japanese
headwords that gloss it, best first, tab-separated. The file is rebuilt byte for byte from the
same JMdict (gzip without a time stamp, lines sorted).

The curated glossary (``glossary.tsv``) says what the city's FAQ calls things; this list is the
fallback for the English words the glossary does not know: at question time the engine keeps
only the headwords the FAQ itself uses (see ``engine.FaqIndex``), so a general dictionary
cannot pull in words no entry has.

Which entries and forms:
- only English glosses (``lang = 'eng'``) of one to three words once a leading "to", "a", "an"
  or "the" and any "(...)" note are dropped; glosses of two or three words only from entries
  JMdict marks as common, and no sense marked archaic, obscure, rare or vulgar;
- only senses that are nouns (common nouns and する nouns): what an FAQ is about is named by
  nouns, while English verbs (get, start, write) gloss so many Japanese verbs that looking them
  up matches an FAQ's wording by chance;
- an English key keeps at most ``--per-key`` entries, ranked: entries JMdict marks as common
  (news1, ichi1, spec1, gai1) first, then by the sense's place in the entry, then by the gloss's
  place in the sense, then by JMdict's sequence number;
- each entry gives its kanji spellings (up to two) and, when JMdict says it is usually
  written in kana or it has no kanji, its first kana spelling first.

JMdict is the property of the Electronic Dictionary Research and Development Group, used in
conformance with the Group's licence (CC BY-SA 4.0); see the data folder's SOURCES.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "cityos" / "chatbot" / "data" / "en_ja_jmdict.tsv.gz"
COMMON = ("news1", "ichi1", "spec1", "gai1")
KANA_USUALLY = "word usually written using kana alone"
SKIPPED_MISC = ("archaism", "obscure term", "vulgar expression or word", "rare term")
NOUNS = ("noun (common) (futsuumeishi)", "noun or participle which takes the aux. verb suru")
_NOTE = re.compile(r"\([^)]*\)")
_ARTICLE = re.compile(r"^(?:to|a|an|the) ")
_WORDS = re.compile(r"[a-z][a-z'\-]*(?: [a-z][a-z'\-]*){0,2}")


def english_key(gloss: str) -> str | None:
    """The lookup key of an English gloss, or None when it is not one to three plain words."""
    text = _NOTE.sub(" ", gloss.casefold())
    text = " ".join(text.replace("\u2019", "'").split())
    text = _ARTICLE.sub("", text)
    return text if _WORDS.fullmatch(text) else None


def _spellings(cursor: sqlite3.Cursor, query: str) -> dict[int, list[str]]:
    """Entry -> its spellings (kanji or kana), in JMdict's order."""
    found: dict[int, list[str]] = defaultdict(list)
    for idseq, text in cursor.execute(query):
        found[idseq].append(text)
    return found


def build(db: Path, per_key: int) -> dict[str, list[str]]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    cursor = connection.cursor()
    common: set[int] = set()
    for query in (
        "SELECT k.idseq, p.text FROM Kanji k JOIN KJP p ON p.kid = k.ID",
        "SELECT k.idseq, p.text FROM Kana k JOIN KNP p ON p.kid = k.ID",
    ):
        for idseq, priority in cursor.execute(query):
            if priority in COMMON:
                common.add(idseq)
    kanji = _spellings(cursor, "SELECT idseq, text FROM Kanji ORDER BY ID")
    kana = _spellings(cursor, "SELECT idseq, text FROM Kana ORDER BY ID")
    misc: dict[int, set[str]] = defaultdict(set)
    for sid, text in cursor.execute("SELECT sid, text FROM misc"):
        misc[sid].add(text)
    senses: dict[int, list[int]] = defaultdict(list)
    for sid, idseq in cursor.execute("SELECT ID, idseq FROM Sense ORDER BY ID"):
        senses[idseq].append(sid)
    place = {sid: n for sids in senses.values() for n, sid in enumerate(sids)}
    stated: dict[int, set[str]] = defaultdict(set)
    for sid, text in cursor.execute("SELECT sid, text FROM pos"):
        stated[sid].add(text)
    nominal: set[int] = set()  # senses that are nouns (a sense without a part of speech has
    for sids in senses.values():  # the one before it)
        current: set[str] = set()
        for sid in sids:
            current = stated.get(sid) or current
            if current & set(NOUNS):
                nominal.add(sid)
    entry_of = {sid: idseq for idseq, sids in senses.items() for sid in sids}
    kana_usually = {entry_of[sid] for sid, notes in misc.items() if KANA_USUALLY in notes}

    ranked: dict[str, dict[int, tuple[int, int, int, int]]] = defaultdict(dict)
    gloss_place: dict[int, int] = defaultdict(int)
    for sid, text in cursor.execute(
        "SELECT sid, text FROM SenseGloss WHERE lang = 'eng' ORDER BY rowid"
    ):
        position = gloss_place[sid]
        gloss_place[sid] += 1
        idseq = entry_of.get(sid)
        if idseq is None or sid not in nominal or misc.get(sid, set()) & set(SKIPPED_MISC):
            continue
        key = english_key(text)
        if key is None or (" " in key and idseq not in common):
            continue
        rank = (0 if idseq in common else 1, place[sid], position, idseq)
        known = ranked[key].get(idseq)
        if known is None or rank < known:
            ranked[key][idseq] = rank
    connection.close()

    lexicon: dict[str, list[str]] = {}
    for key, entries in ranked.items():
        forms: list[str] = []
        for idseq, _rank in sorted(entries.items(), key=lambda item: item[1])[:per_key]:
            spelled = kanji.get(idseq, [])[:2]
            if (idseq in kana_usually or not spelled) and kana.get(idseq):
                spelled = [kana[idseq][0], *spelled]
            for form in spelled:
                if form not in forms and "\t" not in form:
                    forms.append(form)
        if forms:
            lexicon[key] = forms
    return lexicon


def write(lexicon: dict[str, list[str]], output: Path) -> None:
    text = io.StringIO()
    text.write(
        "# English -> Japanese headwords from JMdict (EDRDG, CC BY-SA 4.0), best first; "
        "built by scripts/build_en_ja_lexicon.py\n"
    )
    for key in sorted(lexicon):
        text.write(key + "\t" + "\t".join(lexicon[key]) + "\n")
    with output.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        packed.write(text.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="jamdict-data's jamdict.db")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--per-key", type=int, default=4, help="entries kept per English key")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"JMdict database not found / 見つかりません: {args.db}", file=sys.stderr)
        return 2
    lexicon = build(args.db, args.per_key)
    write(lexicon, args.output)
    size = args.output.stat().st_size
    print(f"{len(lexicon):,} English keys -> {args.output} ({size / 1024:,.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
