"""Validate the hand-written citizens' voice sets and print their label counts.

Usage (from the repository root):

    .venv/bin/python tests/data/voice/check_sets.py             # validate + counts
    .venv/bin/python tests/data/voice/check_sets.py --markdown  # counts as README tables

Checks, per file: every line is a JSON object with exactly the expected fields;
ids are unique, prefixed (``v`` dev, ``w`` holdout), numbered from 0001 and in file
order; ``created_at`` is ISO 8601 with +09:00, inside 2025-04-01 .. 2026-11-30 and
non-decreasing; ``source``, ``labels.sentiment`` and ``labels.topic`` are from the
fixed vocabularies; ``town`` is null or one of Mitaka's 町; ``text`` is a non-empty
string without surrounding whitespace and at most 400 characters; no two texts
are the same (after NFKC and whitespace normalization) within a file or across the
two files; the balance minimums of the README hold.  Exits non-zero if any file
has problems.  Not a pytest module (needs no fixtures, no database).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = {"dev": (HERE / "dev.jsonl", "v"), "holdout": (HERE / "holdout.jsonl", "w")}

FIELDS = {"id", "source", "created_at", "town", "text", "labels"}
SOURCES = ["opinion", "inquiry", "sns"]
SENTIMENTS = ["positive", "negative", "neutral"]
TOPICS = [
    "子育て・教育",
    "福祉・高齢者",
    "防災・安全",
    "交通・道路",
    "公園・緑・環境",
    "ごみ・リサイクル",
    "行政手続き・デジタル",
    "健康・医療",
    "文化・スポーツ・イベント",
    "住まい・まちづくり",
    "税・財政",
    "その他",
]
TOWNS = [
    "井口",
    "井の頭",
    "大沢",
    "上連雀",
    "北野",
    "下連雀",
    "新川",
    "中原",
    "野崎",
    "深大寺",
    "牟礼",
]
FIRST_DAY = date(2025, 4, 1)
LAST_DAY = date(2026, 11, 30)
MAX_CHARS = 400

# Balance: minimum texts per file and per topic; allowed share ranges (the targets
# are sentiment 35/30/35 % negative/positive/neutral, sources 40/25/35 %
# opinion/inquiry/sns, with some slack).
COVERAGE = {
    "dev": {"total": 650, "per_topic": 25},
    "holdout": {"total": 220, "per_topic": 8},
}
SHARES = {
    "sentiment": {"negative": (0.30, 0.40), "positive": (0.25, 0.35), "neutral": (0.30, 0.40)},
    "source": {"opinion": (0.35, 0.45), "inquiry": (0.20, 0.30), "sns": (0.30, 0.40)},
}


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path.name}:{n}: not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise SystemExit(f"{path.name}:{n}: not a JSON object")
            rows.append(row)
    return rows


def check(name: str, rows: list[dict], prefix: str, other_texts: dict[str, str]) -> list[str]:
    errors: list[str] = []
    seen_ids: set[str] = set()
    texts: dict[str, str] = {}
    last_time = None
    for n, r in enumerate(rows, 1):
        where = f"{name}:{n}"
        if set(r) != FIELDS:
            errors.append(f"{where}: fields {sorted(r)} (expected {sorted(FIELDS)})")
            continue
        rid = r["id"]
        if rid in seen_ids:
            errors.append(f"{where}: duplicate id {rid}")
        seen_ids.add(rid)
        if rid != f"{prefix}{n:04d}":
            errors.append(f"{where}: id {rid!r} out of sequence (expected {prefix}{n:04d})")
        try:
            t = datetime.fromisoformat(r["created_at"])
            off = t.utcoffset()
            if off is None or off.total_seconds() != 9 * 3600:
                errors.append(f"{where}: created_at not +09:00")
            elif not FIRST_DAY <= t.date() <= LAST_DAY:
                errors.append(f"{where}: created_at {t.date()} outside {FIRST_DAY}..{LAST_DAY}")
            elif last_time and t < last_time:
                errors.append(f"{where}: created_at goes backwards")
            else:
                last_time = t
        except (TypeError, ValueError):
            errors.append(f"{where}: bad created_at {r['created_at']!r}")
        if r["source"] not in SOURCES:
            errors.append(f"{where}: bad source {r['source']!r}")
        if r["town"] is not None and r["town"] not in TOWNS:
            errors.append(f"{where}: bad town {r['town']!r}")
        text = r["text"]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: empty text")
            continue
        if text != text.strip():
            errors.append(f"{where}: text has surrounding whitespace")
        if len(text) > MAX_CHARS:
            errors.append(f"{where}: text longer than {MAX_CHARS} characters")
        key = norm(text)
        if key in texts:
            errors.append(f"{where}: same text as {texts[key]}")
        elif key in other_texts:
            errors.append(f"{where}: same text as {other_texts[key]} in the other file")
        texts[key] = rid
        lab = r["labels"]
        if not isinstance(lab, dict) or set(lab) != {"sentiment", "topic"}:
            errors.append(f"{where}: label keys {sorted(lab) if isinstance(lab, dict) else lab!r}")
            continue
        if lab["sentiment"] not in SENTIMENTS:
            errors.append(f"{where}: bad sentiment {lab['sentiment']!r}")
        if lab["topic"] not in TOPICS:
            errors.append(f"{where}: bad topic {lab['topic']!r}")
    if errors:
        return errors
    cov = COVERAGE[name]
    if len(rows) < cov["total"]:
        errors.append(f"{name}: {len(rows)} texts, need at least {cov['total']}")
    topics = Counter(r["labels"]["topic"] for r in rows)
    for topic in TOPICS:
        if topics[topic] < cov["per_topic"]:
            errors.append(f"{name}: topic {topic} has {topics[topic]}, need {cov['per_topic']}")
    for field, ranges in SHARES.items():
        counts = Counter(r["labels"][field] if field == "sentiment" else r[field] for r in rows)
        for value, (lo, hi) in ranges.items():
            share = counts[value] / len(rows)
            if not lo <= share <= hi:
                errors.append(f"{name}: {field} {value} is {share:.1%}, allowed {lo:.0%}..{hi:.0%}")
    return errors


def tables(sets: dict[str, list[dict]], markdown: bool) -> str:
    names = list(sets)
    out: list[str] = []

    def table(title: str, keys: list[str], get) -> None:
        counts = {name: Counter(get(r) for r in rows) for name, rows in sets.items()}
        if markdown:
            out.append(f"| {title} | " + " | ".join(names) + " |")
            out.append("|---|" + "---:|" * len(names))
            for k in keys:
                out.append(f"| {k} | " + " | ".join(str(counts[n][k]) for n in names) + " |")
            out.append("| **total** | " + " | ".join(str(len(sets[n])) for n in names) + " |")
        else:
            out.append(f"{title:<26}" + "".join(f"{n:>9}" for n in names))
            for k in keys:
                out.append(f"  {k:<24}" + "".join(f"{counts[n][k]:>9}" for n in names))
        out.append("")

    def src_sent(r: dict) -> str:
        return f"{r['source']} / {r['labels']['sentiment']}"

    table("source", SOURCES, lambda r: r["source"])
    table("sentiment", SENTIMENTS, lambda r: r["labels"]["sentiment"])
    table("topic", TOPICS, lambda r: r["labels"]["topic"])
    table("source / sentiment", [f"{s} / {m}" for s in SOURCES for m in SENTIMENTS], src_sent)
    table("town", [*TOWNS, "(null)"], lambda r: r["town"] or "(null)")
    lengths = {n: sorted(len(r["text"]) for r in rows) for n, rows in sets.items()}
    if markdown:
        out.append("| text length (characters) | " + " | ".join(names) + " |")
        out.append("|---|" + "---:|" * len(names))
        for label, f in [
            ("min", lambda v: v[0]),
            ("median", lambda v: v[len(v) // 2]),
            ("max", lambda v: v[-1]),
        ]:
            out.append(f"| {label} | " + " | ".join(str(f(lengths[n])) for n in names) + " |")
    else:
        for n in names:
            v = lengths[n]
            out.append(f"{n}: text length min {v[0]}, median {v[len(v) // 2]}, max {v[-1]}")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    markdown = "--markdown" in argv
    sets: dict[str, list[dict]] = {}
    failed = False
    other: dict[str, str] = {}
    for name, (path, prefix) in FILES.items():
        rows = load(path)
        errors = check(name, rows, prefix, other)
        for r in rows:
            if isinstance(r.get("text"), str):
                other.setdefault(norm(r["text"]), f"{name}:{r.get('id')}")
        if errors:
            failed = True
            print(f"{path.name}: {len(errors)} problem(s)", file=sys.stderr)
            for e in errors[:50]:
                print("  " + e, file=sys.stderr)
        sets[name] = rows
    if failed:
        return 1
    if not markdown:
        print("OK: " + ", ".join(f"{n} {len(r)} texts" for n, r in sets.items()))
    print(tables(sets, markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
