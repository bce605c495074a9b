"""Quality of the FAQ chatbot on the labelled question sets: top-1 and top-3 accuracy on the
answerable questions, the share of unanswerable questions it declines, the share of answerable
questions it wrongly declines, and a breakdown by question style — for our engine and for plain
BM25 (the bm25s package over the same entries, words cut by our Sudachi tokenizer).

    .venv/bin/python benchmarks/chatbot_quality.py                  # the holdout set
    .venv/bin/python benchmarks/chatbot_quality.py --set dev --errors 20
    .venv/bin/python benchmarks/chatbot_quality.py --set other      # an FAQ the engine never saw

Sets (tests/data/chatbot/, see its README): ``dev`` is what the engine is tuned on; ``holdout``
was written apart and is never tuned on; ``other`` asks a second city's FAQ (Shift_JIS, other
columns, other wording) imported through the same reader — it says whether the engine works on
an FAQ nobody tuned it for. Only the holdout and other figures say how the chatbot generalizes.

How it counts:
- a hit at k: the labelled entry or one of its ``alt`` entries is among the first k ranked
  (``FaqIndex.ask_ranked``), whether or not the engine would answer;
- "answered right": ``FaqIndex.ask`` answers, with a labelled entry (what a resident sees);
- declined: ``ask(...).answered`` is false, or the question is only a greeting or thanks
  (「こんにちは」), which ``cityos chatbot ask`` and the API answer with the greeting reply,
  ``answered: false`` (``service.public_fields``). Plain BM25 has no notion of declining, so it
  declines when its best score is below a threshold, chosen on the dev set (with the demo FAQ)
  to maximize answerable-right-at-top-1-and-answered plus unanswerable-declined; the same
  threshold is used for every set, as a city would.

BM25 indexes each entry's question and answer together (BM25Okapi, k1=1.5, b=0.75: bm25s's
defaults), tokens are Sudachi surface forms lower-cased, symbols and spaces dropped; questions
are tokenized the same way. No synonyms, no translation: it is the plain peer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "chatbot"
DEMO_FAQ = ROOT / "src" / "cityos" / "chatbot" / "data" / "demo_faq.csv"
SETS: dict[str, tuple[Path, Path]] = {
    "dev": (DATA / "dev.jsonl", DEMO_FAQ),
    "holdout": (DATA / "holdout.jsonl", DEMO_FAQ),
    "other": (DATA / "other_city_questions.jsonl", DATA / "other_city_faq.csv"),
}
STYLES = (
    "colloquial",
    "short",
    "kana",
    "typo",
    "synonym",
    "polite",
    "english",
    "chinese",
    "korean",
)
SKIPPED_POS = {"補助記号", "空白"}


@dataclass
class Result:
    """What one system did with one question."""

    ranked: list[str]  # faq ids, best first (up to 3)
    answered: bool
    answer_id: str | None


@dataclass
class Question:
    text: str
    faq_id: str | None
    alt: list[str]
    style: str
    lang: str

    @property
    def accepted(self) -> set[str]:
        return {self.faq_id, *self.alt} if self.faq_id else set()


def read_questions(path: Path) -> list[Question]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append(
                Question(
                    row["question"], row["faq_id"], row.get("alt", []), row["style"], row["lang"]
                )
            )
    return rows


def read_entries(path: Path) -> list[Any]:
    from cityos.chatbot.service import read_faq_csv

    imported = read_faq_csv(path)
    if imported.problems:
        print(f"  ({path.name}: {len(imported.problems)} rows skipped by the reader)")
    return list(imported.entries)


# --- the two systems ------------------------------------------------------------------------


def ours(entries: list[Any]) -> Callable[[str], Result]:
    from cityos.chatbot.service import FaqIndex, greeting_of

    index = FaqIndex.build(entries)

    def run(question: str) -> Result:
        ranked = [faq_id for faq_id, _score in index.ask_ranked(question, 3)]
        if greeting_of(question) is not None:
            # As `cityos chatbot ask` does: a greeting gets the greeting reply, which is not an
            # answer from the FAQ (answered false, no faq_id).
            return Result(ranked, False, None)
        answer = index.ask(question)
        return Result(ranked, bool(answer.answered), answer.faq_id if answer.answered else None)

    return run


def bm25_tokens(text: str) -> list[str]:
    from cityos.core import tokens

    return [
        w.surface.lower()
        for w in tokens.words(text)
        if w.pos not in SKIPPED_POS and w.surface.strip()
    ]


class Bm25:
    """Plain BM25 over question + answer of each entry; scores for every entry."""

    def __init__(self, entries: list[Any]) -> None:
        import bm25s

        self.ids = [entry.faq_id for entry in entries]
        corpus = [bm25_tokens(f"{entry.question} {entry.answer}") for entry in entries]
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)
        self.vocabulary = set(self.retriever.vocab_dict)

    def scored(self, question: str) -> list[tuple[str, float]]:
        known = [t for t in bm25_tokens(question) if t in self.vocabulary]
        if not known:
            return []
        scores = self.retriever.get_scores(known)
        order = sorted(range(len(self.ids)), key=lambda i: -float(scores[i]))
        return [(self.ids[i], float(scores[i])) for i in order[:3] if scores[i] > 0]


def bm25_system(model: Bm25, threshold: float) -> Callable[[str], Result]:
    def run(question: str) -> Result:
        ranked = model.scored(question)
        answered = bool(ranked) and ranked[0][1] >= threshold
        return Result([i for i, _ in ranked], answered, ranked[0][0] if answered else None)

    return run


def choose_threshold(model: Bm25, questions: list[Question]) -> tuple[float, float]:
    """The threshold that handles the most dev questions right, and that share."""
    scored = [(q, model.scored(q.text)) for q in questions]
    candidates = sorted({0.0, *(r[0][1] for _q, r in scored if r)})
    best = (0.0, -1.0)
    for low in candidates:
        # Halfway to the next candidate would change nothing on dev; the candidate itself is
        # the lowest top score that still answers.
        right = 0
        for question, ranked in scored:
            answered = bool(ranked) and ranked[0][1] >= low
            if question.faq_id is None:
                right += not answered
            else:
                right += answered and ranked[0][0] in question.accepted
        share = right / len(scored)
        if share > best[1]:
            best = (low, share)
    return best


# --- the figures ----------------------------------------------------------------------------


@dataclass
class Figures:
    top1: float
    top3: float
    answered_right: float
    declined_unanswerable: float
    declined_answerable: float
    answerable: int
    unanswerable: int


def figures(questions: Sequence[Question], results: Sequence[Result]) -> Figures:
    answerable = [(q, r) for q, r in zip(questions, results, strict=True) if q.faq_id]
    unanswerable = [r for q, r in zip(questions, results, strict=True) if not q.faq_id]

    def share(count: int, total: int) -> float:
        return count / total if total else float("nan")

    return Figures(
        top1=share(
            sum(bool(r.ranked) and r.ranked[0] in q.accepted for q, r in answerable),
            len(answerable),
        ),
        top3=share(
            sum(bool(q.accepted & set(r.ranked[:3])) for q, r in answerable), len(answerable)
        ),
        answered_right=share(
            sum(r.answer_id in q.accepted for q, r in answerable), len(answerable)
        ),
        declined_unanswerable=share(sum(not r.answered for r in unanswerable), len(unanswerable)),
        declined_answerable=share(sum(not r.answered for _q, r in answerable), len(answerable)),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
    )


def pct(value: float) -> str:
    return "   —  " if value != value else f"{value * 100:5.1f}%"


def report(
    name: str, questions: list[Question], results: dict[str, list[Result]], errors: int
) -> list[str]:
    lines = [
        f"  {'system':<8} {'top-1':>7} {'top-3':>7} {'answered right':>15}"
        f" {'declined (unanswerable)':>24} {'wrongly declined':>17}"
    ]
    for system, got in results.items():
        f = figures(questions, got)
        lines.append(
            f"  {system:<8} {pct(f.top1):>7} {pct(f.top3):>7} {pct(f.answered_right):>15}"
            f" {pct(f.declined_unanswerable):>24} {pct(f.declined_answerable):>17}"
        )
    lines.append("")
    lines.append("  by style (top-1 on answerable / declined on unanswerable):")
    systems = list(results)
    header = f"    {'style':<11} {'n':>4} " + " ".join(f"{s + ' top-1':>12}" for s in systems)
    header += f"  {'n':>3} " + " ".join(f"{s + ' decl.':>12}" for s in systems)
    lines.append(header)
    by_style: dict[str, list[int]] = defaultdict(list)
    for position, question in enumerate(questions):
        by_style[question.style].append(position)
    for style in [s for s in STYLES if s in by_style] + sorted(set(by_style) - set(STYLES)):
        chosen = by_style[style]
        per = {
            s: figures([questions[i] for i in chosen], [results[s][i] for i in chosen])
            for s in systems
        }
        first = per[systems[0]]
        row = f"    {style:<11} {first.answerable:>4} "
        row += " ".join(f"{pct(per[s].top1):>12}" for s in systems)
        row += f"  {first.unanswerable:>3} "
        row += " ".join(f"{pct(per[s].declined_unanswerable):>12}" for s in systems)
        lines.append(row)
    if errors:
        got = results[systems[0]]
        wrong = [
            (q, r)
            for q, r in zip(questions, got, strict=True)
            if (q.faq_id and r.answer_id not in q.accepted) or (not q.faq_id and r.answered)
        ]
        lines.append("")
        lines.append(f"  {systems[0]}: {len(wrong)} questions handled wrongly; the first {errors}:")
        for q, r in wrong[:errors]:
            said = r.answer_id if r.answered else "declined"
            lines.append(
                f"    [{q.style}] {q.text[:60]!r}: labelled {q.faq_id or 'none'},"
                f" said {said}, ranked {r.ranked}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="holdout")
    parser.add_argument("--errors", type=int, default=0, help="list this many of our mistakes")
    args = parser.parse_args(argv)

    questions_path, faq_path = SETS[args.set]
    questions = read_questions(questions_path)
    entries = read_entries(faq_path)
    print(
        f"== {questions_path.relative_to(ROOT)} against {faq_path.relative_to(ROOT)}:"
        f" {len(questions)} questions, {len(entries)} FAQ entries"
    )
    if args.set == "dev":
        print("  (the engine is tuned on this set, and BM25's threshold is chosen on it)")

    started = time.perf_counter()
    engine = ours(entries)
    built = time.perf_counter() - started
    started = time.perf_counter()
    our_results = [engine(q.text) for q in questions]
    asked = time.perf_counter() - started

    dev_questions = read_questions(SETS["dev"][0])
    model = Bm25(entries)
    dev_model = model if faq_path == DEMO_FAQ else Bm25(read_entries(DEMO_FAQ))
    threshold, dev_share = choose_threshold(dev_model, dev_questions)
    peer = bm25_system(model, threshold)
    peer_results = [peer(q.text) for q in questions]

    for line in report(
        args.set, questions, {"ours": our_results, "bm25": peer_results}, args.errors
    ):
        print(line)
    print("")
    print(
        f"  BM25 declines below a top score of {threshold:.3f} (chosen on dev: handles"
        f" {dev_share * 100:.1f}% of the dev questions right)"
    )
    print(
        f"  ours: index built in {built * 1000:.0f} ms, {asked / len(questions) * 1000:.1f} ms a"
        " question (ask_ranked + ask, one process, Sudachi loaded)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
