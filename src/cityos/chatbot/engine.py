"""The FAQ answering engine: pure (no database), built once from the entries, fast to ask.

A question is matched against every entry in five ways at once, each a BM25 ranking whose
scores are precomputed at build time so that asking is a few sparse additions (numpy), and
in a sixth by meaning:

* words of the entry's question (with its category), of its answer, and of both together:
  Sudachi's normalized form folded with :func:`cityos.core.text.search_key`, so
  子ども/子供/こども and ごみ/ゴミ meet, plus one shared term per synonym group
  (粗大ごみ = 大型ごみ) from the staff's table, plus the parts of compound nouns
  (納税証明書 -> 納税, 証明) so that a question naming part of a compound meets it;
* 2- and 3-grams of the reading (in hiragana) of the entry's question and answer, so that
  kana-only questions (じゅうみんひょう), typos (住民表) and 塵 = ごみ still meet;
* and, beside BM25, meaning: the cosine between the IDF-weighted sums of the word vectors
  (word_vectors(), from chiVe) of the question and of the entry, so that a question in other
  words (引っ越し for the FAQ's 転居, 猫 near 犬) still ranks the entry it means high.

A kana-only chunk of a question (じゅうみんひょう ほしい, しゅうしゅうび) is first read back
into the FAQ's own words by their readings (voicing, small kana and long vowels folded), as
learnt from the entries at build time; so is a run of nouns with a word the FAQ never uses that
reads as one of its words (印監 -> 印鑑, ハサードマップ -> ハザードマップ: Analyzer._repaired).
English, Chinese and Korean questions are turned into Japanese terms with a bundled glossary
(kanji-only text is Chinese only when it has a character Japanese does not write or a Chinese
function word). English nouns the glossary does not know are looked up in a general list
derived from JMdict (general_lexicon()), keeping only headwords the FAQ itself uses; they help
rank the entries but do not raise the confidence, and a question understood only through them
gets suggestions, never an answer.

Each channel's score is divided by the best score the question could reach in it, so the
mix is in [0, 1] and comparable between questions (meaning adds up to DENSE_WEIGHT to it). On a long question part of the reading
channels' weight moves to the words (length_mix()), and words that only make a question polite
(POLITE) give neither words nor readings. The confidence is a logistic model over
size-independent features (how much of what it could reach the best entry reaches, how far
ahead it is, how many of the question's words it holds, how many the FAQ never uses, whether
the channels agree, how near in meaning it is), fitted on the dev set; a question about
another municipality's service (武蔵野市の…) is held below it. The engine never writes an
answer: an answer is always one entry's own text.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import marisa_trie
import numpy as np

from cityos.chatbot.faqcsv import FaqEntry
from cityos.core import text as jtext
from cityos.core import tokens

QUESTION_LIMIT = 1000  # characters of a question that are read; the rest is ignored
DEFAULT_THRESHOLD = 0.35
SUGGESTIONS = 3
SPEECH_MAX = 120

_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "接尾辞", "副詞"})
# Words that only make a question polite (いただけますでしょうか, お忙しいところ恐れ入りますが,
# よろしくお願いいたします): neither their words nor their readings are matched, so that a
# long polite question is matched on what it asks.
POLITE = frozenset(
    [
        "よろしく",
        "宜しく",
        "お願い",
        "願い",
        "願う",
        "ください",
        "です",
        "ます",
        # humble and polite verbs (戻ってまいりました, 教えていただけますか)
        "参る",
        "まいる",
        "頂く",
        "いただく",
        "致す",
        "いたす",
        "存じる",
        "存ずる",
        "申し上げる",
        "差し上げる",
        "伺う",
        "うかがう",
        "ござる",
        "御座る",
        "おる",
        "下さい",
        "願える",
        "恐れ入る",
        "恐縮",
        "忙しい",
        "手数",
        "教示",
        "幸い",
        "大変",
        "失礼",
        "申し訳",
        "申し訳ない",
        "何卒",
        "是非",
        "ぜひ",
        "詳しい",
        "具体",
        "拝見",
        "承る",
        "構う",
        "可能",
        "つく",
        "度",  # このたび
        "共",  # 私ども
        "私",
        "我々",
        "お知らせ",  # お知らせください
        "知らせ",
        "知らせる",
        "流れ",
        # set phrases of a polite letter (いつもお世話に, 突然のご連絡, について)
        "いつも",
        "突然",
        "宜しい",
        "よろしい",
        "付く",
        "早速",
        "お手数",
        "たびたび",
        "度々",
        "恐れる",
        # greetings and self-introductions (お世話になっております, 突然のご連絡失礼いたします,
        # 初めてご連絡いたします, 市内在住の者です)
        "御世話",
        "お世話",
        "連絡",
        "初めて",
        "者",
    ]
)
# Words that say how a question is asked, not what it is about.
STOPWORDS = (
    frozenset(
        [
            "する",
            "できる",
            "ある",
            "いる",
            "なる",
            "れる",
            "られる",
            "いう",
            "言う",
            "おる",
            "居る",
            "くる",
            "来る",
            "いく",
            "行く",
            "もらう",
            "貰う",
            "くれる",
            "下さる",
            "くださる",
            "為る",
            "思う",
            "考える",
            "知る",
            "分かる",
            "わかる",
            "教える",
            "聞く",
            "訊く",
            "尋ねる",
            "良い",
            "いい",
            "よい",
            "ない",
            "無い",
            "欲しい",
            "ほしい",
            "様",
            "よう",
            "こと",
            "事",
            "もの",
            "物",
            "ため",
            "為",
            "場合",
            "とき",
            "時",
            "ところ",
            "所",
            "方",
            "かた",
            "など",
            "等",
            "的",
            "際",
            "上",
            "中",
            "件",
            "今",
            "みたい",
            "感じ",
            "ちょっと",
            "少し",
            "一寸",
            "すごい",
            "どう",
            "どの",
            "どこ",
            "いつ",
            "何",
            "なに",
            "なん",
            "誰",
            "だれ",
            "どれ",
            "どちら",
            "どんな",
            "いくら",
            "本当",
            "ほんと",
            "全然",
            "やはり",
            "もう",
            "まだ",
            "とても",
            "すぐ",
            "たぶん",
            "多分",
            "結局",
            "ちゃんと",
            "一応",
            "とりあえず",
            "取り敢えず",
            "又",
            "また",
            "質問",
            "回答",
            "答え",
            "問い合わせ",
            "問合せ",
            "教え",
            "知りたい",
            "方法",
            "仕方",
            "やり方",
            "さん",
            "様子",
            "困る",
            "助かる",
            "急ぎ",
            "急ぐ",
            # when the resident's story happened, not what is asked (先日, 最近, 現在)
            "最近",
            "先日",
            "現在",
            "本日",
            "今回",
            "今後",
            "先週",
            "先月",
            "来月",
            "毎回",
        ]
    )
    | POLITE
)
_ENGLISH_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "about",
        "from",
        "into",
        "over",
        "under",
        "up",
        "down",
        "out",
        "off",
        "as",
        "than",
        "then",
        "so",
        "and",
        "or",
        "but",
        "if",
        "not",
        "no",
        "yes",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "please",
        "tell",
        "know",
        "want",
        "wanted",
        "need",
        "needed",
        "get",
        "got",
        "go",
        "going",
        "like",
        "just",
        "some",
        "any",
        "much",
        "many",
        "more",
        "most",
        "also",
        "too",
        "very",
        "really",
        "thanks",
        "thank",
        "hello",
        "hi",
        "dear",
        "sir",
        "madam",
        "help",
        "find",
        "where's",
        "what's",
        "how's",
        "i'm",
        "i'd",
        "i've",
        "it's",
        "don't",
        "can't",
        "cannot",
        "someone",
        "anyone",
        "anything",
        "something",
        "should",
        "possible",
        "way",
        "ways",
        "information",
        "info",
        "let",
        "us",
        # leave (Japan, my child, a bike) says nothing alone, and its stem is that of leaves
        "leave",
        "leaving",
        "left",
    ]
)
# Chinese and Korean words that say how a question is asked (what, how, where, please ...).
_CHINESE_STOP = re.compile(
    "怎么|怎麼|怎样|怎樣|如何|什么|什麼|哪里|哪裡|哪儿|哪兒|哪个|哪個|为什么|為什麼|几|幾|吗|嗎|呢|吧|"
    "我们|我們|我|你们|你們|你|您|他|她|的|了|是|在|有|没有|沒有|要|想|需要|可以|能|应该|應該|"
    "请问|請問|请|請|一下|时候|時候|时|時|去|做|办|辦|给|給|和|或|还是|還是|这|這|那|吗"
)
_KOREAN_STOP = (
    "어떻게", "어디", "어느", "무엇", "뭐", "뭘", "언제", "누가", "왜", "얼마나", "있나요", "있어요",
    "있습니까", "있을까요", "해요", "하나요", "합니까", "할까요", "하고", "하는", "하려면", "싶어요",
    "싶습니다", "싶은데", "알려", "가르쳐", "주세요", "필요한", "필요해요", "되나요", "돼요", "수",
    "저는", "제가", "우리", "좀", "그", "이", "저", "까지", "에서", "으로",
)  # fmt: skip
_PROMPT_LIKE = re.compile(
    r"ignore (?:all |the |your |previous |above |prior )*(?:faq|instructions?|rules?|prompts?)"
    r"|disregard|system prompt|you are now|act as|pretend|jailbreak|roleplay|role-play"
    r"|(?:faq|指示|命令|ルール|設定|プロンプト)(?:は|を)?(?:無視|むし)"
    r"|(?:無視|むし)して|あなたは.{0,20}(?:として|になりきって)|なりきって|ロールプレイ"
    r"|システムプロンプト|(?:詩|ポエム|小説|物語|歌詞|俳句|短歌|冗談|ジョーク)を(?:書|作|詠)",
    re.IGNORECASE,
)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3041-\u309f\u30a1-\u30ff]")
_KANJI = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z][a-z'\-]*|[0-9]+")
_MUNICIPALITY = ("市", "区", "町", "村")
_KANA_ONLY = re.compile(r"[\u3041-\u309f\u30a1-\u30ff]+")
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30fa\u30fc]+")
_SMALL_KANA = frozenset("ぁぃぅぇぉゃゅょゎ")
_CHUNK = re.compile(r"[^\s、。，．,.!?！？・]+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_MARKUP = re.compile(r"<[^>]{0,200}>|[*#_`|>\[\]]+")

# BM25 parameters and the channel mix, chosen on tests/data/chatbot/dev.jsonl only: the mix
# by 5-fold cross-validation over a grid (benchmarks/chatbot_tune.py --mixes; every fold chose
# this point, cross-validated top-1 0.867); K1 and B were left at the usual values, which no
# per-channel change beat on dev. word_qa is one BM25 over an entry's question and answer
# together, so that a word found in either counts once at the entry's full length.
K1 = 1.2
B = 0.75
CHANNELS = ("word_q", "word_a", "char_q", "char_a", "word_qa")
MIX = {"word_q": 0.25, "word_a": 0.0417, "char_q": 0.25, "char_a": 0.0833, "word_qa": 0.375}
BM25: dict[str, tuple[float, float]] = {}  # channel -> (k1, b) where not K1, B
# On a question of more than LONG_START word terms, up to LONG_SHIFT of the reading channels'
# weight moves to word_qa (all of it LONG_SPAN terms later): see length_mix(). Chosen on dev
# by 5-fold cross-validation (benchmarks/chatbot_tune.py --long: four folds of five chose this
# point; top-1 on dev 0.864 -> 0.873, and on dev questions padded with polite set phrases
# 0.832 -> 0.847).
LONG_START = 4
LONG_SPAN = 4
LONG_SHIFT = 0.6
# A question word the FAQ never uses counts in the reachable score as a rare word would.
OOV_DF = 1.0
GROUPED_WEIGHT = 0.3
PART_WEIGHT = 0.5  # a part of a compound the question uses (転入 of 転入届)
# The confidence is a logistic model over confidence_features() (in that order), fitted on
# the dev set (benchmarks/chatbot_tune.py --fit; 5-fold figures: 84% of answerable questions
# answered right, 85% of unanswerable ones declined) with the bias shifted so that
# DEFAULT_THRESHOLD is the cut that maximizes the share of answerable dev questions answered
# right plus the share of unanswerable ones declined. The threshold trades one for the other;
# on dev (answered right / declined / wrongly declined): 0.15: 0.88 / 0.71 / 0.05,
# 0.25: 0.87 / 0.81 / 0.08, 0.35: 0.84 / 0.93 / 0.12, 0.50: 0.77 / 0.93 / 0.21.
# A city moves it with CITYOS_CHATBOT_THRESHOLD.
CONFIDENCE_WEIGHTS = (
    1.0201,
    -2.244,
    0.7749,
    -0.3988,
    2.7125,
    0.4129,
    0.3765,
    0.9407,
    1.4417,
    -0.1309,
    -1.3198,
    0.6394,
)
OTHER_PLACE_FACTOR = 0.4  # "<a municipality the FAQ never names>の ..."
CONFIDENCE_BIAS = -2.4636
# A kana-only chunk is read as the FAQ's words when they cover this share of its kana.
KANA_COVERAGE = 0.5
# A run of up to REPAIR_LONGEST question words, one of them unknown to the FAQ, that reads as
# one of the FAQ's words of at least REPAIR_SHORTEST kana (folded) is taken for it (typos).
REPAIR_LONGEST = 3
REPAIR_SHORTEST = 4
# A katakana word the FAQ never uses, of CLIP_SHORTEST+ morae, that starts exactly one of the
# FAQ's katakana words of CLIP_PREFIX_LONGER+ morae is read as that word (インフル, マイナ).
CLIP_SHORTEST = 3
CLIP_PREFIX_LONGER = 5
# A clipping the word vectors know is read so only when its cosine with the words it would
# stand for is at least this (ファミサポ 0.25, デジカメ 0.66; マイカー -0.18, パート 0.04).
CLIP_MEANING = 0.2
# An English word (or phrase of up to three) the glossary does not know is looked up in the
# general JMdict list (general_lexicon()); of its headwords, the first GENERAL_TOP that the FAQ
# itself uses are asked, sharing GENERAL_WEIGHT between them.
GENERAL_TOP = 2
GENERAL_WEIGHT = 1.0
GENERAL_LONGEST = 3
# Korean words the glossary does not know are read as Sino-Korean words of up to this many
# syllables (korean_sino_words()), keeping those whose kanji the FAQ uses.
KOREAN_LONGEST = 8
# The meaning channel (see word_vectors()): an entry is the IDF-weighted sum of the vectors of
# its question's words plus DENSE_ANSWER times those of its answer's, a question likewise, and
# their cosine (never below 0) adds DENSE_WEIGHT of the question's reachable score. Chosen on
# dev (benchmarks/chatbot_tune.py --dense): top-3 0.967 -> 0.98 while top-1 stayed at 0.90.
DENSE_WEIGHT = 0.3
DENSE_ANSWER = 0.3


@dataclass(frozen=True)
class Suggestion:
    faq_id: str
    question: str

    def as_json(self) -> dict[str, str]:
        return {"faq_id": self.faq_id, "question": self.question}


@dataclass
class Answer:
    answered: bool
    faq_id: str | None
    question: str | None
    answer: str | None
    confidence: float
    suggestions: list[Suggestion] = field(default_factory=list)
    speech: str = ""
    category: str = ""
    department: str = ""
    url: str = ""
    updated: str = ""
    reason: str = ""  # why it was declined: empty, no-words, prompt, low-confidence
    translated: bool = False  # the question was read through the glossary (not Japanese)

    def as_json(self) -> dict[str, Any]:
        """Exactly what ``cityos chatbot ask --json`` prints."""
        return {
            "answered": self.answered,
            "faq_id": self.faq_id,
            "question": self.question,
            "answer": self.answer,
            "confidence": round(self.confidence, 4),
            "suggestions": [s.as_json() for s in self.suggestions],
        }


def speech_text(answer: str, limit: int = SPEECH_MAX) -> str:
    """The answer's first sentence(s), plain (no URLs, no markup), for a smart speaker."""
    plain = _MARKUP.sub("", _URL.sub("", answer))
    plain = " ".join(jtext.normalize(plain).split())
    plain = re.sub(r"[(（]\s*[)）]", "", plain).strip()
    said = ""
    for sentence in _SENTENCE_END.split(plain):
        sentence = sentence.strip()
        if not sentence:
            continue
        if said and len(said) + len(sentence) > limit:
            break
        said += sentence
        if len(said) >= limit // 2:
            break
    if len(said) > limit:
        said = said[: limit - 1] + "…"
    return said


