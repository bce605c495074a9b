"""The chatbot's data files are well-formed: the demo FAQ, the labelled question sets and the
second city's Shift_JIS FAQ (see tests/data/chatbot/README.md)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest

from cityos.chatbot.engine import greeting_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "chatbot"
DEMO_FAQ = ROOT / "src" / "cityos" / "chatbot" / "data" / "demo_faq.csv"
OTHER_FAQ = DATA / "other_city_faq.csv"
DEMO_HEADER = ["ID", "質問", "回答", "カテゴリ", "担当課", "URL", "更新日"]
OTHER_HEADER = ["No", "問い", "答え", "分類", "担当部署", "更新日"]
STYLES = {
    "colloquial",
    "short",
    "kana",
    "english",
    "typo",
    "synonym",
    "chinese",
    "korean",
    "polite",
}
LANGS = {"ja", "en", "zh", "ko"}
# set name -> (FAQ file, minimum answerable, minimum unanswerable)
SETS = {
    "dev.jsonl": (DEMO_FAQ, 200, 40),
    "holdout.jsonl": (DEMO_FAQ, 320, 60),
    "other_city_questions.jsonl": (OTHER_FAQ, 100, 25),
}
_NOT_WORD = re.compile(r"[\W_]+")


def key(text: str) -> str:
    """NFKC, lower case, without spaces and punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def demo_rows() -> list[dict[str, str]]:
    raw = DEMO_FAQ.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the demo FAQ is UTF-8 with a BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def other_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(OTHER_FAQ.read_bytes().decode("cp932"))))


def faq_ids_and_questions(faq: Path) -> dict[str, str]:
    if faq == DEMO_FAQ:
        return {row["ID"]: row["質問"] for row in demo_rows()}
    return {row["No"]: row["問い"] for row in other_rows()}


def questions(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_demo_faq_has_the_municipal_header_unique_ids_and_full_rows() -> None:
    raw = DEMO_FAQ.read_bytes().decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(raw))) == DEMO_HEADER
    rows = demo_rows()
    assert len(rows) >= 170
    ids = [row["ID"] for row in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"FAQ-\d{4}", i) for i in ids)
    for row in rows:
        assert all(row[column].strip() for column in DEMO_HEADER), row["ID"]
        assert row["URL"].startswith("https://www.city.mitaka.lg.jp/"), row["ID"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["更新日"]), row["ID"]
    assert len({key(row["質問"]) for row in rows}) == len(rows), "two FAQ questions are the same"


def test_other_city_faq_is_shift_jis_with_its_own_columns() -> None:
    raw = OTHER_FAQ.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp932")
    assert next(csv.reader(io.StringIO(text))) == OTHER_HEADER
    rows = other_rows()
    assert len(rows) >= 60
    numbers = [row["No"] for row in rows]
    assert len(set(numbers)) == len(numbers)
    for row in rows:
        assert all(row[column].strip() for column in OTHER_HEADER), row["No"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_question_set_is_well_formed_and_labelled_with_existing_entries(name: str) -> None:
    faq, least_answerable, least_unanswerable = SETS[name]
    known = faq_ids_and_questions(faq)
    rows = questions(name)
    for row in rows:
        assert set(row) <= {"question", "faq_id", "alt", "style", "lang"}, row
        assert row["question"].strip(), row
        assert row["style"] in STYLES, row
        assert row["lang"] in LANGS, row
        assert row["faq_id"] is None or row["faq_id"] in known, row
        for other in row.get("alt", []):
            assert row["faq_id"] is not None, row
            assert other in known, row
            assert other != row["faq_id"], row
    answerable = sum(row["faq_id"] is not None for row in rows)
    assert answerable >= least_answerable
    assert len(rows) - answerable >= least_unanswerable
    assert len({key(row["question"]) for row in rows}) == len(rows), "a question is repeated"


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_question_copies_an_faq_question(name: str) -> None:
    faq_questions = [key(q) for q in faq_ids_and_questions(SETS[name][0]).values()]
    for row in questions(name):
        asked = key(row["question"])
        for written in faq_questions:
            assert asked != written, row["question"]
            assert SequenceMatcher(None, asked, written).ratio() < 0.9, row["question"]


def test_dev_and_holdout_share_no_question() -> None:
    dev = {key(row["question"]) for row in questions("dev.jsonl")}
    shared = [row["question"] for row in questions("holdout.jsonl") if key(row["question"]) in dev]
    assert shared == []


def test_sets_are_varied() -> None:
    """About a fifth in English, some Chinese and Korean, and every style used."""
    for name in ("dev.jsonl", "holdout.jsonl"):
        rows = questions(name)
        english = sum(row["lang"] == "en" for row in rows) / len(rows)
        assert 0.15 <= english <= 0.35, name
        assert {row["lang"] for row in rows} == LANGS, name
        assert {row["style"] for row in rows} == STYLES, name


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_answerable_question_is_taken_for_a_greeting(name: str) -> None:
    """Greetings get their own reply before the FAQ is searched: none of the labelled questions
    the FAQ answers may be one; the greetings in the sets are unanswerable chit-chat."""
    for row in questions(name):
        if greeting_of(row["question"]) is not None:
            assert row["faq_id"] is None, row
