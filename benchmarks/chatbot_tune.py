"""How the FAQ engine's ranking mix and its confidence were chosen: on the dev set only.

    .venv/bin/python benchmarks/chatbot_tune.py            # 5-fold cross-validated figures
    .venv/bin/python benchmarks/chatbot_tune.py --fit      # the confidence weights to paste
    .venv/bin/python benchmarks/chatbot_tune.py --dense    # the meaning channel's weight

It reads ``tests/data/chatbot/dev.jsonl`` against the demo FAQ (never the holdout or the other
city's set), scores every question in each channel once, and then

* for each candidate channel mix, measures top-1 on the answerable questions, choosing the mix
  in each fold on the other four folds (so the figure is what a new question would see);
* fits the confidence (a logistic model over :func:`cityos.chatbot.engine.confidence_features`)
  on four folds and measures on the fifth: answerable questions answered right plus
  unanswerable ones declined, at the threshold that maximizes that on the training folds;
* prints the trade-off between answering and declining as the threshold moves.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chatbot_quality import SETS, read_entries, read_questions

FOLDS = 5


def _channel_data(index: Any, questions: list[Any]) -> list[dict[str, Any]]:
    from cityos.chatbot import engine

    rows = []
    for q in questions:
        words, chars, analysed, translated, unknown = index._query_terms(q.text)
        per: dict[str, tuple[np.ndarray[Any, Any], float]] = {}
        for name in engine.CHANNELS:
            out = np.zeros(len(index.entries), dtype=np.float32)
            terms = words if name.startswith("word") else chars
            reach = index.channels[name].score(terms, out, 1.0)
            per[name] = (out, reach)
        rows.append(
            {
                "q": q,
                "per": per,
                "meaning": index.meaning_scores(words),
                "analysed": analysed,
                "translated": translated,
                "unknown": unknown,
                "ids": [index.entries[i].faq_id for i in range(len(index.entries))],
            }
        )
    return rows


def _mixed(row: dict[str, Any], mix: dict[str, float]) -> tuple[np.ndarray[Any, Any], float]:
    from cityos.chatbot import engine

    mix = engine.length_mix(engine.question_length(row["analysed"]), mix)
    scores = sum(row["per"][n][0] * w for n, w in mix.items())
    reach = float(sum(row["per"][n][1] * w for n, w in mix.items()))
    return engine.with_meaning(np.asarray(scores), reach, row["meaning"]), reach


def _ranked(row: dict[str, Any], mix: dict[str, float]) -> list[str]:
    scores, _reach = _mixed(row, mix)
    order = np.argsort(-scores, kind="stable")[:3]
    return [row["ids"][i] for i in order if scores[i] > 0]


def _mixes() -> list[dict[str, float]]:
    found = []
    for wq, wa, cq, ca, qa in itertools.product(
        (0.3, 0.45, 0.6), (0.05, 0.15, 0.25), (0.2, 0.3, 0.4), (0.0, 0.1), (0.0, 0.15, 0.3, 0.45)
    ):
        total = wq + wa + cq + ca + qa
        found.append(
            {
                "word_q": wq / total,
                "word_a": wa / total,
                "char_q": cq / total,
                "char_a": ca / total,
                "word_qa": qa / total,
            }
        )
    return found


def _top1(rows: list[dict[str, Any]], mix: dict[str, float]) -> float:
    answerable = [r for r in rows if r["q"].faq_id]
    hits = sum(1 for r in answerable if (_ranked(r, mix)[:1] or [None])[0] in r["q"].accepted)
    return hits / max(1, len(answerable))


def _top3(rows: list[dict[str, Any]], mix: dict[str, float]) -> float:
    answerable = [r for r in rows if r["q"].faq_id]
    hits = sum(1 for r in answerable if set(_ranked(r, mix)) & set(r["q"].accepted))
    return hits / max(1, len(answerable))


def _cross_validate_dense(
    rows: list[dict[str, Any]], parts: list[np.ndarray[Any, Any]], mix: dict[str, float]
) -> None:
    """Choose DENSE_WEIGHT (by top-1 plus top-3) on four folds, measure on the fifth."""
    from cityos.chatbot import engine

    saved = engine.DENSE_WEIGHT
    grid = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)

    def figures(subset: list[dict[str, Any]], weight: float) -> tuple[float, float]:
        engine.DENSE_WEIGHT = weight
        return _top1(subset, mix), _top3(subset, mix)

    for weight in grid:
        one, three = figures(rows, weight)
        print(f"  DENSE_WEIGHT={weight}: top-1 {one:.3f}, top-3 {three:.3f}")
    one_sum = three_sum = 0.0
    for k in range(FOLDS):
        train = [rows[i] for j, p in enumerate(parts) if j != k for i in p]
        test = [rows[i] for i in parts[k]]
        chosen = max(grid, key=lambda w: sum(figures(train, w)))
        one, three = figures(test, chosen)
        answerable = sum(1 for r in test if r["q"].faq_id)
        one_sum += one * answerable
        three_sum += three * answerable
        print(f"  fold {k}: chose DENSE_WEIGHT={chosen}")
    total = sum(1 for r in rows if r["q"].faq_id)
    print(f"cross-validated: top-1 {one_sum / total:.3f}, top-3 {three_sum / total:.3f}")
    engine.DENSE_WEIGHT = saved


def folds(n: int) -> list[np.ndarray[Any, Any]]:
    order = np.random.default_rng(8).permutation(n)
    return [order[i::FOLDS] for i in range(FOLDS)]


def _features(index: Any, row: dict[str, Any], mix: dict[str, float]) -> np.ndarray[Any, Any]:
    from cityos.chatbot import engine

    scores, reach = _mixed(row, mix)
    per = {n: row["per"][n] for n in engine.CHANNELS}
    return engine.confidence_features(
        index, scores.astype(np.float32), reach, per, row["analysed"], row["unknown"],
        row["translated"], row["meaning"],
    )  # fmt: skip


def _fit(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], l2: float = 1.0) -> np.ndarray[Any, Any]:
    """Logistic regression by Newton's method; the last weight is the bias."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _logit(x: np.ndarray[Any, Any], w: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(x @ w[:-1] + w[-1])


