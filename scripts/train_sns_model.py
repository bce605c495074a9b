"""Train the SNS category model from the labelled development set (one command, reproducible).

    .venv/bin/python scripts/train_sns_model.py [--epochs 15] [--seed 132047]

Reads tests/data/sns/dev.jsonl only (the holdout set stays unseen), writes
src/cityos/sns/data/model.json.gz: the same data and seed give the same bytes.
Measure with benchmarks/sns_quality.py afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityos.core import text  # noqa: E402
from cityos.sns import perceptron, triage  # noqa: E402

DEV = ROOT / "tests" / "data" / "sns" / "dev.jsonl"
OUT = ROOT / "src" / "cityos" / "sns" / "data" / perceptron.MODEL_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=132047)
    args = parser.parse_args(argv)
    examples = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        words = triage.clean(row["text"])
        key, lower = text.search_key(words), text.normalize(words).lower()
        _scores, matched = triage._scores(key, lower)
        examples.append((triage.features(key, lower, matched), row["labels"]["category"]))
    model = perceptron.train(examples, triage.CATEGORIES, epochs=args.epochs, seed=args.seed)
    model.save(OUT)
    print(f"{len(examples)} posts, {len(model.weights):,} features → {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
