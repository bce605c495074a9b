"""The second look at posts near the rescue boundary: words, not characters.

The first stage (cityos.sns.triage) reads characters and cues, fast enough for every post.
A call for rescue told as damage (「家がつぶれた、父がまだ中」) and damage that names people who
are safe (「住人は避難済み」) share most of their characters; what tells them apart is who does
what: a person as the subject of being trapped or unable to move, the verb negated or not,
over or still going on. For the few posts whose first-stage decision is near that boundary
(see :func:`gated`), the post is split into words with Sudachi (cityos.core.tokens: each word
in its normalized form, so 閉じこめられ / 閉じ込められた / とじこめ are one verb) and a small
averaged perceptron, trained on the development set by scripts/train_sns_model.py, decides
rescue or not from:

- the words and pairs of adjacent words (normalized forms),
- each verb or adjective with what follows it: negated (ない, ず, ません), past (た),
  going on (ている), passive or potential (られる), and the last one of the post,
- who does it: the noun before が / は / も / を and the verb after it, by the noun and by its
  kind (the writer, a relative, someone else).

Its answer is the words' score less a share (``weight``) of how far the first stage's model
put rescue below its best: rescue when that is at least minus ``margin``. The gate, the
weight and the margin ship with the model (``second_stage.json.gz``, its ``meta``), chosen by
5-fold cross-validation on the development set (scripts/train_sns_model.py); a post outside
the gate costs nothing more than before.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from cityos.core import perceptron, tokens

MODEL_FILE = "second_stage.json.gz"  # in data/, trained by scripts/train_sns_model.py
RESCUE, OTHER = "rescue", "other"
CLASSES = (RESCUE, OTHER)


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Kinds of people a noun names (normalized forms): who is the subject of a verb.
_SELF = _set("私 俺 僕 自分 うち 我が家 あたし わたし ぼく おれ")
_KIN = _set(
    "母 父 祖母 祖父 お母さん お父さん 母親 父親 おばあちゃん おじいちゃん ばあちゃん じいちゃん"
    " 婆ちゃん 爺ちゃん 子供 子 息子 娘 妻 夫 旦那 嫁 家族 兄 姉 弟 妹 赤ちゃん 赤ん坊 孫 親 叔母 叔父"
    " 伯母 伯父 義母 義父 主人"
)
_OTHERS = _set(
    "人 方 者 住人 住民 隣 近所 隣人 男性 女性 高齢者 老人 お年寄り 子ども 男の子 女の子 利用者"
    " 入居者 作業員 店員 運転手 乗客 誰 だれ 誰か 皆 みんな 全員 けが人 怪我人 友達 友人 さん"
)
_SUBJECT_MARKERS = _set("が は も を って")
_NEGATIONS = _set("ない 無い ず ぬ ん ねえ ねー")
_SKIP = frozenset(("補助記号", "空白"))


def _kind(noun: str) -> str | None:
    if noun in _SELF:
        return "self"
    if noun in _KIN:
        return "kin"
    if noun in _OTHERS:
        return "other"
    return None


def word_features(written: str) -> list[str]:
    """The word-level features of a post's text (see the module's docstring), sorted."""
    words = [w for w in tokens.words(written) if w.pos not in _SKIP]
    found: set[str] = set()
    forms = [w.normalized or w.surface for w in words]
    found.update("w:" + form for form in forms)
    found.update(f"b:{a}_{b}" for a, b in itertools.pairwise(forms))
    subject: str | None = None
    last_verb = ""
    for i, word in enumerate(words):
        form = forms[i]
        if word.pos == "名詞" or word.pos == "代名詞":
            following = forms[i + 1] if i + 1 < len(forms) else ""
            if following in _SUBJECT_MARKERS:
                subject = form
        if word.pos not in ("動詞", "形容詞") or (
            word.detail == "非自立可能" and i and forms[i - 1] in ("て", "で")
        ):
            continue
        flags: set[str] = set()
        for later, after in zip(words[i + 1 : i + 6], forms[i + 1 : i + 6], strict=False):
            if later.pos in ("名詞", "代名詞", "副詞", "形状詞") or (
                later.pos == "動詞" and later.detail != "非自立可能"
            ):
                break
            if after in _NEGATIONS:
                flags.add("neg")
            elif after == "た":
                flags.add("past")
            elif after == "居る" and later.pos == "動詞":
                flags.add("prog")
            elif after in ("られる", "れる"):
                flags.add("pass")
        found.add("v:" + form)
        found.update(f"v:{form}|{flag}" for flag in flags)
        found.add("vneg" if "neg" in flags else "vpos")
        last_verb = form + ("|neg" if "neg" in flags else "") + ("|past" if "past" in flags else "")
        if subject is not None:
            kind = _kind(subject)
            found.add(f"s:{subject}|{form}")
            if kind:
                found.add(f"sk:{kind}|{form}")
                found.update(f"sk:{kind}|{form}|{flag}" for flag in flags)
                found.add(f"sk:{kind}|{'neg' if 'neg' in flags else 'pos'}")
            subject = None
    if last_verb:
        found.add("end:" + last_verb)
    return sorted(found)


def gap(model_scores: dict[str, float]) -> float:
    """How far the model's rescue score is below its best other score (negative: ahead)."""
    other = max(score for name, score in model_scores.items() if name != "rescue_request")
    return other - model_scores["rescue_request"]