def prompt_like(question: str) -> bool:
    """Text that tries to instruct the bot rather than ask the FAQ something."""
    return _PROMPT_LIKE.search(jtext.normalize(question)) is not None


@dataclass(frozen=True)
class Greeting:
    """A message that only greets or thanks: its language (ja, en, zh, ko) and kind (hello,
    morning, evening, thanks)."""

    language: str
    kind: str


GREETING_MAX = 60  # characters: a longer message asks something
_GREETING_PIECES = 8
_GREETING_SPLIT = re.compile(r"[\W_]+")
GREETING_KINDS = ("hello", "morning", "evening", "thanks")


def _greeting_key(piece: str) -> str:
    return jtext.search_key(piece).rstrip("ーっ")


@cache
def _greeting_table() -> tuple[
    dict[str, tuple[str, str]],
    dict[str, tuple[str, ...]],
    dict[str, tuple[str, ...]],
    frozenset[str],
]:
    """(greeting -> (language, kind), language -> prefixes, language -> suffixes, words)."""
    greetings: dict[str, tuple[str, str]] = {}
    prefixes: dict[str, list[str]] = {}
    suffixes: dict[str, list[str]] = {}
    words: set[str] = set()
    for row in _data_lines("greetings.tsv"):
        if len(row) < 3:
            continue
        language, kind, *written = row
        keys = [_greeting_key(w) for w in written if _greeting_key(w)]
        if kind in GREETING_KINDS:
            for key in keys:
                greetings.setdefault(key, (language, kind))
        elif kind == "prefix":
            prefixes.setdefault(language, []).extend(keys)
        elif kind == "suffix":
            suffixes.setdefault(language, []).extend(keys)
        elif kind == "word":
            words.update(keys)
    by_length = {  # longest first, so that ございました is tried before です
        language: tuple(sorted(set(found), key=len, reverse=True))
        for language, found in prefixes.items()
    }
    ends = {
        language: tuple(sorted(set(found), key=len, reverse=True))
        for language, found in suffixes.items()
    }
    return greetings, by_length, ends, frozenset(words)


