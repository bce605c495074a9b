"""A small linear classifier shared by the domains that label texts (SNS post categories,
sentiment of citizens' voice): an averaged perceptron over sparse string features.

Each domain trains its model from its labelled development set by one command
(`scripts/train_sns_model.py`, `scripts/train_voice_model.py`), and the weights ship in the
domain's package (``data/*.json.gz``), loaded with :func:`load`; nothing is downloaded. Pure
Python: scoring a text is one dictionary look-up a feature.
"""

from __future__ import annotations

import gzip
import json
import random
import struct
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

# Packed weights (see Perceptron.freeze): a field can hold the sum of 2**23 features' weights
# (a post of 100 KB has fewer than 2**19) of up to 10**8 in size without spilling over.
_SCALE = 10_000
_FIELD = 64
_BIAS = 1 << 40


class Perceptron:
    def __init__(
        self,
        classes: Sequence[str],
        weights: dict[str, dict[str, float]],
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.classes = list(classes)
        self.weights = weights  # feature → {class: weight}
        # What the domain decided with the model when it trained it (thresholds chosen by
        # cross-validation, their figures): saved with the weights, read back by load().
        self.meta: dict[str, Any] = dict(meta or {})
        self._packed: dict[str, int] | None = None
        self._size = 0
        self._unpack: Callable[[bytes], tuple[int, ...]] = struct.Struct("").unpack

    def freeze(self) -> Perceptron:
        """Index the weights for fast scoring (after training): each feature's weights packed
        into one integer, a field of _FIELD bits a class, each field the weight in units of
        1/_SCALE (the saved weights have four decimals) plus _BIAS, so that adding a post's
        features is one sum of integers in C instead of a loop in Python."""
        self._packed = {
            feature: sum(
                (round(weights.get(name, 0.0) * _SCALE) + _BIAS) << (_FIELD * column)
                for column, name in enumerate(self.classes)
            )
            for feature, weights in self.weights.items()
        }
        self._size = _FIELD // 8 * len(self.classes)
        self._unpack = struct.Struct(f"<{len(self.classes)}Q").unpack
        return self

    def scores(self, features: Sequence[str]) -> dict[str, float]:
        if self._packed is not None:  # the packed rows of the known features, summed at once
            known = list(filter(None, map(self._packed.get, features)))
            fields = self._unpack(sum(known).to_bytes(self._size, "little"))
            biases = len(known) * _BIAS
            return {
                name: (field - biases) / _SCALE
                for name, field in zip(self.classes, fields, strict=True)
            }
        totals = dict.fromkeys(self.classes, 0.0)
        for feature in features:
            for name, weight in self.weights.get(feature, {}).items():
                totals[name] += weight
        return totals

    def predict(self, features: Sequence[str]) -> str:
        totals = self.scores(features)
        return max(self.classes, key=lambda name: totals[name])

    def save(self, path: Path) -> None:
        body: dict[str, Any] = {"classes": self.classes, "weights": self.weights}
        if self.meta:
            body["meta"] = self.meta
        path.write_bytes(
            gzip.compress(json.dumps(body, ensure_ascii=False, sort_keys=True).encode(), mtime=0)
        )


def train(
    examples: Sequence[tuple[Sequence[str], str]],
    classes: Sequence[str],
    *,
    epochs: int = 15,
    seed: int = 132047,
    runs: int = 1,
) -> Perceptron:
    """Averaged perceptron (Collins 2002): the mean of the weights over every step; with
    ``runs`` > 1, the mean of that many such models, each seeing the examples in another
    order (seed, seed + 1, ...): a perceptron's weights depend on the order it saw the
    examples in, and their mean less so. Still one linear model: scoring costs the same."""
    if runs > 1:
        models = [train(examples, classes, epochs=epochs, seed=seed + run) for run in range(runs)]
        summed: dict[str, dict[str, float]] = defaultdict(dict)
        for model in models:
            for feature, by_class in model.weights.items():
                for name, weight in by_class.items():
                    summed[feature][name] = summed[feature].get(name, 0.0) + weight / runs
        return Perceptron(
            classes,
            {
                feature: {name: round(weight, 4) for name, weight in by_class.items()}
                for feature, by_class in summed.items()
            },
        )
    weights: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    stamps: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    step = 0
    order = list(range(len(examples)))
    rng = random.Random(seed)

    def update(feature: str, name: str, delta: float) -> None:
        totals[feature][name] += (step - stamps[feature][name]) * weights[feature][name]
        stamps[feature][name] = step
        weights[feature][name] += delta

    model = Perceptron(classes, weights)  # scoring reads the live weights while training
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            features, truth = examples[index]
            step += 1
            guess = model.predict(features)
            if guess != truth:
                for feature in features:
                    update(feature, truth, 1.0)
                    update(feature, guess, -1.0)
    averaged: dict[str, dict[str, float]] = {}
    for feature, by_class in weights.items():
        kept = {}
        for name, weight in by_class.items():
            total = totals[feature][name] + (step - stamps[feature][name]) * weight
            mean = round(total / step, 4)
            if abs(mean) >= 0.0005:
                kept[name] = mean
        if kept:
            averaged[feature] = kept
    return Perceptron(classes, averaged)


@cache
def load(package: str, filename: str) -> Perceptron | None:
    """The model a package ships in its ``data/`` folder (None when there is none)."""
    source = resources.files(package) / "data" / filename
    if not source.is_file():
        return None
    body = json.loads(gzip.decompress(source.read_bytes()))
    return Perceptron(body["classes"], body["weights"], body.get("meta")).freeze()
