"""Train the voice sentiment model from the labelled development set (one command, reproducible).

    .venv/bin/python scripts/train_voice_model.py [--epochs 12] [--seed 60601]
    .venv/bin/python scripts/train_voice_model.py --cv     # 5-fold figures; writes nothing

Reads tests/data/voice/dev.jsonl only (the holdout set stays unseen), writes
src/cityos/voice/data/sentiment_model.json.gz: the same data and seed give the same bytes.
Measure with benchmarks/voice_quality.py afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityos.core import perceptron  # noqa: E402
from cityos.voice import analysis  # noqa: E402

DEV = ROOT / "tests" / "data" / "voice" / "dev.jsonl"
OUT = ROOT / "src" / "cityos" / "voice" / "data" / analysis.MODEL_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=60601)
    parser.add_argument("--cv", action="store_true", help="cross-validate; write nothing")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    examples = [(analysis.features(row["text"]), row["labels"]["sentiment"]) for row in rows]
    if args.cv:
        return cross_validate(rows, examples, args.epochs, args.seed)
    model = perceptron.train(examples, analysis.SENTIMENTS, epochs=args.epochs, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.output)
    print(f"{len(examples)} texts, {len(model.weights):,} features → {args.output}")
    return 0


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    f1s = []
    for name in analysis.SENTIMENTS:
        tp = sum(g == p == name for g, p in pairs)
        said = sum(p == name for _g, p in pairs)
        true = sum(g == name for g, _p in pairs)
        f1s.append(2 * tp / (said + true) if tp else 0.0)
    return sum(f1s) / len(f1s)


def cross_validate(
    rows: list[dict[str, object]], examples: list[tuple[list[str], str]], epochs: int, seed: int
) -> int:
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    fold_of = {index: n % 5 for n, index in enumerate(order)}
    pairs: list[tuple[str, str, str]] = []
    lexicon_pairs = []
    for fold in range(5):
        train = [ex for i, ex in enumerate(examples) if fold_of[i] != fold]
        model = perceptron.train(train, analysis.SENTIMENTS, epochs=epochs, seed=seed).freeze()
        for i, (found, truth) in enumerate(examples):
            if fold_of[i] == fold:
                pairs.append((truth, model.predict(found), str(rows[i]["source"])))
                lexicon_pairs.append((truth, analysis._lexicon_only(found)))
    print(f"5-fold cross-validation on {len(rows)} development texts, {epochs} epochs")
    print(f"  model   macro-F1 {macro_f1([(g, p) for g, p, _s in pairs]):.3f}")
    print(f"  lexicon macro-F1 {macro_f1(lexicon_pairs):.3f}")
    for source in ("opinion", "inquiry", "sns"):
        chosen = [(g, p) for g, p, s in pairs if s == source]
        print(f"    {source:<8} macro-F1 {macro_f1(chosen):.3f} ({len(chosen)} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