def _greeting_piece(piece: str) -> tuple[str, str] | None:
    """(language, kind) of one piece of a message that is a greeting, with the prefixes and
    suffixes of its language allowed around it (どうもありがとうございました)."""
    greetings, prefixes, suffixes, _words = _greeting_table()
    found = greetings.get(piece)
    if found is not None:
        return found
    for language in {language for language, _kind in greetings.values()}:
        candidates = {piece}
        for prefix in prefixes.get(language, ()):
            candidates |= {c[len(prefix) :] for c in list(candidates) if c.startswith(prefix)}
        for suffix in suffixes.get(language, ()):
            candidates |= {
                c[: -len(suffix)].rstrip("ーっ") for c in list(candidates) if c.endswith(suffix)
            }
        for candidate in candidates:
            found = greetings.get(candidate)
            if found is not None and found[0] == language:
                return found
    return None


def greeting_of(question: str) -> Greeting | None:
    """The greeting a message is when it is only a greeting or thanks (こんにちは, おはようございます！,
    ありがとうございました😊, hi there, thank you so much, 你好, 谢谢, 안녕하세요, 감사합니다);
    None for anything that also asks something (こんにちは、粗大ごみの出し方は？)."""
    written = jtext.normalize(question or "").strip()
    if not written or len(written) > GREETING_MAX:
        return None
    pieces = [p for p in (_greeting_key(p) for p in _GREETING_SPLIT.split(written)) if p]
    if not pieces or len(pieces) > _GREETING_PIECES:
        return None
    words = _greeting_table()[3]
    found: list[tuple[str, str]] = []
    for piece in pieces:
        greeting = _greeting_piece(piece)
        if greeting is not None:
            found.append(greeting)
        elif piece not in words:
            return None
    if not found:
        return None
    language = found[0][0]
    kinds = [kind for _language, kind in found]
    return Greeting(language, "thanks" if "thanks" in kinds else kinds[0])


# --- reading the bundled tables ------------------------------------------------------------


def _data_lines(name: str) -> list[list[str]]:
    path = resources.files("cityos.chatbot") / "data" / name
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if line:
            rows.append([cell.strip() for cell in line.split("\t") if cell.strip()])
    return rows


@cache
def bundled_synonyms() -> tuple[tuple[str, ...], ...]:
    """Synonym groups shipped with cityos (staff edit their own copy in the database)."""
    return tuple(tuple(row) for row in _data_lines("synonyms.tsv") if len(row) >= 2)


@dataclass(frozen=True)
class Glossary:
    """The bundled glossary (glossary.tsv), read once."""

    phrases: dict[tuple[str, ...], str]  # Latin-script phrases as stemmed word tuples
    # The same by their words as written (lower case), looked up before the stems, so that
    # forms the crude stem merges keep their own terms (park and parking, book and books).
    written: dict[tuple[str, ...], str]
    hyphenated: frozenset[str]  # hyphenated words it lists (non-burnable), kept whole
    strings: dict[str, str]  # CJK and Hangul strings, longest first (大型垃圾 before 垃圾)


@cache
def glossary() -> Glossary:
    """English, Chinese and Korean words and phrases -> the Japanese terms the FAQ uses."""
    phrases: dict[tuple[str, ...], str] = {}
    written: dict[tuple[str, ...], str] = {}
    strings: dict[str, str] = {}
    for row in _data_lines("glossary.tsv"):
        if len(row) < 2:
            continue
        source, japanese = row[0], " ".join(row[1:])
        words = tuple(_LATIN_WORD.findall(source.casefold()))
        if source.isascii() and words:
            phrases.setdefault(tuple(_stem(w) for w in words), japanese)
            written.setdefault(words, japanese)
        else:
            strings.setdefault(jtext.normalize(source), japanese)
    hyphenated = frozenset(w for words in written for w in words if "-" in w)
    strings = dict(sorted(strings.items(), key=lambda item: -len(item[0])))
    return Glossary(phrases, written, hyphenated, strings)


@cache
def general_lexicon() -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    """English nouns and short noun phrases -> Japanese headwords, best first: the JMdict list
    built by scripts/build_en_ja_lexicon.py, by the words as written (goods) and by their stems
    (good, goods), where the forms of a word share their headwords in the order they come."""
    path = resources.files("cityos.chatbot") / "data" / "en_ja_jmdict.tsv.gz"
    written: dict[str, tuple[str, ...]] = {}
    merged: dict[tuple[str, ...], list[str]] = {}
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        english, *japanese = line.split("\t")
        key = tuple(_stem(w) for w in _LATIN_WORD.findall(english))
        if not key or not japanese:
            continue
        written[english] = tuple(japanese)
        forms = merged.setdefault(key, [])
        forms.extend(form for form in japanese if form not in forms)
    return written, {key: tuple(forms) for key, forms in merged.items()}


class SinoWords:
    """Korean word -> the kanji words it is, in a trie (a dict of the 186,017 words would
    hold some 75 MB in every server process; the trie holds a few)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._trie = marisa_trie.BytesTrie(
            (korean, japanese.encode("utf-8"))
            for korean, _tab, japanese in (line.partition("\t") for line in lines)
            if japanese
        )

    def get(self, korean: str) -> tuple[str, ...]:
        found = self._trie.get(korean)
        return tuple(found[0].decode("utf-8").split("\t")) if found else ()


@cache
def korean_sino_words() -> SinoWords:
    """Korean words -> the kanji words they are, in Japanese forms (전입 -> 転入, 예방접종 ->
    予防接種): the list built from libhangul's hanja dictionary by
    scripts/build_ko_hanja_lexicon.py."""
    path = resources.files("cityos.chatbot") / "data" / "ko_hanja.tsv.gz"
    return SinoWords(gzip.decompress(path.read_bytes()).decode("utf-8").splitlines())


@dataclass(frozen=True)
class WordVectors:
    """Word -> a vector of its meaning (see word_vectors()), for the words in ``keys``."""

    keys: np.ndarray[Any, Any]  # search keys, UTF-8, sorted
    rows: np.ndarray[Any, Any]  # the matrix row of each key
    matrix: np.ndarray[Any, Any]  # one vector a row, of length 1

    def of(self, words: Sequence[str]) -> np.ndarray[Any, Any]:
        """The vectors of ``words`` (search keys), one a row; a row of zeros for a word the
        list does not have."""
        found = np.zeros((len(words), self.matrix.shape[1]), dtype=np.float32)
        if not words:
            return found
        encoded = [w.encode("utf-8") for w in words]
        width = self.keys.dtype.itemsize
        wanted = np.array([e if len(e) <= width else b"" for e in encoded], dtype=self.keys.dtype)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        hit = (self.keys[at] == wanted) & (wanted != b"")
        found[hit] = self.matrix[self.rows[at[hit]]]
        return found


@cache
def word_vectors() -> WordVectors:
    """Japanese word vectors: chiVe's (Works Applications, Apache 2.0) as GiNZA ships them,
    reduced to 100 dimensions and keyed by :func:`cityos.core.text.search_key`, from
    ``ja_vectors.bin.gz`` (built by scripts/build_ja_vectors.py, which says how)."""
    path = resources.files("cityos.chatbot") / "data" / "ja_vectors.bin.gz"
    body = gzip.decompress(path.read_bytes())
    end = body.index(b"\n")
    header = json.loads(body[:end])
    dims, count, words = int(header["dims"]), int(header["vectors"]), int(header["words"])
    start = end + 1
    stored = np.frombuffer(body, dtype=np.int8, count=count * dims, offset=start)
    matrix = stored.reshape(count, dims).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    start += count * dims
    rows = np.frombuffer(body, dtype="<u2", count=words, offset=start).astype(np.int32)
    keys = np.array(body[start + 2 * words :].split(b"\n"))
    return WordVectors(keys, rows, matrix)


_MUNICIPALITY_WORDS = frozenset({"city", "ward", "town", "village", "shi", "ku"})


@cache
def municipalities() -> dict[str, str]:
    """Other municipalities in English or romaji (musashino) -> their Japanese names (武蔵野市)."""
    return {row[0].casefold(): row[1] for row in _data_lines("municipalities.tsv") if len(row) >= 2}


def _stem(word: str) -> str:
    """A crude English stem, the same for a word's forms (move, moves, moved, moving)."""
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif (word.endswith("ed") and len(word) > 4) or word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


