"""Topics found in a batch of texts: content words (Sudachi nouns, verbs, adjectives, stop words
removed) weighed by TF-IDF, grouped by spherical k-means with a fixed seed, each group
labelled by its key words (「保育園・待機児童・入園」).

No topic list is given in advance: the groups come from the batch itself, and the same batch
always gives the same groups and labels. k grows with the batch: clamp(√(n/2), 2, 12).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from cityos.core import tokens

SEED = 60601
NO_TOPIC = "その他"  # a text with no content word, or a batch too small to group
LABEL_WORDS = 3
_ITERATIONS = 25
_RESTARTS = 4

_STOP_TEXT = """
する ある いる なる れる られる 思う 言う いう できる 出来る 行く 来る くる 見る 下さる くださる
頂く いただく 致す いたす 申す 存ずる おる 居る 有る 無い ない 良い いい よい 欲しい ほしい
こと もの 物 事 ため 為 よう 様 方 ほう 時 とき 今 今回 前 後 中 上 下 所 ところ 人 皆 皆さん
みんな 私 僕 俺 自分 我が家 うち 家族 年 月 日 週 毎日 今日 昨日 明日 今年 去年 先日 最近
何 なに 誰 どこ いつ 感じ 気 本当 ほんと 話 件 点 場合 他 ほか 全部 一つ 二つ 以上 以下
三鷹 三鷹市 市 市役所 市民 お願い 願う 思い 分かる わかる 知る 考える 教える 使う 出る 入る
とても すごい 凄い 多い 少ない 大きい 小さい 新しい 長い 早い 遅い 高い 安い 近い 遠い
ありがとう ござる 有難い ありがたい 助かる 困る 嬉しい 悪い 良かった 最高 最悪 残念 心配
いつも よく つく 必要 利用 あたり 辺り 周辺 場所 住む 感じる 今度 以前 結構 実際 大丈夫
笑 w ー ~ 問題 意見 質問 回答 お知らせ 情報 よろしい 宜しい 是非 ぜひ 全然 ちょっと
thank thanks please the a an to of and is are in on for it this that i we you be
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_CONTENT = {"名詞": {"普通名詞", "固有名詞"}, "動詞": {"一般"}, "形容詞": {"一般"}}


def content_words(words: Sequence[tokens.Word]) -> list[str]:
    """Nouns, verbs and adjectives of a text in dictionary form, stop words left out."""
    kept = []
    for word in words:
        if word.detail not in _CONTENT.get(word.pos, ()):
            continue
        base = word.base.lower()
        if base in STOP_WORDS or base.isdigit() or (len(base) == 1 and not _is_kanji(base)):
            continue
        kept.append(base)
    return kept


