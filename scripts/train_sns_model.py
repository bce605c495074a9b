"""Train the SNS category model from the labelled development set (one command, reproducible).

    .venv/bin/python scripts/train_sns_model.py [--epochs 15] [--seed 132047]
    .venv/bin/python scripts/train_sns_model.py --cv     # 5-fold figures for rescue margins

Reads tests/data/sns/dev.jsonl only (the holdout set stays unseen), writes
src/cityos/sns/data/model.json.gz: the same data and seed give the same bytes.
With --cv it writes nothing: it trains on 4/5 of the development set and scores the rest
(retweets in their original's fold), for each rescue margin (triage.RESCUE_MARGIN), to choose
the margin that lifts rescue recall without costing macro-F1.

Measure with benchmarks/sns_quality.py afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityos.core import text  # noqa: E402
from cityos.sns import perceptron, triage  # noqa: E402
from cityos.sns.gazetteer import Gazetteer  # noqa: E402

DEV = ROOT / "tests" / "data" / "sns" / "dev.jsonl"
OUT = ROOT / "src" / "cityos" / "sns" / "data" / perceptron.MODEL_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=132047)
    parser.add_argument("--cv", action="store_true", help="cross-validate; write nothing")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    examples = []
    for row in rows:
        words = triage.clean(row["text"])
        key, lower = text.search_key(words), text.normalize(words).lower()
        _scores, matched = triage._scores(key, lower)
        examples.append((triage.features(key, lower, matched), row["labels"]["category"]))
    if args.cv:
        return cross_validate(rows, examples, args.epochs, args.seed)
    model = perceptron.train(examples, triage.CATEGORIES, epochs=args.epochs, seed=args.seed)
    model.save(OUT)
    print(f"{len(examples)} posts, {len(model.weights):,} features → {OUT}")
    return 0


def cross_validate(
    rows: list[dict[str, Any]], examples: list[tuple[list[str], str]], epochs: int, seed: int
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
    chosen = triage.RESCUE_MARGIN
    print(f"5-fold cross-validation on {len(rows)} development posts (current margin {chosen})")
    for margin in (0.0, 1.0, 3.0, 6.0, 10.0):
        triage.RESCUE_MARGIN = margin
        predicted: list[str] = [""] * len(rows)
        for fold in range(5):
            train = [ex for ex, f in zip(examples, folds, strict=True) if f != fold]
            model = perceptron.train(train, triage.CATEGORIES, epochs=epochs, seed=seed).freeze()
            perceptron.shipped_model = lambda model=model: model  # type: ignore[assignment]
            for i, row in enumerate(rows):
                if folds[i] == fold:
                    predicted[i] = triage.triage_post(row["text"], places).category
        gold = [row["labels"]["category"] for row in rows]
        f1s = []
        for name in triage.CATEGORIES:
            tp = sum(g == p == name for g, p in zip(gold, predicted, strict=True))
            wrong = sum(p == name for p in predicted) - tp
            missed = sum(g == name for g in gold) - tp
            f1s.append(2 * tp / (2 * tp + wrong + missed) if tp else 0.0)
        rescue = [p for g, p in zip(gold, predicted, strict=True) if g == "rescue_request"]
        recall = sum(p == "rescue_request" for p in rescue) / len(rescue)
        print(
            f"  margin {margin:>4}: macro-F1 {sum(f1s) / len(f1s):.3f}, "
            f"rescue recall {recall:.3f}{'   <- in use' if margin == chosen else ''}"
        )
    triage.RESCUE_MARGIN = chosen
    return 0


if __name__ == "__main__":
    sys.exit(main())