@cache
def _english_stop() -> frozenset[str]:
    return frozenset(_stem(w) for w in _ENGLISH_STOP) | _ENGLISH_STOP


_CHINESE_FUNCTION = re.compile("[吗嗎呢么麼哪怎我你们們吧]|什么|什麼|可以|没有|沒有|需要")


def _chinese(written: str) -> bool:
    """Kanji without kana is Chinese when it has a character Japanese does not write (the
    simplified 办, 补, 鹰 are outside Shift_JIS) or a Chinese function word (吗, 怎么, 我);
    otherwise it is a Japanese question written in kanji only (納税証明書, 転入届)."""
    if _CHINESE_FUNCTION.search(written):
        return True
    for char in _KANJI.findall(written):
        try:
            char.encode("cp932")
        except UnicodeEncodeError:
            return True
    return False


@cache
def _opencc() -> tuple[Any, Any]:
    import opencc  # the package ships its dictionaries; nothing is fetched at run time

    return opencc.OpenCC("s2t"), opencc.OpenCC("t2jp")


def _japanese_kanji(text: str) -> str:
    """Chinese characters in the forms Japanese writes: simplified to traditional (OpenCC s2t),
    then traditional to the Japanese shinjitai (t2jp): 证明 -> 證明 -> 証明."""
    to_traditional, to_japanese = _opencc()
    return str(to_japanese.convert(to_traditional.convert(text)))


@dataclass(frozen=True)
class Translation:
    text: str  # Japanese (the question's own, or the glossary's terms)
    translated: bool
    unknown: list[str]  # stemmed foreign words the glossary does not know
    # Runs of consecutive English words the glossary left (as written, lower case; function
    # words kept, so that "certificate of residence" can still be looked up as a phrase).
    runs: tuple[tuple[str, ...], ...] = ()
    # Capitalized English words inside a sentence that the glossary does not know (Musashino,
    # Osaka, Ghibli): names, as Sudachi's proper nouns are for a Japanese question.
    names: tuple[str, ...] = ()


_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)\b")


def translate(question: str) -> Translation:
    """Japanese terms for an English, Chinese or Korean question; Japanese passes through."""
    written = jtext.normalize(question)
    has_kana = _KANA.search(written) is not None
    latin = [w for w in _LATIN_WORD.findall(written.casefold()) if not w.isdigit()]
    hangul = _HANGUL.search(written) is not None
    chinese = not has_kana and _KANJI.search(written) is not None and _chinese(written)
    # Japanese: kana, or kanji that is not Chinese (3歳児健診, AED 場所, 転入届).
    japanese = has_kana or (not chinese and not hangul and _KANJI.search(written) is not None)
    if japanese and len(latin) < 3:
        return Translation(written, False, [])
    if not latin and not hangul and not chinese:
        return Translation(written, False, [])
    table = glossary()
    phrases, strings = table.phrases, table.strings
    terms: list[str] = []
    unknown: list[str] = []
    rest = written
    if hangul or chinese:
        for source in strings:
            if source in rest:
                terms.append(strings[source])
                rest = rest.replace(source, " ")
    written_phrases, hyphenated = table.written, table.hyphenated
    raw = []
    for word in _LATIN_WORD.findall(rest.casefold()):
        # A hyphenated word the glossary does not list is read as its parts (sick-child,
        # drop-off), one the glossary lists stays whole (non-burnable, day-care).
        if "-" in word.strip("-") and word not in hyphenated:
            raw += [part for part in word.split("-") if part]
        else:
            raw.append(word)
    words = [_stem(w) for w in raw]
    stop = _english_stop()
    runs: list[tuple[str, ...]] = []
    run: list[str] = []
    i = 0
    places = municipalities()
    while i < len(words):
        place = places.get(raw[i].removesuffix("'s"))
        if place is not None:
            # Another municipality: "Musashino's", "in Musashino", "Musashino City's" ask its
            # service (武蔵野市の…); "from Musashino" only names it.
            after = raw[i + 1].removesuffix("'s") if i + 1 < len(raw) else ""
            size = 2 if after in _MUNICIPALITY_WORDS else 1
            asks_its = raw[i + size - 1].endswith("'s") or (
                i > 0 and raw[i - 1] in ("in", "of", "at", "for")
            )
            terms.append(place + ("の" if asks_its else ""))
            i += size
            if run:
                runs.append(tuple(run))
                run = []
            continue
        for size in (5, 4, 3, 2, 1):
            found = None
            if i + size <= len(words):
                found = written_phrases.get(tuple(raw[i : i + size]))
                if found is None:
                    found = phrases.get(tuple(words[i : i + size]))
            if size == 1 and raw[i] in _ENGLISH_STOP:
                found = None  # "can" the verb is not "cans"
            if found is not None:
                terms.append(found)
                i += size
                if run:
                    runs.append(tuple(run))
                    run = []
                break
        else:
            if words[i] not in stop:
                unknown.append(words[i])
            run.append(raw[i])
            i += 1
    if run:
        runs.append(tuple(run))
    if hangul:
        unknown += [
            w
            for w in re.findall(r"[\uac00-\ud7a3]{2,}", rest)
            if not any(w.startswith(stop_word) for stop_word in _KOREAN_STOP)
        ]
    found_any = bool(terms)
    if chinese:
        rest = _CHINESE_STOP.sub(" ", rest)
    if chinese and _KANJI.search(rest):
        # Kanji left over keep their meaning as written (医院, 保险 ...), in the Japanese forms
        # (收入证明 -> 収入証明, 岁 -> 歳) so that they meet the FAQ's words.
        terms.append(_japanese_kanji(re.sub(r"[^\u4e00-\u9fff]+", " ", rest)))
    if japanese:
        terms.insert(0, re.sub(r"[A-Za-z][A-Za-z'\-]*", " ", written))
    # Runs made only of function words (how, do, I) look nothing up.
    kept = tuple(r for r in runs if any(_stem(w) not in stop for w in r))
    capitalized = {m.casefold() for m in _CAPITALIZED.findall(written.strip())}
    names = tuple(_stem(w) for w in raw if w in capitalized and _stem(w) in unknown)
    translated = found_any or bool(latin) or hangul
    return Translation(" ".join(terms), translated, unknown, kept, names)


# --- analysing text ----------------------------------------------------------------------


@dataclass(frozen=True)
class Analysed:
    words: list[str]
    chars: list[str]
    grouped: frozenset[str] = frozenset()  # words that also gave a synonym group term
    parts: frozenset[str] = frozenset()  # words that are only parts of a compound (転入 of 転入届)
    names: frozenset[str] = frozenset()  # proper nouns (武蔵野, 八王子, NHK)
    places: frozenset[str] = frozenset()  # municipalities whose service is asked (武蔵野市の)
    # Word terms looked up for English the glossary left (FaqIndex._general_terms): ranked on,
    # but not counted as the question's own words when the confidence is computed.
    general: frozenset[str] = frozenset()