def gated(
    category: str,
    model_scores: dict[str, float],
    context: Sequence[str],
    gate: dict[str, Any],
) -> bool:
    """Whether a post's first-stage decision is near the rescue boundary: rescue, but not
    the model's best by ``gate["sure"]`` or more; not rescue, with the model's rescue score
    within ``gate["band"]`` of its best (None: neither); or one of ``gate["categories"]`` (damage, shelter,
    infrastructure) in a post that names a person (``context``: the post's context cues)."""
    below = gap(model_scores)
    if category == "rescue_request":
        return gate["sure"] is not None and below > -float(gate["sure"])
    if gate["band"] is not None and below <= float(gate["band"]):
        return True
    return category in gate["categories"] and any(name in context for name in gate["people"])


def load() -> perceptron.Perceptron | None:
    """The shipped second-stage model (None when there is none)."""
    return perceptron.load("cityos.sns", MODEL_FILE)


def score(model: perceptron.Perceptron, features: Sequence[str]) -> float:
    """How much more the model's words say rescue than not (positive: rescue)."""
    scores = model.scores(features)
    return scores[RESCUE] - scores[OTHER]


def decide(words: float, below: float, setting: dict[str, Any]) -> bool:
    """Whether a gated post is a call for rescue: the words' score (:func:`score`), less
    ``setting["weight"]`` times how far the first stage's model put rescue below its best
    (``below``, see :func:`gap`), at least minus ``setting["margin"]``."""
    return words - float(setting["weight"]) * below >= -float(setting["margin"])


def telling(
    model: perceptron.Perceptron, features: Sequence[str], rescue: bool, n: int = 3
) -> list[str]:
    """The ``n`` word features that spoke most for the answer given (for the explanation),
    as words: 「父|閉じ込める」 for who did what, 「動く(ない)」 for a negated verb."""
    weighed = []
    for feature in features:
        weights = model.weights.get(feature)
        if weights:
            lean = weights.get(RESCUE, 0.0) - weights.get(OTHER, 0.0)
            weighed.append((lean if rescue else -lean, feature))
    weighed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [_readable(feature) for lean, feature in weighed[:n] if lean > 0]


def _readable(feature: str) -> str:
    kind, _, rest = feature.partition(":")
    if kind == "b":
        return rest.replace("_", "")
    if kind in ("v", "end", "s", "sk"):
        return rest.replace("|neg", "(ない)").replace("|past", "(た)").replace("|prog", "(ている)")
    return rest or kind
