"""Sentiment of a citizen's text: positive, negative or neutral, with a score from -1 to 1.

Two parts work together. A polarity lexicon written here (Japanese and English) finds the
words of praise and complaint, turns them round under negation (「悪くない」「満足できない」),
weighs intensifiers, and marks sarcasm (「さすが…（笑）」 after a complaint), questions and
requests (which lean neutral). An averaged perceptron (:mod:`cityos.core.perceptron`) then
decides from character n-grams, Sudachi words (dictionary form) and the lexicon's findings;
its weights are trained from the development set by ``scripts/train_voice_model.py`` and ship
in ``data/sentiment_model.json.gz``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cityos.core import perceptron, tokens
from cityos.core import text as jtext

SENTIMENTS = ("positive", "negative", "neutral")
MODEL_FILE = "sentiment_model.json.gz"
#: Scores are turned into probabilities at this temperature for ``sentiment_score``.
_TEMPERATURE = 2.0

# Lexicon entries are written as search keys (cityos.core.text.search_key): katakana as
# hiragana, ASCII in lower case, no spaces. Adjectives are stems so that 悪い/悪く/悪かった match.
POSITIVE: dict[str, float] = {
    "ありがと": 2, "ありがたい": 2, "ありがたかった": 2, "感謝": 2, "助か": 2, "お世話になり": 1,
    "嬉し": 2, "うれし": 2, "よかった": 2, "良かった": 2, "素晴らし": 2, "すばらし": 2,
    "最高": 2, "便利": 1, "快適": 2, "満足": 2, "安心": 1, "素敵": 2, "すてき": 2, "好き": 1,
    "楽し": 2, "たのし": 2, "綺麗": 1, "きれい": 1, "美し": 1, "丁寧": 2, "親切": 2, "優し": 1,
    "感動": 2, "誇り": 2, "神対応": 2, "気持ちい": 1, "癒": 1, "充実": 1, "おすすめ": 1,
    "評価": 1, "頼もし": 2, "心強": 2, "幸せ": 2, "住みやす": 2, "早かった": 1, "スムーズ": 1,
    "すむーず": 1, "わかりやす": 1, "分かりやす": 1, "見やす": 1, "使いやす": 1, "助かる": 2,
    "いいね": 1, "良い": 1, "よい": 1, "いい": 1, "良く": 1, "うまい": 1, "美味し": 1, "おいし": 1,
    "ほっと": 1, "改善され": 1, "なくなって": 0.5, "気に入": 2, "大好き": 2, "自慢": 2,
    "さすが": 1, "ナイス": 1, "ないす": 1, "感心": 2, "うらやま": 1, "楽しみ": 2, "喜": 1,
    "thank": 2, "great": 2, "love": 2, "nice": 1, "good": 1, "helpful": 2, "amazing": 2,
    "wonderful": 2, "happy": 2, "beautiful": 1, "convenient": 1, "kind": 1, "easy": 1,
    "glad": 2, "appreciate": 2, "best": 2, "enjoy": 2, "excellent": 2, "sugoi": 1, "saiko": 2,
}  # fmt: skip
NEGATIVE: dict[str, float] = {
    "困": 2, "不安": 2, "心配": 2, "怖": 2, "こわ": 2, "危な": 2, "危険": 2, "残念": 2,
    "不便": 2, "不満": 2, "ひど": 2, "酷": 2, "最悪": 3, "迷惑": 2, "うるさ": 2, "汚": 2,
    "臭": 1, "くさい": 1, "遅": 1, "高すぎ": 2, "すぎ": 1, "過ぎ": 1, "不親切": 2, "失礼": 2,
    "腹が立": 3, "腹立": 3, "怒": 2, "いい加減": 2, "ふざけ": 3, "理解できな": 2,
    "納得できな": 2, "納得いかな": 2, "説明を求め": 2, "悲し": 2, "寂し": 1, "さびし": 1,
    "面倒": 1, "めんどう": 1, "めんどくさ": 2, "大変": 1, "苦情": 2, "問題": 1, "ありえな": 2,
    "あり得な": 2, "がっかり": 2, "無駄": 2, "放置": 1, "待たされ": 2, "つながらな": 2,
    "繋がらな": 2, "辛": 1, "つら": 1, "嫌": 2, "いや": 1, "悪": 2, "不公平": 2, "不十分": 1,
    "足りな": 1, "渋滞": 1, "混雑": 1, "壊れ": 1, "暗くて": 1, "いらいら": 2, "憤": 3,
    "疑問": 1, "おかしい": 2, "改善してほし": 1, "なんとかして": 2, "何とかして": 2,
    "どうなって": 2, "いつまで": 1, "まだ": 0.5, "また": 0.5, "何度": 1, "ちゃんと": 1,
    "しんど": 2, "危うく": 2, "ぶつか": 1, "負担": 1, "苦し": 2, "ストレス": 2, "すとれす": 2,
    "騒音": 2, "断水": 1, "通行止め": 1, "故障": 1, "ひやり": 2, "ヒヤリ": 2, "減らされ": 1, "値上げ": 1, "高い": 1, "無理": 1,
    "bad": 2, "terrible": 3, "awful": 3, "worst": 3, "annoying": 2, "dangerous": 2,
    "disappoint": 2, "frustrat": 2, "unfortunately": 2, "problem": 1, "slow": 1,
    "confusing": 2, "difficult": 1, "scary": 2, "worried": 2, "worry": 2, "noisy": 2,
    "dirty": 2, "rude": 2, "hard": 1, "never": 1, "can't": 1, "cannot": 1, "waste": 2,
}  # fmt: skip
#: Endings that turn the word before them round (悪くない, 満足できない, 便利じゃなかった).
NEGATIONS = (
    "くない", "くなかった", "くありません", "くなく", "じゃない", "じゃなかった", "ではない",
    "ではなかった", "ではありません", "できない", "できなかった", "できません", "いとは思えな",
    "とは思えな", "ない", "なかった", "ません", "なく", "ず", "なし", "nai",
)  # fmt: skip
_NEGATION_RE = re.compile("|".join(sorted(map(re.escape, NEGATIONS), key=len, reverse=True)))
INTENSIFIERS = ("とても", "本当に", "ほんとに", "すごく", "すごい", "めちゃ", "非常に", "大変",
                "超", "かなり", "全く", "まったく", "心から", "very", "so", "really")  # fmt: skip
SARCASM = ("(笑)", "(苦笑)", "笑笑", "www", "ジョーク", "じょーく", "さすが", "素晴らしいですね",
           "すばらしいですね", "ありがたいことで", "お見事", "おめでたい", "皮肉", "ですよね~",
           "(怒)", "💢", "🙄", "😇", "🤔")  # fmt: skip
QUESTIONS = ("?", "ですか", "ますか", "でしょうか", "のか", "教えてください", "教えて下さい",
             "知りたい", "わかりますか", "どこで", "いつから", "いつまで", "どうすれば")  # fmt: skip
REQUESTS = ("ください", "下さい", "お願いします", "お願いいたします", "ほしい", "欲しい",
            "てはどうでしょうか", "てはいかが", "いただけませんか", "検討", "希望します",
            "提案", "please", "要望")  # fmt: skip
_DENIAL_RE = re.compile("とは思えな|とは思わな|わけがな|はずがな|とは言えな|とはいえな")


def _lexicon_re(entries: dict[str, float]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, entries), key=len, reverse=True)))


_POSITIVE_RE = _lexicon_re(POSITIVE)
_NEGATIVE_RE = _lexicon_re(NEGATIVE)


@dataclass(frozen=True)
class Sentiment:
    sentiment: str
    score: float  # -1 (very negative) .. 1 (very positive)

    def as_dict(self) -> dict[str, object]:
        return {"sentiment": self.sentiment, "sentiment_score": self.score}


def lexicon_features(key: str) -> list[str]:
    """What the lexicon finds in a search key: polarity hits (turned round under negation,
    weighed by intensifiers), their net balance, sarcasm, questions and requests."""
    found: list[str] = []
    net = 0.0
    for pattern, entries, sign in ((_POSITIVE_RE, POSITIVE, 1), (_NEGATIVE_RE, NEGATIVE, -1)):
        for match in pattern.finditer(key):
            weight = entries[match.group()] * sign
            after = _NEGATION_RE.match(key, match.end(), match.end() + 6)
            if after is None and match.end() + 1 < len(key):  # 悪く|ない, 満足|できない
                after = _NEGATION_RE.match(key, match.end() + 1, match.end() + 7)
            name = "pos" if sign > 0 else "neg"
            if after is None:  # 満足できる市民がいるとは思えません: the clause is denied at its end
                clause = key[match.end() : match.end() + 16].split("。")[0]
                after = _DENIAL_RE.search(clause)
            if after is not None and not match.group().endswith(("な", "ない", "なかった")):
                weight, name = -weight, f"not_{name}"
                if "どころか" in key[after.end() : after.end() + 5]:  # 悪くないどころか最悪
                    weight, name = -weight, f"{name}_but_worse"
            before = key[max(0, match.start() - 5) : match.start()]
            if any(word in before for word in INTENSIFIERS):
                weight *= 1.5
                found.append(f"lex:very_{name}")
            found.append(f"lex:{name}")
            found.append(f"lex:{name}:{match.group()}")
            net += weight
    complaint = net < 0 or any(f.startswith("lex:neg") for f in found)
    markers = [marker for marker in SARCASM if marker in key]
    if markers:
        found.append("lex:sarcasm")
        # after a complaint, or two markers at once (さすが…（笑）): praise meant as blame
        if complaint or len(markers) > 1:
            found.append("lex:sarcasm_after_complaint")
            net -= 2 + sum(POSITIVE.get(marker, 0) for marker in markers)
    if any(marker in key for marker in QUESTIONS) or key.endswith("か。"):
        found.append("lex:question")
    if any(marker in key for marker in REQUESTS):
        found.append("lex:request")
    bucket = max(-4, min(4, round(net)))
    found.append(f"lex:net:{bucket}")
    found.append("lex:net_pos" if net > 0 else "lex:net_neg" if net < 0 else "lex:net_zero")
    if key.endswith(("!", "!!", "♪", "✨", "😊", "🥰", "👍")):
        found.append("lex:end_cheer")
    return found


def features(written: str, words: Sequence[tokens.Word] | None = None) -> list[str]:
    """The model's features of a text: character 1-3-grams of its search key, its words in
    dictionary form (with the word after a negation marked), and the lexicon's findings."""
    key = jtext.search_key(written)
    found = set(key)
    found.update(key[i : i + 2] for i in range(len(key) - 1))
    found.update(key[i : i + 3] for i in range(len(key) - 2))
    if words is None:
        words = tokens.words(written)
    previous = ""
    for word in words:
        base = word.base.lower()
        found.add(f"w:{base}")
        if previous:
            found.add(f"ww:{previous}|{base}")
        previous = base
    tail = key[-6:]
    found.add(f"end:{tail[-2:]}")
    found.add(f"end3:{tail[-3:]}")
    found.update(lexicon_features(key))
    length = len(key)
    found.add("len:short" if length < 20 else "len:mid" if length < 80 else "len:long")
    return sorted(found)


def shipped_model() -> perceptron.Perceptron | None:
    return perceptron.load("cityos.voice", MODEL_FILE)


def _lexicon_only(found: Sequence[str]) -> str:
    if "lex:net_pos" in found:
        return "positive"
    if "lex:net_neg" in found:
        return "negative"
    return "neutral"


def sentiment_of(written: str, words: Sequence[tokens.Word] | None = None) -> Sentiment:
    """The sentiment of one text (the lexicon alone if no model is shipped)."""
    found = features(written, words)
    model = shipped_model()
    if model is None:
        label = _lexicon_only(found)
        return Sentiment(label, {"positive": 0.5, "negative": -0.5}.get(label, 0.0))
    scores = model.scores(found)
    label = max(SENTIMENTS, key=lambda name: scores[name])
    top = max(scores.values())
    exps = {name: math.exp((scores[name] - top) / _TEMPERATURE) for name in SENTIMENTS}
    total = sum(exps.values())
    score = (exps["positive"] - exps["negative"]) / total
    return Sentiment(label, round(score, 3))