class Analyzer:
    """Text -> word terms (with synonym group terms) and reading n-grams."""

    def __init__(self, synonym_groups: Iterable[Iterable[str]]) -> None:
        self.groups: dict[tuple[str, ...], list[str]] = {}
        self.longest = 1
        self.lexicon: dict[str, tuple[str, ...]] = {}  # folded kana reading -> word terms
        self.lexicon_longest = 0
        self.known: set[str] = set()  # the word terms whose readings were learnt
        # Katakana clippings of the FAQ's words (see _unclipped): ふぁみさぽ -> ふぁみりー さぽーと
        self.clipped: dict[str, tuple[str, ...]] = {}
        self.katakana: set[str] = set()  # the FAQ's katakana words of CLIP_PREFIX_LONGER+ morae
        for group in synonym_groups:
            members = [m for m in group if m]
            if len(members) < 2:
                continue
            keys = [tuple(self._content(tokens.words(m))[0]) for m in members]
            keys = [k for k in keys if k]
            if len(keys) < 2:
                continue
            label = "≡" + "+".join(keys[0])
            for key in keys:
                labels = self.groups.setdefault(key, [])
                if label not in labels:  # a word may be in several groups
                    labels.append(label)
                self.longest = max(self.longest, len(key))

    @staticmethod
    def _content(
        words: Sequence[tokens.Word], names: set[str] | None = None, asked: bool = False
    ) -> tuple[list[str], list[str], list[str]]:
        keys: list[str] = []
        readings: list[str] = []
        parts: list[str] = []
        for index, word in enumerate(words):
            if word.pos in ("助詞", "助動詞", "補助記号", "空白", "記号"):
                continue
            surface = word.surface
            if surface.isascii():
                reading = surface.casefold()
            else:
                reading = jtext.search_key(word.reading or surface)
            key = Analyzer._key(word)
            if key is not None or not (asked and _said_how(word)):
                # Words that only say how a question is asked (いただけますでしょうか,
                # お忙しいところ) would fill the reading channels with noise on long questions.
                readings.append(reading)
            if surface == "何" and index + 1 < len(words) and words[index + 1].surface == "時":
                key = "何時"  # 何 + 時 as Sudachi sometimes cuts it
            if key is not None:
                keys.append(key)
                if word.pos == "名詞" and len(surface) >= 3 and _KANJI.search(surface):
                    parts.extend(p for p in _compound_parts(surface) if p != key)
                if names is not None and word.detail == "固有名詞":
                    names.add(key)
                    if surface.endswith(_MUNICIPALITY) and len(surface) > 1 and _of(words, index):
                        names.add("@" + key)  # 武蔵野市 written as one word
            elif (
                names is not None
                and surface in _MUNICIPALITY
                and index > 0
                and words[index - 1].detail == "固有名詞"
                and _of(words, index)
            ):
                previous = Analyzer._key(words[index - 1])
                if previous:
                    names.add("@" + previous)  # 武蔵野 + 市
        return keys, readings, parts

    @staticmethod
    def _key(word: tokens.Word) -> str | None:
        """The term a content word is indexed under; None for other words."""
        if word.surface == "何時":
            return "何時"  # asks for a time (opening hours), whichever reading Sudachi picks
        if word.pos not in _CONTENT_POS:
            return None
        surface = word.surface
        key = jtext.search_key(word.normalized or word.base or surface)
        if surface.isascii():
            key = surface.casefold()
        if (
            not key
            or key in STOPWORDS
            or word.base in STOPWORDS
            or surface in STOPWORDS
            or (len(key) == 1 and key.isascii())
            or (len(key) == 1 and "\u3041" <= key <= "\u309f")
        ):
            return None
        return key

    def learn_readings(self, written: str | Sequence[tokens.Word]) -> None:
        """Remember the readings of ``written``'s content words (and of runs of up to three
        nouns, 収集+日), so that a kana-only question can be read back into those words."""
        run: list[tuple[str, str]] = []
        words = tokens.words(written) if isinstance(written, str) else written
        self._learn_clippings(words)
        for word in [*words, None]:
            key = self._key(word) if word is not None else None
            if word is None or key is None:
                run = []
                continue
            self.known.add(key)
            reading = _fold_kana(jtext.search_key(word.reading or word.surface))
            if not _KANA_ONLY.fullmatch(reading):
                run = []
                continue
            run = [*run[-2:], (key, reading)] if word.pos == "名詞" else [(key, reading)]
            for start in range(len(run)):
                joined = "".join(r for _k, r in run[start:])
                if len(joined) >= 2:
                    self.lexicon.setdefault(joined, tuple(k for k, _r in run[start:]))
                    self.lexicon_longest = max(self.lexicon_longest, len(joined))
            if word.pos != "名詞":
                run = []

    def _learn_clippings(self, words: Sequence[tokens.Word]) -> None:
        """Remember how residents clip the FAQ's katakana words: two morae of each of two
        words in a row (ファミリー・サポート -> ファミサポ, ケア マネージャー -> ケアマネ), and the long
        words themselves, whose first morae are clipped too (インフルエンザ -> インフル)."""
        previous = ""
        for word in words:
            if word.surface == "・" and previous:
                continue  # ファミリー・サポート: the dot keeps the words together
            key = self._key(word) if word.pos == "名詞" else None
            if key is None or not _KATAKANA_WORD.fullmatch(word.surface):
                previous = ""
                continue
            if len(_morae(key)) >= CLIP_PREFIX_LONGER:
                self.katakana.add(key)
            if previous:
                clipping = "".join(_morae(previous)[:2] + _morae(key)[:2])
                found = self.clipped.get(clipping)
                if found is None:
                    self.clipped[clipping] = (previous, key)
                elif found != (previous, key):
                    self.clipped[clipping] = ()  # two readings: none is trusted
            previous = key

    def _unclipped(self, words: Sequence[tokens.Word]) -> list[tokens.Word]:
        """``words`` with a katakana word the FAQ never uses read as the FAQ's words it clips:
        two morae of two words (ファミサポ -> ファミリー サポート, also when cut in two: ファミ|サポ),
        else the start of one long word (インフル -> インフルエンザ, リハビリ -> リハビリテーション)
        that only one of the FAQ's katakana words starts with. A word of its own that means
        something else is left alone (マイカー is not マイナ カード, パート not パートナーシップ)."""
        out: list[tokens.Word] = []
        i = 0
        while i < len(words):
            for size in (2, 1):
                run = words[i : i + size]
                if len(run) < size or not all(self._clippable(w) for w in run):
                    continue
                said = "".join(jtext.search_key(w.surface) for w in run)
                if said in self.known:
                    continue
                found = self.clipped.get(said) or self._started(said, size)
                if not found or not _means_alike(said, found):
                    continue
                out.extend(tokens.Word(k, k, "名詞", "普通名詞", k) for k in found)
                i += size
                break
            else:
                out.append(words[i])
                i += 1
        return out

    def _clippable(self, word: tokens.Word) -> bool:
        return (
            word.pos == "名詞"
            and _KATAKANA_WORD.fullmatch(word.surface) is not None
            and jtext.search_key(word.surface) not in self.known
        )

    def _started(self, said: str, size: int) -> tuple[str, ...]:
        if size != 1 or len(_morae(said)) < CLIP_SHORTEST:
            return ()
        longer = [k for k in self.katakana if k.startswith(said) and len(k) >= len(said) + 2]
        return (longer[0],) if len(longer) == 1 else ()

    def _read_kana(self, chunk: str) -> list[str] | None:
        """The FAQ's words in a kana-only chunk (じゅうみんひょう -> 住民票), read greedily
        longest first; None when they cover too little of it to trust."""
        folded = _fold_kana(jtext.search_key(chunk))
        found: list[str] = []
        covered = 0
        i = 0
        while i < len(folded):
            for size in range(min(self.lexicon_longest, len(folded) - i), 1, -1):
                keys = self.lexicon.get(folded[i : i + size])
                if keys is not None:
                    found.extend(keys)
                    covered += size
                    i += size
                    break
            else:
                i += 1
        if not found or covered < KANA_COVERAGE * len(folded):
            return None
        return found

    def _repaired(self, words: Sequence[tokens.Word]) -> list[tokens.Word]:
        """``words`` with each run of one to three nouns that holds a word the FAQ never uses
        and reads (voicing, small kana and long vowels folded) as one word the FAQ does use
        replaced by that word: the slips of an input method (印監 for 印鑑, ハサードマップ for
        ハザードマップ, 国民健康保健 for 国民健康保険). A run that is a word of its own, one the
        word vectors know (歯医者, not a slip for 廃車), is left alone, and so are verbs (なくなる
        is not 亡くなる). The new word keeps the run's reading for the reading n-grams."""
        repaired: list[tokens.Word] = []
        i = 0
        while i < len(words):
            for size in range(min(REPAIR_LONGEST, len(words) - i), 0, -1):
                run = words[i : i + size]
                if any(w.pos not in ("名詞", "接尾辞") for w in run):
                    continue
                if all(k is None or k in self.known for k in map(self._key, run)):
                    continue
                said = _fold_kana("".join(jtext.search_key(w.reading or w.surface) for w in run))
                found = self.lexicon.get(said)
                if found is None or len(found) != 1 or len(said) < REPAIR_SHORTEST:
                    continue
                if word_vectors().of([jtext.search_key("".join(w.surface for w in run))]).any():
                    continue
                reading = "".join(w.reading or w.surface for w in run)
                repaired.append(
                    tokens.Word(found[0], found[0], "名詞", "普通名詞", found[0], reading)
                )
                i += size
                break
            else:
                repaired.append(words[i])
                i += 1
        return repaired

    def analyse(
        self, written: str, *, asked: bool = False, words: Sequence[tokens.Word] | None = None
    ) -> Analysed:
        names: set[str] = set()
        cut = tokens.words(written) if words is None else words
        if asked and self.known:
            cut = self._repaired(self._unclipped(cut))
        keys, readings, parts = self._content(cut, names, asked)
        if asked and self.lexicon:
            chunks = _CHUNK.findall(written)
            read = [(c, self._read_kana(c)) for c in chunks if _KANA_ONLY.fullmatch(c)]
            if any(found for _c, found in read):
                keys = []
                kana = {c for c, found in read if found}
                rest = " ".join(c for c in chunks if c not in kana)
                for _chunk, found in read:
                    if found:
                        keys.extend(found)
                # Names only from what was not read as the FAQ's words: Sudachi finds proper
                # nouns in long kana (こくみんけんこうほけん -> 民研), which are no names.
                names = set()
                if rest.strip():
                    keys.extend(self._content(tokens.words(rest), names)[0])
        terms = list(keys)
        terms.extend(parts)
        grouped: set[str] = set()
        for start in range(len(keys)):
            for size in range(min(self.longest, len(keys) - start), 0, -1):
                labels = self.groups.get(tuple(keys[start : start + size]))
                if labels:
                    terms.extend(labels)
                    grouped.update(keys[start : start + size])
                    break
        return Analysed(
            terms,
            _ngrams("".join(readings)),
            frozenset(grouped),
            frozenset(parts) - set(keys),
            frozenset(n for n in names if not n.startswith("@")),
            frozenset(n[1:] for n in names if n.startswith("@")),
        )


