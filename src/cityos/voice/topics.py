"""Topics found in a batch of texts: the texts' nouns (Sudachi's longest units, so 粗大ごみ and
待機児童 stay whole; stop words removed; ゴミ and ごみ one word), each text widened with the
words that go together with its own in this batch, weighed by TF-IDF, grouped by spherical
k-means with a fixed seed, tiny groups merged into their nearest, and each group labelled by
its key words (「保育園・待機児童・入園」).

Why the widening: citizens' texts are short, and two texts about the same thing often share
no noun at all (「学童の空き」, 「放課後の居場所」). Words that appear together in the batch
more often than chance (positive PMI) stand in for each other a little, so such texts meet.

No topic list is given in advance: the groups come from the batch itself, and the same batch
always gives the same groups and labels. k grows with the batch: clamp(√(n/2), 2, 20). Large
batches are grouped on a fixed-seed sample of :data:`FIT_SAMPLE` texts and every text then
joins its nearest group, so 100,000 texts take one pass, not twenty-five.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Sequence

from cityos.core import text as jtext
from cityos.core import tokens

SEED = 60601
NO_TOPIC = "その他"  # a text with no content word, or a batch too small to group
LABEL_WORDS = 3
_ITERATIONS = 25
_RESTARTS = 4
MAX_TOPICS = 20
CENTRE_WORDS = 150
FIT_SAMPLE = 6000
#: Each word of a text brings in this many of the words most tied to it in the batch.
NEIGHBOURS = 5
_NEIGHBOUR_MIN_DF = 3  # a word in fewer texts than this has no reliable neighbours
#: A group smaller than this share of the batch (and at least 3 texts) joins its nearest.
TINY_SHARE = 0.01

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
分 秒 時間 か月 ヶ月 カ月 週間 年間 朝 昼 夜 夕方 午前 午後 家 隣 近所 心 感謝 気持ち 息子 娘 父 母
夫 妻 子 子供 子ども 親 祖母 祖父 主人 住民 方々 様子 理由 状況 対応 予定 機会 自分たち
thank thanks please the a an to of and is are in on for it this that i we you be
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_CONTENT = {"名詞": {"普通名詞", "固有名詞"}}


def content_words(words: Sequence[tokens.Word]) -> list[str]:
    """The nouns of a text in dictionary form, stop words left out. (Verbs and adjectives
    say how people feel more than what about: they are the sentiment's, not the topic's.)"""
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
    return max(2, min(MAX_TOPICS, round(math.sqrt(n / 2))))


def _tf_idf(
    documents: list[list[str]], widened: list[list[str]] | None = None
) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors; words in one text only, or in over half of them, dropped.
    A text's neighbour words (``widened``) count half as much as its own."""
    n = len(documents)
    frequency = Counter(word for document in documents for word in set(document))
    least = 2 if n >= 20 else 1
    idf = {
        word: math.log((1 + n) / (1 + count)) + 1
        for word, count in frequency.items()
        if count >= least and count <= max(1, n // 2)
    }
    vectors = []
    for index, document in enumerate(documents):
        counts = Counter(word for word in document if word in idf)
        vector = {word: (1 + math.log(c)) * idf[word] for word, c in counts.items()}
        if widened is not None:
            for word in widened[index]:
                if word in idf and word not in counts:
                    vector[word] = vector.get(word, 0.0) + 0.5 * idf[word]
        norm = math.sqrt(sum(v * v for v in vector.values()))
        vectors.append({word: v / norm for word, v in vector.items()} if norm else {})
    return vectors


def _neighbours(documents: list[list[str]]) -> dict[str, list[str]]:
    """For each word, the :data:`NEIGHBOURS` words appearing with it in the batch's texts
    most above chance (positive PMI, together in at least two texts)."""
    n = len(documents)
    frequency = Counter(word for document in documents for word in set(document))
    together: Counter[tuple[str, str]] = Counter()
    for document in documents:
        kept = sorted({w for w in document if frequency[w] >= _NEIGHBOUR_MIN_DF})[:30]
        for i, first in enumerate(kept):
            for second in kept[i + 1 :]:
                together[(first, second)] += 1
    scored: dict[str, list[tuple[float, str]]] = {}
    for (first, second), count in together.items():
        if count < 2:
            continue
        pmi = math.log(count * n / (frequency[first] * frequency[second]))
        if pmi > 0:
            scored.setdefault(first, []).append((pmi, second))
            scored.setdefault(second, []).append((pmi, first))
    return {
        word: [other for _pmi, other in sorted(found, key=lambda x: (-x[0], x[1]))[:NEIGHBOURS]]
        for word, found in scored.items()
    }


def _dot(vector: dict[str, float], centre: dict[str, float]) -> float:
    return sum(weight * centre.get(word, 0.0) for word, weight in vector.items())


def _centre(members: list[dict[str, float]]) -> dict[str, float]:
    """The group's mean direction, kept to its :data:`CENTRE_WORDS` heaviest words (the long
    tail of words one text each says nothing about the group and costs every comparison)."""
    total: dict[str, float] = {}
    for vector in members:
        for word, weight in vector.items():
            total[word] = total.get(word, 0.0) + weight
    heaviest = heapq.nlargest(CENTRE_WORDS, total.items(), key=lambda item: (item[1], item[0]))
    norm = math.sqrt(sum(v * v for _w, v in heaviest))
    return {word: v / norm for word, v in heaviest} if norm else {}


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


Index = dict[str, list[tuple[int, float]]]


def _index(centres: list[dict[str, float]]) -> Index:
    """Word → (centre, weight): a text then meets only the centres that share its words."""
    index: Index = {}
    for number, centre in enumerate(centres):
        for word, weight in centre.items():
            index.setdefault(word, []).append((number, weight))
    return index


def _nearest(
    vector: dict[str, float], centres: list[dict[str, float]], index: Index | None = None
) -> int:
    """The most similar centre; -1 when the text shares no word with any centre (rather
    than letting such texts pile up in the first group)."""
    if index is None:
        index = _index(centres)
    scores = [0.0] * len(centres)
    for word, weight in vector.items():
        for number, centre_weight in index.get(word, ()):
            scores[number] += weight * centre_weight
    best = max(scores)
    return scores.index(best) if best > 0 else -1


def _kmeans(
    vectors: list[dict[str, float]], k: int, rng: random.Random
) -> tuple[list[int], list[dict[str, float]], float]:
    centres = _seeds(vectors, k, rng)
    assignment: list[int] = []
    for _ in range(_ITERATIONS):
        index = _index(centres)
        new = [_nearest(vector, centres, index) for vector in vectors]
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
    place = {word: number for number, word in enumerate(ranked)}
    chosen: list[str] = []
    texts = members
    for _ in range(len(ranked)):
        spread = Counter(word for doc in texts for word in doc if word in centre)
        candidates = [w for w in ranked if w not in chosen and spread[w] > 0]
        if not candidates:
            candidates = [w for w in ranked if w not in chosen]
        if not candidates:
            break
        best = max(candidates, key=lambda w: (centre[w] * math.sqrt(spread[w]), -place[w]))
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


def _merge_tiny(
    vectors: list[dict[str, float]], assignment: list[int], centres: list[dict[str, float]]
) -> list[int]:
    """Texts of a tiny group join the nearest of the groups that are not tiny."""
    sizes = Counter(g for g in assignment if g >= 0)
    least = max(3, math.ceil(TINY_SHARE * len(vectors)))
    kept = [g for g in range(len(centres)) if sizes[g] >= least]
    if not kept or len(kept) == len(centres):
        return assignment
    survivors = [centres[g] for g in kept]
    index = _index(survivors)
    merged = []
    for vector, group in zip(vectors, assignment, strict=True):
        if group >= 0 and sizes[group] < least:
            nearest = _nearest(vector, survivors, index)
            group = kept[nearest] if nearest >= 0 else -1
        merged.append(group)
    return merged


def topics_of_documents(documents: Sequence[Sequence[str]], *, seed: int = SEED) -> list[str]:
    """The topic label of each text given as its content words (:func:`content_words`):
    stored texts are grouped again from their kept words, without reading them again."""
    shown: dict[str, Counter[str]] = {}
    keyed: list[list[str]] = []
    for document in documents:
        keys = []
        for word in document:
            key = jtext.search_key(word)
            shown.setdefault(key, Counter())[word] += 1
            keys.append(key)
        keyed.append(keys)
    near = _neighbours(keyed)
    widened = [[n for w in set(doc) for n in near.get(w, ())] for doc in keyed]
    vectors = _tf_idf(keyed, widened)
    usable = [i for i, vector in enumerate(vectors) if vector]
    topics = [NO_TOPIC] * len(keyed)
    if len(usable) < 2:
        return topics
    k = min(topic_count(len(usable)), len(usable))
    rng = random.Random(seed)
    sample = usable if len(usable) <= FIT_SAMPLE else sorted(rng.sample(usable, FIT_SAMPLE))
    chosen = [vectors[i] for i in sample]
    # Restarts matter most for small batches; a large sample is stable with two.
    restarts = _RESTARTS if len(chosen) <= 2000 else 2
    best = max((_kmeans(chosen, k, rng) for _ in range(restarts)), key=lambda run: run[2])
    _assignment, centres, _fit = best
    members = [vectors[i] for i in usable]
    lookup = _index(centres)
    assignment = [_nearest(vector, centres, lookup) for vector in members]
    assignment = _merge_tiny(members, assignment, centres)
    # Centres again from the final groups, so the labels describe what is in them.
    groups: list[list[dict[str, float]]] = [[] for _ in centres]
    for vector, group in zip(members, assignment, strict=True):
        if group >= 0:
            groups[group].append(vector)
    centres = [_centre(found) if found else centres[g] for g, found in enumerate(groups)]
    labels = _labels(assignment, centres, [keyed[i] for i in usable])
    display = {key: forms.most_common(1)[0][0] for key, forms in shown.items()}
    for index, group in zip(usable, assignment, strict=True):
        if group >= 0:
            words = labels[group].split("・")
            topics[index] = "・".join(display.get(word, word) for word in words)
    return topics