def _is_kanji(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def topic_count(n: int) -> int:
    return max(2, min(12, round(math.sqrt(n / 2))))


def _tf_idf(documents: list[list[str]]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors; words in one text only, or in over half of them, dropped."""
    n = len(documents)
    frequency = Counter(word for document in documents for word in set(document))
    least = 2 if n >= 20 else 1
    idf = {
        word: math.log((1 + n) / (1 + count)) + 1
        for word, count in frequency.items()
        if count >= least and count <= max(1, n // 2)
    }
    vectors = []
    for document in documents:
        counts = Counter(word for word in document if word in idf)
        vector = {word: (1 + math.log(c)) * idf[word] for word, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        vectors.append({word: v / norm for word, v in vector.items()} if norm else {})
    return vectors


def _dot(vector: dict[str, float], centre: dict[str, float]) -> float:
    return sum(weight * centre.get(word, 0.0) for word, weight in vector.items())


def _centre(members: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for vector in members:
        for word, weight in vector.items():
            total[word] = total.get(word, 0.0) + weight
    norm = math.sqrt(sum(v * v for v in total.values()))
    return {word: v / norm for word, v in total.items()} if norm else {}


def _seeds(vectors: list[dict[str, float]], k: int, rng: random.Random) -> list[dict[str, float]]:
    """k-means++ on cosine distance: each next seed far from the ones already chosen."""
    centres = [vectors[rng.randrange(len(vectors))]]
    closest = [1.0 - _dot(v, centres[0]) for v in vectors]
    while len(centres) < k:
        total = sum(max(0.0, d) ** 2 for d in closest)
        if total <= 0:
            break
        pick, running = rng.random() * total, 0.0
        chosen = len(vectors) - 1
        for index, distance in enumerate(closest):
            running += max(0.0, distance) ** 2
            if running >= pick:
                chosen = index
                break
        centres.append(vectors[chosen])
        closest = [
            min(d, 1.0 - _dot(v, vectors[chosen])) for d, v in zip(closest, vectors, strict=True)
        ]
    return centres


def _nearest(vector: dict[str, float], centres: list[dict[str, float]]) -> int:
    """The most similar centre; -1 when the text shares no word with any centre (rather
    than letting such texts pile up in the first group)."""
    scores = [_dot(vector, centre) for centre in centres]
    best = max(scores)
    return scores.index(best) if best > 0 else -1


def _kmeans(
    vectors: list[dict[str, float]], k: int, rng: random.Random
) -> tuple[list[int], list[dict[str, float]], float]:
    centres = _seeds(vectors, k, rng)
    assignment: list[int] = []
    for _ in range(_ITERATIONS):
        new = [_nearest(vector, centres) for vector in vectors]
        if new == assignment:
            break
        assignment = new
        groups: list[list[dict[str, float]]] = [[] for _ in centres]
        for vector, group in zip(vectors, assignment, strict=True):
            if group >= 0:
                groups[group].append(vector)
        centres = [_centre(members) if members else centres[c] for c, members in enumerate(groups)]
    fit = sum(_dot(v, centres[g]) for v, g in zip(vectors, assignment, strict=True) if g >= 0)
    return assignment, centres, fit


def _key_words(centre: dict[str, float], members: list[set[str]]) -> list[str]:
    """A group's key words: its heaviest word first, then, in turn, the word weighing most
    among the group's texts that contain the words already chosen (so the label's words
    describe the same texts rather than different corners of the group)."""
    ranked = sorted(centre, key=lambda w: (-centre[w], w))
    chosen: list[str] = []
    texts = members
    for _ in range(len(ranked)):
        spread = Counter(word for doc in texts for word in doc if word in centre)
        candidates = [w for w in ranked if w not in chosen and spread[w] > 0]
        if not candidates:
            candidates = [w for w in ranked if w not in chosen]
        if not candidates:
            break
        best = max(candidates, key=lambda w: (centre[w] * math.sqrt(spread[w]), -ranked.index(w)))
        chosen.append(best)
        narrower = [doc for doc in texts if best in doc]
        texts = narrower or texts
        if len(chosen) >= LABEL_WORDS + 3:
            break
    return chosen


def _labels(
    assignment: list[int], centres: list[dict[str, float]], documents: list[list[str]]
) -> list[str]:
    """Each group's label: its key words joined with ・; a label already taken by another
    group gets one more word."""
    labels: list[str] = []
    for group, centre in enumerate(centres):
        members = [set(doc) for doc, g in zip(documents, assignment, strict=True) if g == group]
        words = _key_words(centre, members)
        size = LABEL_WORDS
        label = "・".join(words[:size]) or NO_TOPIC
        while label in labels and size < len(words):
            size += 1
            label = "・".join(words[:size])
        labels.append(label)
    return labels


def find_topics(texts_words: Sequence[Sequence[tokens.Word]], *, seed: int = SEED) -> list[str]:
    """The topic label of each text of the batch (given as its words)."""
    return topics_of_documents([content_words(words) for words in texts_words], seed=seed)


def topics_of_documents(documents: Sequence[Sequence[str]], *, seed: int = SEED) -> list[str]:
    """The topic label of each text given as its content words (:func:`content_words`):
    stored texts are grouped again from their kept words, without reading them again."""
    lists = [list(document) for document in documents]
    vectors = _tf_idf(lists)
    usable = [i for i, vector in enumerate(vectors) if vector]
    topics = [NO_TOPIC] * len(lists)
    if len(usable) < 2:
        return topics
    k = min(topic_count(len(usable)), len(usable))
    chosen = [vectors[i] for i in usable]
    rng = random.Random(seed)
    best = max((_kmeans(chosen, k, rng) for _ in range(_RESTARTS)), key=lambda run: run[2])
    assignment, centres, _fit = best
    labels = _labels(assignment, centres, [lists[i] for i in usable])
    for index, group in zip(usable, assignment, strict=True):
        if group >= 0:
            topics[index] = labels[group]
    return topics