_VOICED = "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔ"
_UNVOICED = "かきくけこさしすせそたちつてとはひふへほはひふへほう"
_SMALL = "ぁぃぅぇぉっゃゅょゎゕゖ"
_LARGE = "あいうえおつやゆよわかけ"
_FOLD = str.maketrans(_VOICED + _SMALL, _UNVOICED + _LARGE, "ー")


def _said_how(word: tokens.Word) -> bool:
    """Whether a word is only politeness (POLITE: いただく, 恐れ入る, よろしく ...)."""
    normalized = jtext.search_key(word.normalized or word.base or word.surface)
    return normalized in POLITE or word.base in POLITE or word.surface in POLITE


def _of(words: Sequence[tokens.Word], index: int) -> bool:
    """Whether ``words[index]`` is followed by の (武蔵野市の粗大ごみ: that city's service;
    武蔵野市に引っ越す is a move, which this city's FAQ does answer)."""
    return index + 1 < len(words) and words[index + 1].surface == "の"


def _splitter() -> Any:
    # One a thread: a Sudachi tokenizer fails when two threads use it at once.
    return tokens.thread_tokenizer("A")


@lru_cache(maxsize=65536)
def _compound_parts(surface: str) -> tuple[str, ...]:
    """The nouns of two characters or more inside a compound noun (納税証明書 -> 納税, 証明),
    so that a question naming part of a compound still meets it."""
    found = []
    for morpheme in _splitter().tokenize(surface):
        if morpheme.part_of_speech()[0] != "名詞":
            continue
        key = jtext.search_key(morpheme.normalized_form() or morpheme.surface())
        if len(key) >= 2 and key not in STOPWORDS:
            found.append(key)
    return tuple(found) if len(found) > 1 or (found and found[0] != surface) else ()


def _means_alike(word: str, words: Sequence[str]) -> bool:
    """Whether ``word``, when the word vectors know it, is near in meaning to ``words``."""
    vectors = word_vectors()
    own = vectors.of([word])[0]
    if not own.any():
        return True
    whole = vectors.of(list(words))[0]
    norm = float(np.linalg.norm(own) * np.linalg.norm(whole))
    return norm > 0 and float(np.einsum("i,i->", own, whole)) / norm >= CLIP_MEANING


def _morae(kana: str) -> list[str]:
    """The morae of a kana word (small kana belong to the one before): ふぁみりー -> ふぁ み り ー."""
    morae: list[str] = []
    for char in kana:
        if char in _SMALL_KANA and morae:
            morae[-1] += char
        else:
            morae.append(char)
    return morae


def _fold_kana(reading: str) -> str:
    """Hiragana with voicing, small kana and long-vowel marks folded, so that a resident's
    spelling of a reading (しゅうしゅうび, まいなんばあかあど) meets the dictionary's."""
    return reading.translate(_FOLD)


def _ngrams(reading: str) -> list[str]:
    reading = reading.replace("ー", "")
    grams = [reading[i : i + 2] for i in range(len(reading) - 1)]
    grams += ["3" + reading[i : i + 3] for i in range(len(reading) - 2)]
    return grams


# --- the index ---------------------------------------------------------------------------


