"""Train the SNS category model from the labelled development set (one command, reproducible).

    .venv/bin/python scripts/train_sns_model.py [--epochs 15] [--seed 132047] [--runs 5]
        [--min-count 2] [--miss-cost 3]
    .venv/bin/python scripts/train_sns_model.py --cv [--errors 100]  # 5-fold figures only

Reads tests/data/sns/dev.jsonl only (the holdout set stays unseen), writes
src/cityos/sns/data/model.json.gz: the same data and seed give the same bytes. The model is
the mean of --runs averaged perceptrons, each seeing the posts in another order, over the
features seen in --min-count posts or more.

Missing a call for rescue costs more than a false alarm, so the model comes with two margins
(triage.decide): rescue wins when the model's rescue score is within the rescue margin of its
best, and the lexicon's sure calls for rescue stay one unless the model puts rescue further
than the force margin below. They are chosen by 5-fold cross-validation on the development
set (retweets in their original's fold): the pair with the least cost, where a missed call for
rescue costs --miss-cost and any other mistake (a false alarm included) 1; ties go to the
smaller margin. The pair and its cross-validated figures are recorded in the model's metadata.
The second stage (cityos.sns.second_stage: a look at the words, with Sudachi, of the few
posts near the rescue boundary) is trained on the same set, rescue or not, and written to
src/cityos/sns/data/second_stage.json.gz with its gate, weight and margin, chosen by 5-fold
cross-validation on top of the first stage's (see choose_second_stage).

With --cv it writes nothing and prints every pair's figures and the second stage's choice;
--errors lists the confusions and the mistakes of both stages together (for error analysis
on dev).

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
from cityos.sns import second_stage, triage  # noqa: E402
from cityos.sns.gazetteer import Gazetteer  # noqa: E402

DEV = ROOT / "tests" / "data" / "sns" / "dev.jsonl"
OUT = ROOT / "src" / "cityos" / "sns" / "data" / triage.MODEL_FILE
OUT2 = ROOT / "src" / "cityos" / "sns" / "data" / second_stage.MODEL_FILE


RESCUE_MARGINS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
FORCE_MARGINS: tuple[float | None, ...] = (None, 20.0, 15.0, 10.0, 5.0, 3.0, 2.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=132047)
    parser.add_argument("--runs", type=int, default=5, help="perceptrons averaged, each its order")
    parser.add_argument(
        "--min-count", type=int, default=2, help="keep features seen in this many posts or more"
    )
    parser.add_argument(
        "--miss-cost", type=float, default=3.0, help="a missed call for rescue, in false alarms"
    )
    parser.add_argument("--cv", action="store_true", help="cross-validate only; write nothing")
    parser.add_argument(
        "--errors", type=int, default=0, help="with --cv: list this many mistakes (chosen margins)"
    )
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    places = Gazetteer()
    posts = [Post.read(row["text"], places) for row in rows]
    examples = [
        (post.features, str(row["labels"]["category"]))
        for post, row in zip(posts, rows, strict=True)
    ]
    chosen, model_scores, folds = cross_validate(rows, posts, examples, args, show=args.cv)
    words = [
        (second_stage.word_features(post.text), _binary(row))
        for post, row in zip(posts, rows, strict=True)
    ]
    setting = choose_second_stage(rows, posts, words, model_scores, folds, chosen, args)
    if args.cv:
        return 0
    second = perceptron.train(
        common(words, args.min_count),
        second_stage.CLASSES,
        epochs=args.epochs,
        seed=args.seed,
        runs=args.runs,
    )
    second.meta = setting
    second.save(OUT2)
    model = perceptron.train(
        common(examples, args.min_count),
        triage.CATEGORIES,
        epochs=args.epochs,
        seed=args.seed,
        runs=args.runs,
    )
    model.meta = chosen
    model.save(OUT)
    print(
        f"{len(examples)} posts, {len(model.weights):,} features, rescue margin"
        f" {chosen['rescue_margin']}, force margin {chosen['force_margin']} → {OUT}"
    )
    print(
        f"second stage: {len(second.weights):,} features, gate {setting['gate']}, weight"
        f" {setting['weight']}, margin {setting['margin']} → {OUT2}"
    )
    return 0


def _binary(row: dict[str, Any]) -> str:
    rescue = row["labels"]["category"] == "rescue_request"
    return second_stage.RESCUE if rescue else second_stage.OTHER


class Post:
    """What the decision needs of a development post, computed once: the rules' category,
    the lexicon's rescue score and the model's features."""

    def __init__(
        self, rule: str, lexicon_rescue: float, features: list[str], text: str = ""
    ) -> None:
        self.rule, self.lexicon_rescue, self.features = rule, lexicon_rescue, features
        self.text = text  # the post's words (for the second stage)
        self.context = [f[4:] for f in features if f.startswith("ctx:") and "|" not in f]

    @classmethod
    def read(cls, written: str, places: Gazetteer) -> Post:
        words = triage.clean(written)
        key, lower = text.search_key(words), text.normalize(words).lower()
        scores, matched = triage._scores(key, lower)
        place = triage.place_kind(places.find(words, key, lower))
        rule = triage._category(scores, key, lower)
        features = triage.features(key, lower, matched, place)
        return cls(rule, scores["rescue_request"], features, words)


def common(examples: list[tuple[list[str], str]], least: int) -> list[tuple[list[str], str]]:
    """The examples with only the features seen in ``least`` of them or more: a feature
    seen once (a typo, a rare pair of characters) teaches the perceptron that one post, not
    what generalizes."""
    seen = Counter(feature for features, _label in examples for feature in features)
    return [([f for f in features if seen[f] >= least], label) for features, label in examples]


def cross_validate(
    rows: list[dict[str, Any]],
    posts: list[Post],
    examples: list[tuple[list[str], str]],
    args: argparse.Namespace,
    show: bool,
) -> tuple[dict[str, Any], list[dict[str, float]], list[int]]:
    """The margins with the least cost over 5 folds, with their figures (printed with
    ``show``, each pair's); and each post's scores by the model of the folds it was not in,
    and its fold (for choosing the second stage)."""
    by_id = {row["id"]: row for row in rows}

    def origin(row: dict[str, Any]) -> str:
        while row.get("retweet_of") in by_id:
            row = by_id[row["retweet_of"]]
        return str(row["id"])

    origins = sorted({origin(row) for row in rows})
    random.Random(args.seed).shuffle(origins)
    fold_of = {name: n % 5 for n, name in enumerate(origins)}
    folds = [fold_of[origin(row)] for row in rows]
    model_scores: list[dict[str, float]] = [{} for _ in rows]
    for fold in range(5):
        train = common(
            [ex for ex, f in zip(examples, folds, strict=True) if f != fold], args.min_count
        )
        model = perceptron.train(
            train, triage.CATEGORIES, epochs=args.epochs, seed=args.seed, runs=args.runs
        ).freeze()
        for i, post in enumerate(posts):
            if folds[i] == fold:
                model_scores[i] = model.scores(post.features)
    gold = [row["labels"]["category"] for row in rows]
    if show:
        print(
            f"5-fold cross-validation on {len(rows)} development posts (force: the lexicon's"
            f" rescue kept when the model's is within it of its best; None: always;"
            f" a missed call for rescue costs {args.miss_cost})"
        )
    results: list[tuple[tuple[float, float, float], float | None, dict[str, float], list[str]]] = []
    for force in FORCE_MARGINS:
        for margin in RESCUE_MARGINS:
            predicted = [
                triage.decide(post.rule, post.lexicon_rescue, scores, margin, force)[0]
                for post, scores in zip(posts, model_scores, strict=True)
            ]
            figures = score(gold, predicted)
            missed = sum(g == "rescue_request" != p for g, p in zip(gold, predicted, strict=True))
            wrong = sum(g != p for g, p in zip(gold, predicted, strict=True))
            cost = wrong + (args.miss_cost - 1) * missed
            # ties: the smaller rescue margin, then the larger force margin (None: largest)
            order = (cost, margin, -(force if force is not None else 1e9))
            results.append((order, force, figures, predicted))
            if show:
                print(
                    f"  force {force!s:>4}, margin {margin:>4}: cost {cost:>5.0f},"
                    f" macro-F1 {figures['macro_f1']:.3f}, rescue R {figures['rescue_recall']:.3f}"
                    f" P {figures['rescue_precision']:.3f}"
                )
    (cost, margin, _larger), force, figures, predicted = min(results, key=lambda r: r[0])
    if show:
        print(f"chosen: force {force}, margin {margin} (cost {cost:.0f})")
    chosen = {
        "rescue_margin": margin,
        "force_margin": force,
        "miss_cost": args.miss_cost,
        "cv": figures,
    }
    return chosen, model_scores, folds


# The second stage's choices (see cityos.sns.second_stage): which posts it looks at, how much
# the first stage's model still counts there, and its margin.
SURE: tuple[float | None, ...] = (None, 0.0, 2.0, 4.0, 8.0, 12.0)
BAND: tuple[float | None, ...] = (None, 12.0, 16.0, 20.0)
PEOPLE_IN: tuple[tuple[str, ...], ...] = (
    (),
    ("damage_report",),
    ("damage_report", "shelter_evacuation", "infrastructure"),
)
PEOPLE = ("other_person", "first_person", "vulnerable", "someone")
WEIGHTS = (0.0, 0.25, 0.5, 1.0)
SECOND_MARGINS = (-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0, 12.0, 16.0)


def choose_second_stage(
    rows: list[dict[str, Any]],
    posts: list[Post],
    words: list[tuple[list[str], str]],
    model_scores: list[dict[str, float]],
    folds: list[int],
    chosen: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The second stage's gate, weight and margin, by 5-fold cross-validation on top of the
    first stage's (its margins as chosen, each post scored by the model of the other folds;
    the second-stage model too is trained on the other folds). The choice with the least
    cost (as for the margins) among those that miss no more calls for rescue than the first
    stage alone; ties go to the choice that looks at fewer posts (speed), then the smaller
    margin. Looking at no post (no second stage) is one of the choices."""
    gold = [row["labels"]["category"] for row in rows]
    first = [
        triage.decide(
            post.rule, post.lexicon_rescue, scores, chosen["rescue_margin"], chosen["force_margin"]
        )[0]
        for post, scores in zip(posts, model_scores, strict=True)
    ]
    said = [0.0] * len(rows)
    for fold in range(5):
        train = common(
            [ex for ex, f in zip(words, folds, strict=True) if f != fold], args.min_count
        )
        model = perceptron.train(
            train, second_stage.CLASSES, epochs=args.epochs, seed=args.seed, runs=args.runs
        ).freeze()
        for i, (features, _label) in enumerate(words):
            if folds[i] == fold:
                said[i] = second_stage.score(model, features)
    below = [second_stage.gap(scores) for scores in model_scores]

    def missed(predicted: list[str]) -> int:
        return sum(g == "rescue_request" != p for g, p in zip(gold, predicted, strict=True))

    def cost(predicted: list[str]) -> float:
        wrong = sum(g != p for g, p in zip(gold, predicted, strict=True))
        return wrong + (args.miss_cost - 1) * missed(predicted)

    allowed = missed(first)
    best: tuple[tuple[float, ...], dict[str, Any], list[str]] | None = None
    for sure in SURE:
        for band in BAND:
            for people_in in PEOPLE_IN:
                gate = {
                    "sure": sure,
                    "band": band,
                    "categories": list(people_in),
                    "people": list(PEOPLE),
                }
                gated = [
                    second_stage.gated(category, scores, post.context, gate)
                    for category, scores, post in zip(first, model_scores, posts, strict=True)
                ]
                share = sum(gated) / len(rows)
                for weight in WEIGHTS if any(gated) else (0.0,):
                    for margin in SECOND_MARGINS if any(gated) else (0.0,):
                        setting = {"gate": gate, "weight": weight, "margin": margin}
                        predicted = [
                            _second_look(first[i], model_scores[i], said[i], below[i], setting)
                            if gated[i]
                            else first[i]
                            for i in range(len(rows))
                        ]
                        if missed(predicted) > allowed:
                            continue
                        order = (cost(predicted), share, margin, weight)
                        if best is None or order < best[0]:
                            best = (order, {**setting, "share": round(share, 4)}, predicted)
    assert best is not None  # looking at no post is always allowed
    (total, share, _margin, _weight), setting, predicted = best
    figures = score(gold, predicted)
    setting["cv"] = figures
    print(
        f"second stage: cost {total:.0f} (first stage alone {cost(first):.0f}), looks at"
        f" {share:.1%} of the posts, gate {setting['gate']}, weight {setting['weight']},"
        f" margin {setting['margin']}: macro-F1 {figures['macro_f1']:.3f}, rescue R"
        f" {figures['rescue_recall']:.3f} P {figures['rescue_precision']:.3f}"
    )
    if args.cv and args.errors:
        print_errors(rows, gold, predicted, args.errors)
    return setting


def _second_look(
    first: str, scores: dict[str, float], said: float, below: float, setting: dict[str, Any]
) -> str:
    """What a gated post becomes (as triage.triage_post does it)."""
    if second_stage.decide(said, below, setting):
        return "rescue_request"
    if first == "rescue_request":
        return max((name for name in scores if name != "rescue_request"), key=scores.__getitem__)
    return first


def score(gold: list[str], predicted: list[str]) -> dict[str, float]:
    f1s, recall, precision = [], 0.0, 0.0
    for name in triage.CATEGORIES:
        tp = sum(g == p == name for g, p in zip(gold, predicted, strict=True))
        said, true = predicted.count(name), gold.count(name)
        f1s.append(2 * tp / (said + true) if tp else 0.0)
        if name == "rescue_request":
            recall, precision = tp / true, tp / said if said else 0.0
    return {
        "macro_f1": round(sum(f1s) / len(f1s), 4),
        "rescue_recall": round(recall, 4),
        "rescue_precision": round(precision, 4),
    }


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