def _best_cut(
    z: np.ndarray[Any, Any], right: np.ndarray[Any, Any], unans: np.ndarray[Any, Any]
) -> float:
    """The logit cut maximizing the share of answerable questions answered right plus the
    share of unanswerable ones declined (shares, not counts: dev has seven times more
    answerable questions, and a resident told a wrong answer is worse off than one told to
    call the city)."""
    best, best_cut = -1.0, 0.0
    n_right = max(1, int(np.sum(~unans)))
    n_unans = max(1, int(np.sum(unans)))
    for cut in np.unique(np.concatenate([z, [z.min() - 1, z.max() + 1]])):
        answered = z >= cut
        value = (
            float(np.sum(answered & right)) / n_right + float(np.sum(~answered & unans)) / n_unans
        )
        if value > best:
            best, best_cut = value, float(cut)
    return best_cut


def _cross_validate_long(
    rows: list[dict[str, Any]], parts: list[np.ndarray[Any, Any]], mix: dict[str, float]
) -> None:
    """Choose LONG_START, LONG_SPAN and LONG_SHIFT on four folds, measure on the fifth."""
    from cityos.chatbot import engine

    grid = list(itertools.product((3, 4, 5, 6, 7), (4, 8), (0.0, 0.3, 0.6, 0.9)))
    saved = engine.LONG_START, engine.LONG_SPAN, engine.LONG_SHIFT

    def top1(subset: list[dict[str, Any]], point: tuple[int, int, float]) -> float:
        engine.LONG_START, engine.LONG_SPAN, engine.LONG_SHIFT = point
        return _top1(subset, mix)

    got = 0.0
    for k in range(FOLDS):
        train = [rows[i] for j, p in enumerate(parts) if j != k for i in p]
        test = [rows[i] for i in parts[k]]
        # Ties go to the smaller shift (the grid's order), so no evidence means no change.
        chosen = max(grid, key=lambda point: (top1(train, point), -point[2]))
        got += top1(test, chosen) * len(test)
        print(f"  fold {k}: chose start, span, shift = {chosen}")
    print(f"cross-validated top-1 of choosing the long-question shift: {got / len(rows):.3f}")
    best = max(grid, key=lambda point: (top1(rows, point), -point[2]))
    print(f"best on all of dev: {best}, top-1 {top1(rows, best):.3f}")
    engine.LONG_START, engine.LONG_SPAN, engine.LONG_SHIFT = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit on all of dev and print weights")
    parser.add_argument("--mixes", action="store_true", help="cross-validate the channel mix")
    parser.add_argument(
        "--long", action="store_true", help="cross-validate the shift of weight on long questions"
    )
    parser.add_argument(
        "--dense", action="store_true", help="cross-validate the meaning channel's weight"
    )
    parser.add_argument(
        "--try",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an engine constant first (e.g. PART_WEIGHT=0.3), to compare",
    )
    args = parser.parse_args()

    from cityos.chatbot import engine

    for override in args.overrides:
        name, value = override.split("=", 1)
        setattr(engine, name, ast.literal_eval(value))
    from cityos.chatbot.service import FaqIndex

    questions_path, faq_path = SETS["dev"]
    questions = read_questions(questions_path)
    index = FaqIndex.build(read_entries(faq_path))
    rows = _channel_data(index, questions)
    parts = folds(len(rows))
    mix = engine.MIX
    print(f"current mix {mix}: top-1 {_top1(rows, mix):.3f}")

    if args.mixes:
        candidates = _mixes()
        scores = []
        for k in range(FOLDS):
            train = [rows[i] for j, p in enumerate(parts) if j != k for i in p]
            test = [rows[i] for i in parts[k]]
            chosen = max(candidates, key=lambda m: _top1(train, m))
            scores.append(_top1(test, chosen) * len(test))
            print(f"  fold {k}: chose { ({n: round(v, 3) for n, v in chosen.items()}) }")
        print(f"cross-validated top-1 of choosing the mix: {sum(scores) / len(rows):.3f}")
        best = max(candidates, key=lambda m: _top1(rows, m))
        print(f"best on all of dev: {({n: round(v, 3) for n, v in best.items()})} "
              f"top-1 {_top1(rows, best):.3f}")  # fmt: skip

    if args.long:
        _cross_validate_long(rows, parts, mix)

    if args.dense:
        _cross_validate_dense(rows, parts, mix)

    x = np.array([_features(index, r, mix) for r in rows])
    ranked = [_ranked(r, mix) for r in rows]
    right = np.array(
        [
            bool(r["q"].faq_id) and bool(rk) and rk[0] in r["q"].accepted
            for r, rk in zip(rows, ranked, strict=True)
        ]
    )
    unans = np.array([not r["q"].faq_id for r in rows])
    n_ans = int((~unans).sum())
    # baseline: the engine's own confidence as it is now
    conf = np.array([index.ask(r["q"].text).confidence for r in rows])
    answered = conf >= index.threshold
    print(
        f"current confidence: answered right {np.sum(answered & right) / n_ans:.3f}, "
        f"declined {np.sum(~answered & unans) / unans.sum():.3f}, "
        f"wrongly declined {np.sum(~answered & ~unans) / n_ans:.3f}"
    )
    got_right = got_declined = got_wrong_decl = 0
    for k in range(FOLDS):
        test = parts[k]
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        w = _fit(x[train], right[train].astype(float))
        cut = _best_cut(_logit(x[train], w), right[train], unans[train])
        z = _logit(x[test], w)
        a = z >= cut
        got_right += int(np.sum(a & right[test]))
        got_declined += int(np.sum(~a & unans[test]))
        got_wrong_decl += int(np.sum(~a & ~unans[test]))
    print(
        f"fitted confidence (5-fold): answered right {got_right / n_ans:.3f}, "
        f"declined {got_declined / unans.sum():.3f}, wrongly declined {got_wrong_decl / n_ans:.3f}"
    )
    if args.fit:
        w = _fit(x, right.astype(float))
        z = _logit(x, w)
        cut = _best_cut(z, right, unans)
        print("trade-off (cut on the logit: answered right / declined / wrongly declined):")
        for delta in (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5):
            a = z >= cut + delta
            print(
                f"  {cut + delta:+.2f}: {np.sum(a & right) / n_ans:.3f} / "
                f"{np.sum(~a & unans) / unans.sum():.3f} / {np.sum(~a & ~unans) / n_ans:.3f}"
            )
        # Shift the bias so that the engine's threshold sits at the chosen cut.
        target = float(np.log(index.threshold / (1 - index.threshold)))
        w[-1] += target - cut
        print("CONFIDENCE_WEIGHTS = (" + ", ".join(f"{v:.4f}" for v in w[:-1]) + ")")
        print(f"CONFIDENCE_BIAS = {w[-1]:.4f}")


if __name__ == "__main__":
    main()