@dataclass
class _Channel:
    postings: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]
    best: dict[str, float]  # the highest weight of each term over all entries
    oov: float  # what a term no entry has would be worth

    @classmethod
    def build(cls, documents: list[list[str]], k1: float = K1, b: float = B) -> _Channel:
        n = len(documents)
        lengths = np.array([len(d) for d in documents], dtype=np.float64)
        average = float(lengths.mean()) if n and lengths.sum() else 1.0
        by_term: dict[str, list[tuple[int, int]]] = {}
        for index, document in enumerate(documents):
            for term, count in Counter(document).items():
                by_term.setdefault(term, []).append((index, count))
        postings = {}
        best = {}
        for term, hits in by_term.items():
            idf = math.log(1 + (n - len(hits) + 0.5) / (len(hits) + 0.5))
            docs = np.fromiter((h[0] for h in hits), dtype=np.int32, count=len(hits))
            tf = np.fromiter((h[1] for h in hits), dtype=np.float64, count=len(hits))
            norm = k1 * (1 - b + b * lengths[docs] / average)
            weights = (idf * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
            postings[term] = (docs, weights)
            best[term] = float(weights.max())
        oov = math.log(1 + (n - OOV_DF + 0.5) / (OOV_DF + 0.5)) if n else 1.0
        return cls(postings, best, oov)

    def score(self, terms: Mapping[str, float], out: np.ndarray[Any, Any], weight: float) -> float:
        """Add this channel's scores for ``terms`` (term -> query weight) into ``out``;
        answer the best score the question could reach in this channel."""
        reachable = 0.0
        for term, count in terms.items():
            found = self.postings.get(term)
            if found is None:
                reachable += self.oov * count
                continue
            docs, weights = found
            out[docs] += weights * (weight * count)
            reachable += self.best[term] * count
        return reachable * weight


@dataclass
class FaqIndex:
    entries: list[FaqEntry]
    analyzer: Analyzer
    channels: dict[str, _Channel]
    word_sets: list[frozenset[str]]  # each entry's word terms (question + answer)
    by_id: dict[str, int]
    threshold: float = DEFAULT_THRESHOLD
    vocabulary: frozenset[str] = frozenset()  # every word term of every entry
    # Each entry's meaning (see DENSE_WEIGHT), one row of length 1 (or 0) per entry.
    meanings: np.ndarray[Any, Any] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.float32), repr=False
    )
    # A JMdict headword -> its word terms (see _used_forms); filled as questions need them.
    _form_keys: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        entries: Iterable[FaqEntry],
        synonyms: Mapping[str, Iterable[str]] | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> FaqIndex:
        """Index ``entries``; ``synonyms`` maps a word to its synonyms (one group each).

        Without ``synonyms`` the bundled table is used; pass ``{}`` for none."""
        listed = list(entries)
        if synonyms is None:
            groups: list[list[str]] = [list(g) for g in bundled_synonyms()]
        else:
            groups = [[key, *members] for key, members in synonyms.items()]
        analyzer = Analyzer(groups)
        for group in groups:
            for member in group:
                analyzer.learn_readings(member)
        cut = []
        for entry in listed:
            asked_words = tokens.words(f"{entry.question} {entry.category}")
            told_words = tokens.words(entry.answer)
            analyzer.learn_readings(asked_words)
            analyzer.learn_readings(told_words)
            cut.append((asked_words, told_words))
        docs: dict[str, list[list[str]]] = {name: [] for name in CHANNELS}
        word_sets = []
        said: list[tuple[list[str], list[str]]] = []
        for entry, (asked_words, told_words) in zip(listed, cut, strict=True):
            asked = analyzer.analyse(entry.question, words=asked_words)
            told = analyzer.analyse(entry.answer, words=told_words)
            docs["word_q"].append(asked.words)
            docs["word_a"].append(told.words)
            docs["char_q"].append(asked.chars)
            docs["char_a"].append(told.chars)
            docs["word_qa"].append(asked.words + told.words)
            word_sets.append(frozenset(asked.words) | frozenset(told.words))
            said.append((asked.words, told.words))
        channels = {
            name: _Channel.build(documents, *BM25.get(name, (K1, B)))
            for name, documents in docs.items()
        }
        by_id = {entry.faq_id: index for index, entry in enumerate(listed)}
        vocabulary = frozenset().union(*word_sets) if word_sets else frozenset()
        index = cls(listed, analyzer, channels, word_sets, by_id, threshold, vocabulary)
        index.meanings = index._entry_meanings(said)
        return index

    def __len__(self) -> int:
        return len(self.entries)

    def _idf(self, term: str) -> float:
        found = self.channels["word_qa"].postings.get(term)
        count = len(found[0]) if found is not None else 0
        return math.log(1 + (len(self.entries) - count + 0.5) / (count + 0.5))

    def _entry_meanings(self, said: Sequence[tuple[list[str], list[str]]]) -> np.ndarray[Any, Any]:
        """One row per entry: the IDF-weighted sum of its question's word vectors plus
        DENSE_ANSWER times its answer's, scaled to length 1."""
        vectors = word_vectors()
        terms = sorted(self.vocabulary)
        known = vectors.of(terms)
        at = {term: i for i, term in enumerate(terms)}
        idf = np.array([self._idf(term) for term in terms], dtype=np.float32)
        meanings = np.zeros((len(said), known.shape[1]), dtype=np.float32)
        for row, (asked, told) in enumerate(said):
            shares: dict[int, float] = {}
            for words, share in ((asked, 1.0), (told, DENSE_ANSWER)):
                for word in words:
                    shares[at[word]] = shares.get(at[word], 0.0) + share
            if shares:
                columns = np.fromiter(shares.keys(), dtype=np.int64, count=len(shares))
                weights = np.fromiter(shares.values(), dtype=np.float32, count=len(shares))
                meanings[row] = (weights * idf[columns]) @ known[columns]
        norms = np.linalg.norm(meanings, axis=1, keepdims=True)
        meanings /= np.maximum(norms, 1e-12)  # an entry without vectors stays all zeros
        return meanings

    def meaning_scores(self, words: Mapping[str, float]) -> np.ndarray[Any, Any]:
        """How near each entry's meaning is to that of the question's word terms (term ->
        weight): the cosine, never below 0; all zeros when no word has a vector."""
        scores = np.zeros(len(self.entries), dtype=np.float32)
        terms = [w for w in words if not w.startswith(("?", "≡"))]
        if not terms or not len(self.entries):
            return scores
        weights = np.array([words[t] * self._idf(t) for t in terms], dtype=np.float32)
        meaning = weights @ word_vectors().of(terms)
        norm = float(np.linalg.norm(meaning))
        if norm <= 0:
            return scores
        # einsum rather than @: a BLAS product this size starts threads of its own, which under
        # a server's many request threads spin against each other (answers/s fell fourfold).
        np.einsum("ij,j->i", self.meanings, meaning / norm, out=scores)
        np.maximum(scores, 0.0, out=scores)
        return scores

    def _query_terms(
        self, question: str
    ) -> tuple[dict[str, float], dict[str, float], Analysed, bool, list[str]]:
        """The question's word terms (term -> weight), reading n-grams, analysis, whether it
        was translated, and the foreign words the glossary did not know."""
        translation = translate(question[:QUESTION_LIMIT])
        japanese, translated, unknown = (
            translation.text,
            translation.translated,
            translation.unknown,
        )
        analysed = (
            self.analyzer.analyse(japanese, asked=True) if japanese.strip() else Analysed([], [])
        )
        general, looked_up = self._general_terms(translation.runs)
        if _HANGUL.search(question):
            for word, weight in self._korean_terms(unknown, looked_up).items():
                general[word] = general.get(word, 0.0) + weight
        words: dict[str, float] = {}
        for word in analysed.words:
            # A word with synonyms counts mostly through its group's term, so that 大型ごみ
            # finds 粗大ごみ nearly as well as 粗大ごみ itself.
            weight = GROUPED_WEIGHT if word in analysed.grouped else 1.0
            if word in analysed.parts:
                weight = PART_WEIGHT
            words[word] = words.get(word, 0.0) + weight
        for word, weight in general.items():
            words[word] = words.get(word, 0.0) + weight
        for word in unknown:
            if word not in looked_up:
                words[f"?{word}"] = words.get(f"?{word}", 0.0) + 1.0
        chars = {gram: float(count) for gram, count in Counter(analysed.chars).items()}
        if general:
            analysed = replace(analysed, general=frozenset(general))
        if translation.names:
            analysed = replace(
                analysed, names=analysed.names | {f"?{n}" for n in translation.names}
            )
        return words, chars, analysed, translated, unknown

    def _general_terms(self, runs: Sequence[Sequence[str]]) -> tuple[dict[str, float], set[str]]:
        """Word terms for the English the glossary left, from the general JMdict list: each
        word or phrase (longest first) gives the first GENERAL_TOP of its headwords that this
        FAQ uses. Answers the terms (term -> weight) and the English stems they stand for."""
        if not runs:
            return {}, set()
        written, stemmed = general_lexicon()
        stop = _english_stop()
        terms: dict[str, float] = {}
        looked_up: set[str] = set()
        for run in runs:
            stems = [_stem(w) for w in run]
            i = 0
            while i < len(run):
                for size in range(min(GENERAL_LONGEST, len(run) - i), 0, -1):
                    phrase = tuple(stems[i : i + size])
                    if phrase[0] in stop or phrase[-1] in stop:
                        continue
                    # The words as written first (goods), then any form of them (good).
                    # The words as written (goods); only when they are not listed, any form
                    # of them (good, goods).
                    found = written.get(" ".join(run[i : i + size]))
                    chosen = self._used_forms(stemmed.get(phrase, ()) if found is None else found)
                    if chosen:
                        _share_out(terms, chosen)
                        looked_up.update(phrase)
                        i += size
                        break
                else:
                    i += 1
        return terms, looked_up

    def _korean_terms(self, unknown: Sequence[str], looked_up: set[str]) -> dict[str, float]:
        """Word terms for the Korean words the glossary left: each is read from its start as
        Sino-Korean words (korean_sino_words(), longest first) whose kanji this FAQ uses, so
        that 전입신고를 finds 転入 and 申告 and the particle 를 is passed over. Like the general
        English list, they rank but do not raise the confidence. Adds the words read to
        ``looked_up``."""
        lexicon = korean_sino_words()
        terms: dict[str, float] = {}
        for word in unknown:
            if not _HANGUL.search(word):
                continue
            i = 0
            while i < len(word) - 1:
                for size in range(min(KOREAN_LONGEST, len(word) - i), 1, -1):
                    chosen = self._used_forms(lexicon.get(word[i : i + size]))
                    if chosen:
                        _share_out(terms, chosen)
                        looked_up.add(word)
                        i += size
                        break
                else:
                    i += 1
        return terms

    def _used_forms(self, forms: Sequence[str]) -> list[tuple[str, ...]]:
        """The word terms of the first GENERAL_TOP of ``forms`` whose every term this FAQ uses."""
        chosen: list[tuple[str, ...]] = []
        for form in forms:
            keys = self._form_keys.get(form)
            if keys is None:
                keys = tuple(dict.fromkeys(Analyzer._content(tokens.words(form))[0]))
                self._form_keys[form] = keys
            if keys and all(k in self.vocabulary for k in keys) and keys not in chosen:
                chosen.append(keys)
                if len(chosen) == GENERAL_TOP:
                    break
        return chosen

    def _scores(self, question: str) -> tuple[np.ndarray[Any, Any], float, _Scored]:
        words, chars, analysed, translated, unknown = self._query_terms(question)
        scores = np.zeros(len(self.entries), dtype=np.float32)
        reachable = 0.0
        per: dict[str, tuple[np.ndarray[Any, Any], float]] = {}
        mix = length_mix(question_length(analysed))
        for name in CHANNELS:
            terms = words if name.startswith("word") else chars
            own = np.zeros(len(self.entries), dtype=np.float32)
            reach = self.channels[name].score(terms, own, 1.0)
            per[name] = (own, reach)
            scores += own * mix[name]
            reachable += reach * mix[name]
        meaning = self.meaning_scores(words)
        scores = with_meaning(scores, reachable, meaning)
        return scores, reachable, _Scored(per, analysed, translated, unknown, meaning)

    def ask_ranked(self, question: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` best entries as (faq_id, score in [0, 1]), best first."""
        if not self.entries:
            return []
        scores, reachable, _scored = self._scores(question)
        if reachable <= 0:
            return []
        top = _top(scores, k)
        most = reachable * (1 + DENSE_WEIGHT)  # every word matched, and the same meaning
        return [(self.entries[i].faq_id, float(scores[i]) / most) for i in top if scores[i] > 0]

    def ask(self, question: str, threshold: float | None = None) -> Answer:
        """Answer ``question`` from the entries; below ``threshold`` (the index's own when
        None) suggest the closest entries instead. The index is never changed, so threads may
        share it with thresholds of their own."""
        written = jtext.normalize(question or "")
        if not written:
            return Answer(False, None, None, None, 0.0, reason="empty")
        if prompt_like(written):
            return Answer(False, None, None, None, 0.0, reason="prompt")
        if not self.entries:
            return Answer(False, None, None, None, 0.0, reason="no-words")
        scores, reachable, scored = self._scores(written)
        analysed, translated = scored.analysed, scored.translated
        if reachable <= 0 or not (analysed.words or analysed.chars or analysed.general):
            return Answer(False, None, None, None, 0.0, reason="no-words", translated=translated)
        top = [i for i in _top(scores, SUGGESTIONS + 1) if scores[i] > 0]
        if not top:
            return Answer(
                False, None, None, None, 0.0, reason="low-confidence", translated=translated
            )
        confidence = self._confidence(scores, reachable, scored)
        best = self.entries[top[0]]
        # Understood only through the general dictionary's guesses: suggest, never answer.
        guessed = not (analysed.words or analysed.chars)
        if confidence < (self.threshold if threshold is None else threshold) or guessed:
            suggestions = [
                Suggestion(self.entries[i].faq_id, self.entries[i].question)
                for i in top[:SUGGESTIONS]
            ]
            return Answer(
                False, None, None, None, confidence, suggestions,
                reason="low-confidence", translated=translated,
            )  # fmt: skip
        suggestions = [
            Suggestion(self.entries[i].faq_id, self.entries[i].question)
            for i in top[1 : SUGGESTIONS + 1]
        ]
        return Answer(
            True,
            best.faq_id,
            best.question,
            best.answer,
            confidence,
            suggestions,
            speech=speech_text(best.answer),
            category=best.category,
            department=best.department,
            url=best.url,
            updated=_date_text(best.updated),
            translated=translated,
        )

    def _confidence(self, scores: np.ndarray[Any, Any], reachable: float, scored: _Scored) -> float:
        features = confidence_features(
            self, scores, reachable, scored.per, scored.analysed, scored.unknown,
            scored.translated, scored.meaning,
        )  # fmt: skip
        logit = float(features @ np.asarray(CONFIDENCE_WEIGHTS)) + CONFIDENCE_BIAS
        confidence = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        if any(self._foreign_place(place) for place in scored.analysed.places):
            # 武蔵野市の粗大ごみ: another municipality's service, which this FAQ does not answer.
            confidence *= OTHER_PLACE_FACTOR
        return confidence

    def _foreign_place(self, place: str) -> bool:
        return place not in self.vocabulary and place + "市" not in self.vocabulary


def _share_out(terms: dict[str, float], chosen: Sequence[tuple[str, ...]]) -> None:
    """Add GENERAL_WEIGHT to ``terms``, shared by the word terms of the ``chosen`` forms a
    dictionary gave for one foreign word (each form an equal share, split among its terms)."""
    for keys in chosen:
        for key in keys:
            terms[key] = terms.get(key, 0.0) + GENERAL_WEIGHT / len(chosen) / len(keys)


def question_length(analysed: Analysed) -> int:
    """How many word terms a question has (with the synonym group terms and compound parts
    its words add), not counting numbers: a phone number is not a longer question."""
    return sum(1 for w in analysed.words if not w.isdigit())


def length_mix(words: int, base: Mapping[str, float] | None = None) -> dict[str, float]:
    """The channel mix for a question of ``words`` word terms: past LONG_START words a share
    of the reading channels' weight (up to LONG_SHIFT of it, reached LONG_SPAN words later)
    moves to word_qa, since on a long question the reading n-grams of its many words are
    mostly noise while its words still say what it is about."""
    mix = dict(MIX if base is None else base)
    if words <= LONG_START or LONG_SHIFT <= 0:
        return mix
    share = LONG_SHIFT * min(1.0, (words - LONG_START) / LONG_SPAN)
    moved = 0.0
    for name in ("char_q", "char_a"):
        moved += mix[name] * share
        mix[name] *= 1 - share
    mix["word_qa"] += moved
    return mix


def with_meaning(
    scores: np.ndarray[Any, Any], reachable: float, meaning: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """The mixed BM25 ``scores`` with the meaning channel's cosines added (see DENSE_WEIGHT)."""
    return (scores + (DENSE_WEIGHT * reachable) * meaning).astype(np.float32)


@dataclass(frozen=True)
class _Scored:
    per: dict[str, tuple[np.ndarray[Any, Any], float]]  # channel -> (scores, reachable)
    analysed: Analysed
    translated: bool
    unknown: list[str]
    meaning: np.ndarray[Any, Any]  # FaqIndex.meaning_scores of the question


def confidence_features(
    index: FaqIndex,
    scores: np.ndarray[Any, Any],
    reachable: float,
    per: Mapping[str, tuple[np.ndarray[Any, Any], float]],
    analysed: Analysed,
    unknown: Sequence[str],
    translated: bool,
    meaning: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """What the confidence is computed from, each roughly in [0, 1] and independent of the
    FAQ's size: how much of what the question could reach the best entry reaches, how far
    ahead of the second it is, how much of the question's words it holds, whether the
    channels agree on it, how many words the FAQ never uses."""
    top = _top(scores, 2)
    first = float(scores[top[0]]) / reachable if reachable > 0 else 0.0
    second = float(scores[top[1]]) / reachable if len(top) > 1 and reachable > 0 else 0.0
    ratio = second / first if first > 0 else 1.0
    asked = {w for w in analysed.words if w not in analysed.grouped and w not in analysed.parts}
    asked |= {f"?{w}" for w in unknown}
    if asked:
        coverage = sum(1 for w in asked if w in index.word_sets[top[0]]) / len(asked)
        unseen = sum(1 for w in asked if w not in index.vocabulary) / len(asked)
    else:
        coverage, unseen = 0.5, 0.5  # kana the tokenizer could not split
    agree = 0.0
    own = {}
    for name in CHANNELS:
        channel_scores, reach = per[name]
        own[name] = float(channel_scores[top[0]]) / reach if reach > 0 else 0.0
        if reach > 0 and channel_scores[top[0]] >= channel_scores.max() > 0:
            agree += MIX[name]
    return np.array(
        [
            first,
            ratio,
            coverage,
            unseen,
            agree,
            own["word_q"],
            own["char_q"],
            own["word_qa"],
            min(len(asked), 8) / 8,
            1.0 if translated else 0.0,
            # A place or body the FAQ never names (武蔵野市, NHK): most likely not its business.
            1.0 if any(name not in index.vocabulary for name in analysed.names) else 0.0,
            float(meaning[top[0]]),  # how near in meaning the best entry is
        ]
    )


def _top(scores: np.ndarray[Any, Any], k: int) -> list[int]:
    if len(scores) <= k:
        order = np.argsort(-scores, kind="stable")
    else:
        part = np.argpartition(-scores, k)[:k]
        order = part[np.argsort(-scores[part], kind="stable")]
    return [int(i) for i in order[:k]]


def _date_text(value: date | str | None) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)
