"""Train the SNS category model from the labelled development set (one command, reproducible).

    .venv/bin/python scripts/train_sns_model.py [--epochs 15] [--seed 132047] [--runs 5]
        [--min-count 2]
    .venv/bin/python scripts/train_sns_model.py --cv [--errors 100]  # 5-fold figures

Reads tests/data/sns/dev.jsonl only (the holdout set stays unseen), writes
src/cityos/sns/data/model.json.gz: the same data and seed give the same bytes. The model is
the mean of --runs averaged perceptrons, each seeing the posts in another order, over the
features seen in --min-count posts or more.
With --cv it writes nothing: it trains on 4/5 of the development set and scores the rest
(retweets in their original's fold), for each rescue margin (triage.RESCUE_MARGIN) and each
margin within which the lexicon's calls for rescue stay one (triage.FORCE_MARGIN), to
choose the margins that lift rescue recall without costing macro-F1 and precision; --errors
lists the confusions and the mistakes of the margins in use (for error analysis on dev).

Measure with benchmarks/sns_quality.py afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityos.core import perceptron, text  # noqa: E402
from cityos.sns import triage  # noqa: E402
from cityos.sns.gazetteer import Gazetteer  # noqa: E402

DEV = ROOT / "tests" / "data" / "sns" / "dev.jsonl"
OUT = ROOT / "src" / "cityos" / "sns" / "data" / triage.MODEL_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=132047)
    parser.add_argument("--runs", type=int, default=5, help="perceptrons averaged, each its order")
    parser.add_argument(
        "--min-count", type=int, default=2, help="keep features seen in this many posts or more"
    )
    parser.add_argument("--cv", action="store_true", help="cross-validate; write nothing")
    parser.add_argument(
        "--errors", type=int, default=0, help="with --cv: list this many mistakes (margins in use)"
    )
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    examples = []
    places = Gazetteer()
    for row in rows:
        words = triage.clean(row["text"])
        key, lower = text.search_key(words), text.normalize(words).lower()
        _scores, matched = triage._scores(key, lower)
        place = triage.place_kind(places.find(words, key, lower))
        examples.append((triage.features(key, lower, matched, place), row["labels"]["category"]))
    if args.cv:
        return cross_validate(
            rows, examples, args.epochs, args.seed, args.runs, args.min_count, args.errors
        )
    model = perceptron.train(
        common(examples, args.min_count),
        triage.CATEGORIES,
        epochs=args.epochs,
        seed=args.seed,
        runs=args.runs,
    )
    model.save(OUT)
    print(f"{len(examples)} posts, {len(model.weights):,} features → {OUT}")
    return 0


def common(examples: list[tuple[list[str], str]], least: int) -> list[tuple[list[str], str]]:
    """The examples with only the features seen in ``least`` of them or more: a feature
    seen once (a typo, a rare pair of characters) teaches the perceptron that one post, not
    what generalizes."""
    seen = Counter(feature for features, _label in examples for feature in features)
    return [([f for f in features if seen[f] >= least], label) for features, label in examples]


def cross_validate(
    rows: list[dict[str, Any]],
    examples: list[tuple[list[str], str]],
    epochs: int,
    seed: int,
    runs: int,
    min_count: int,
    errors: int = 0,
) -> int:
    by_id = {row["id"]: row for row in rows}

    def origin(row: dict[str, Any]) -> str:
        while row.get("retweet_of") in by_id:
            row = by_id[row["retweet_of"]]
        return str(row["id"])

    origins = sorted({origin(row) for row in rows})
    random.Random(seed).shuffle(origins)
    fold_of = {name: n % 5 for n, name in enumerate(origins)}
    folds = [fold_of[origin(row)] for row in rows]
    places = Gazetteer()
    chosen, forced = triage.RESCUE_MARGIN, triage.FORCE_MARGIN
    models = []
    for fold in range(5):
        train = common([ex for ex, f in zip(examples, folds, strict=True) if f != fold], min_count)
        model = perceptron.train(train, triage.CATEGORIES, epochs=epochs, seed=seed, runs=runs)
        models.append(model.freeze())
    gold = [row["labels"]["category"] for row in rows]
    in_use: list[str] = []
    print(
        f"5-fold cross-validation on {len(rows)} development posts (rescue margin {chosen},"
        f" lexicon's rescue kept when the model's is within {forced} of its best; None: always)"
    )
    for force in (None, 20.0, 10.0, 5.0, 3.0, 2.0):
        for margin in (0.0, 1.0, 3.0, 6.0):
            triage.RESCUE_MARGIN, triage.FORCE_MARGIN = margin, force
            predicted: list[str] = [""] * len(rows)
            for fold, model in enumerate(models):
                triage.shipped_model = lambda model=model: model  # type: ignore[assignment]
                for i, row in enumerate(rows):
                    if folds[i] == fold:
                        predicted[i] = triage.triage_post(row["text"], places).category
            recall, precision, f1s = {}, {}, []
            for name in triage.CATEGORIES:
                tp = sum(g == p == name for g, p in zip(gold, predicted, strict=True))
                said, true = predicted.count(name), gold.count(name)
                f1s.append(2 * tp / (said + true) if tp else 0.0)
                recall[name], precision[name] = tp / true, tp / said if said else 0.0
            print(
                f"  force {force!s:>4}, margin {margin:>3}: macro-F1 {sum(f1s) / len(f1s):.3f},"
                f" rescue R {recall['rescue_request']:.3f} P {precision['rescue_request']:.3f},"
                f" shelter R {recall['shelter_evacuation']:.3f},"
                f" infrastructure R {recall['infrastructure']:.3f}"
                f"{'   <- in use' if (margin, force) == (chosen, forced) else ''}"
            )
            if (margin, force) == (chosen, forced):
                in_use = predicted
    triage.RESCUE_MARGIN, triage.FORCE_MARGIN = chosen, forced
    if errors:
        print_errors(rows, gold, in_use, errors)
    return 0


def print_errors(rows: list[dict[str, Any]], gold: list[str], predicted: list[str], n: int) -> None:
    """The confusions of the margins in use (gold → predicted), then the first ``n`` mistakes."""
    pairs = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    print("confusions (gold → predicted):")
    for (truth, guess), count in pairs.most_common(20):
        print(f"  {count:>3}  {truth} → {guess}")
    print(f"mistakes (first {n}):")
    wrong = [i for i, (g, p) in enumerate(zip(gold, predicted, strict=True)) if g != p]
    for i in wrong[:n]:
        said = " ".join(rows[i]["text"].split())[:110]
        print(f"  {rows[i]['id']} {gold[i]} → {predicted[i]}: {said}")


if __name__ == "__main__":
    sys.exit(main())
