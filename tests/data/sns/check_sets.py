"""Validate the hand-written SNS triage sets and print their label counts.

Usage (from the repository root):

    .venv/bin/python tests/data/sns/check_sets.py             # validate + counts
    .venv/bin/python tests/data/sns/check_sets.py --markdown  # counts as README tables

Checks, per file: every line is a JSON object with the expected fields; ids are
unique, prefixed (``d`` dev, ``h`` holdout) and in file order; ``created_at`` is
ISO 8601 with +09:00 on one of the two scenario days and non-decreasing; label
values are from the fixed vocabularies; ``town`` is null or a Mitaka 町 (optionally
with a 丁目 in kanji inside that 町's range); ``retweet_of`` / ``quote_of`` point to
earlier ids in the same file; retweets start with ``RT @<original user>:`` and copy
the original's labels; no two non-retweet posts share a text (within a file and
across the two files); the coverage minimums of the README hold.  Exits non-zero
on the first file with problems.  Not a pytest module (needs no fixtures).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = {"dev": (HERE / "dev.jsonl", "d"), "holdout": (HERE / "holdout.jsonl", "h")}

CATEGORIES = [
    "rescue_request",
    "damage_report",
    "infrastructure",
    "shelter_evacuation",
    "supplies_need",
    "info_request",
    "caution_advice",
    "not_relevant",
]
URGENCIES = ["high", "medium", "low"]
HAZARDS = ["flood", "earthquake", "fire", "landslide", "storm", "other", "none"]
# Mitaka's 町 and the number of 丁目 each has.
CHOME = {
    "井口": 5,
    "井の頭": 5,
    "大沢": 6,
    "上連雀": 9,
    "北野": 4,
    "下連雀": 9,
    "新川": 6,
    "深大寺": 3,
    "中原": 4,
    "野崎": 4,
    "牟礼": 7,
}
KANJI_DIGITS = "一二三四五六七八九"
SCENARIO_DAYS = {"2026-09-14", "2026-11-03"}

# Minimum coverage per file: total posts, per-category minimum, special minimums,
# minimum share of English posts.
COVERAGE = {
    "dev": {
        "total": 640,
        "per_category": 60,
        "special": {"rescue_request": 90, "not_relevant": 100},
        "english": 0.15,
    },
    "holdout": {
        "total": 220,
        "per_category": 20,
        "special": {"rescue_request": 30, "not_relevant": 35},
        "english": 0.15,
    },
}


def valid_town(town: str | None) -> bool:
    if town is None:
        return True
    if town in CHOME:
        return True
    m = re.fullmatch(r"(.+?)([一二三四五六七八九])丁目", town)
    return (
        bool(m) and m.group(1) in CHOME and KANJI_DIGITS.index(m.group(2)) + 1 <= CHOME[m.group(1)]
    )


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path.name}:{n}: not JSON: {exc}") from None
    return rows


def check(name: str, rows: list[dict], prefix: str, other_texts: set[str]) -> list[str]:
    errors: list[str] = []
    seen: dict[str, dict] = {}
    texts: set[str] = set()
    last_time = None
    for n, r in enumerate(rows, 1):
        where = f"{name}:{n}"
        missing = {"id", "text", "created_at", "user", "lang", "labels"} - r.keys()
        if missing:
            errors.append(f"{where}: missing {sorted(missing)}")
            continue
        rid = r["id"]
        if rid in seen:
            errors.append(f"{where}: duplicate id {rid}")
        if rid != f"{prefix}{n:04d}":
            errors.append(f"{where}: id {rid} out of sequence")
        try:
            t = datetime.fromisoformat(r["created_at"])
            if t.utcoffset() is None or t.utcoffset().total_seconds() != 9 * 3600:
                errors.append(f"{where}: created_at not +09:00")
            if t.date().isoformat() not in SCENARIO_DAYS:
                errors.append(f"{where}: created_at outside the scenario days")
            if last_time and t < last_time:
                errors.append(f"{where}: created_at goes backwards")
            last_time = t
        except ValueError:
            errors.append(f"{where}: bad created_at {r['created_at']!r}")
        if r["lang"] not in ("ja", "en"):
            errors.append(f"{where}: bad lang {r['lang']!r}")
        lab = r["labels"]
        if set(lab) != {"category", "urgency", "hazard", "town"}:
            errors.append(f"{where}: label keys {sorted(lab)}")
            continue
        if lab["category"] not in CATEGORIES:
            errors.append(f"{where}: bad category {lab['category']!r}")
        if lab["urgency"] not in URGENCIES:
            errors.append(f"{where}: bad urgency {lab['urgency']!r}")
        if lab["hazard"] not in HAZARDS:
            errors.append(f"{where}: bad hazard {lab['hazard']!r}")
        if not valid_town(lab["town"]):
            errors.append(f"{where}: bad town {lab['town']!r}")
        if "geo" in r and not (isinstance(r["geo"], dict) and set(r["geo"]) == {"lat", "lon"}):
            errors.append(f"{where}: bad geo")
        for key in ("retweet_of", "quote_of"):
            if key in r and r[key] not in seen:
                errors.append(f"{where}: {key} {r[key]} is not an earlier id")
        if "retweet_of" in r and r["retweet_of"] in seen:
            orig = seen[r["retweet_of"]]
            if r["text"] != f"RT @{orig['user']}: {orig['text']}":
                errors.append(f"{where}: retweet text does not match {orig['id']}")
            if r["labels"] != orig["labels"]:
                errors.append(f"{where}: retweet labels differ from {orig['id']}")
        elif r["text"].startswith("RT @"):
            errors.append(f"{where}: RT text without retweet_of")
        else:
            if r["text"] in texts:
                errors.append(f"{where}: duplicate text {r['text'][:30]!r}")
            if r["text"] in other_texts:
                errors.append(f"{where}: text also in the other file {r['text'][:30]!r}")
            texts.add(r["text"])
        seen[rid] = r

    cov = COVERAGE[name]
    cats = Counter(r["labels"]["category"] for r in rows)
    if len(rows) < cov["total"]:
        errors.append(f"{name}: {len(rows)} posts < {cov['total']}")
    for c in CATEGORIES:
        need = cov["special"].get(c, cov["per_category"])
        if cats[c] < need:
            errors.append(f"{name}: {c} has {cats[c]} < {need}")
    en = sum(r["lang"] == "en" for r in rows) / max(len(rows), 1)
    if en < cov["english"]:
        errors.append(f"{name}: English share {en:.0%} < {cov['english']:.0%}")
    return errors


def counts(rows: list[dict]) -> dict[str, Counter]:
    return {
        "category": Counter(r["labels"]["category"] for r in rows),
        "urgency": Counter(r["labels"]["urgency"] for r in rows),
        "hazard": Counter(r["labels"]["hazard"] for r in rows),
        "town": Counter("null" if r["labels"]["town"] is None else "Mitaka 町" for r in rows),
        "lang": Counter(r["lang"] for r in rows),
        "extras": Counter(k for r in rows for k in ("retweet_of", "quote_of", "geo") if k in r),
    }


ORDER = {
    "category": CATEGORIES,
    "urgency": URGENCIES,
    "hazard": HAZARDS,
    "town": ["Mitaka 町", "null"],
    "lang": ["ja", "en"],
    "extras": ["retweet_of", "quote_of", "geo"],
}


def main() -> int:
    markdown = "--markdown" in sys.argv
    loaded = {name: load(path) for name, (path, _) in FILES.items()}
    failed = False
    for name, (_path, prefix) in FILES.items():
        other = {
            r["text"] for o, rs in loaded.items() if o != name for r in rs if "retweet_of" not in r
        }
        errors = check(name, loaded[name], prefix, other)
        for e in errors:
            print("ERROR", e)
        failed |= bool(errors)
    for name, rows in loaded.items():
        c = counts(rows)
        towns = Counter(
            re.sub(r"[一二三四五六七八九]丁目$", "", r["labels"]["town"])
            for r in rows
            if r["labels"]["town"]
        )
        if markdown:
            print(f"\n### {name} ({len(rows)} posts)\n")
            for field, order in ORDER.items():
                print(f"| {field} | " + " | ".join(order) + " |")
                print("|---|" + "---:|" * len(order))
                print("| count | " + " | ".join(str(c[field][k]) for k in order) + " |\n")
            print("| category × urgency | " + " | ".join(URGENCIES) + " |")
            print("|---|" + "---:|" * len(URGENCIES))
            for cat in CATEGORIES:
                cells = [
                    sum(
                        1
                        for r in rows
                        if r["labels"]["category"] == cat and r["labels"]["urgency"] == u
                    )
                    for u in URGENCIES
                ]
                print(f"| {cat} | " + " | ".join(map(str, cells)) + " |")
            print()
            print("| 町 (丁目 folded) | " + " | ".join(CHOME) + " |")
            print("|---|" + "---:|" * len(CHOME))
            print("| count | " + " | ".join(str(towns[k]) for k in CHOME) + " |")
        else:
            print(f"\n{name}: {len(rows)} posts")
            for field, order in ORDER.items():
                print(f"  {field:9s} " + "  ".join(f"{k}={c[field][k]}" for k in order))
            print("  towns     " + "  ".join(f"{k}={towns[k]}" for k in CHOME))
    if failed:
        print("\nFAILED")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
