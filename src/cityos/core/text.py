"""Japanese text normalization: the one place every cityos domain cleans its text.

Open data from municipalities mixes full-width and half-width characters, half a dozen
look-alike dashes, kanji and arabic numerals, 和暦 and 西暦 dates.  Every domain needs the
same cleaning, so it lives here and nowhere else.

Everything is pure and standard-library only.  The functions are called once per cell
while ingesting CSV files with millions of rows, so every regular expression and
translation table is built once at import time and the hot paths (:func:`normalize`,
:func:`search_key`, :func:`parse_date`) leave per-character work to C code
(``unicodedata``, ``str.translate``, ``re``).

Contents:

* :func:`normalize` - NFKC plus dash, tilde and whitespace unification (idempotent).
* :func:`search_key` - an aggressive key for matching names (kana, ヶ/が, 之/の, case).
* :func:`kanji_to_int`, :func:`int_to_kanji`, :func:`replace_kanji_numbers` - numerals.
* :func:`normalize_address_numbers`, :func:`chome_to_kanji` - 丁目・番地・号 notation.
* :func:`parse_date`, :func:`to_wareki`, :func:`era_of`, :func:`parse_time` - dates.
* :func:`normalize_phone`, :func:`normalize_postcode` - building blocks for validators.
* :func:`katakana_name` - a name's reading (フリガナ) checked and written in katakana.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "TOKYO",
    "chome_to_kanji",
    "era_of",
    "int_to_kanji",
    "kanji_to_int",
    "normalize",
    "normalize_address_numbers",
    "normalize_phone",
    "normalize_postcode",
    "parse_date",
    "parse_time",
    "replace_kanji_numbers",
    "search_key",
    "to_local",
    "to_wareki",
]

# ---------------------------------------------------------------------------------------
# Character classes (contents of regex [...] classes)
# ---------------------------------------------------------------------------------------

#: Kanji: 々 〆 〇 〻, CJK unified ideographs (BMP and extensions), compatibility ideographs.
_KANJI: Final = "\u3005-\u3007\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: Hiragana and katakana including ー, ゝ, ヽ and the small katakana extensions.
_KANA: Final = "\u3041-\u309f\u30a1-\u30ff\u31f0-\u31ff"
#: Characters that can continue a Japanese word; a number followed by one is part of a word.
_WORD: Final = _KANJI + _KANA

#: Dash, hyphen, minus and long-vowel look-alikes that survive NFKC (U+FF0D, U+FE63 become
#: "-" and U+FF70 becomes ー during NFKC; U+2011, U+FE58, U+FE31, U+FE32 map to members).
DASHES: Final = (
    "\u02d7\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u23af\u2500\u2501"
    "\u2796\u2e3a\u2e3b\u30fc\ufe31\ufe32\ufe58\ufe63\uff0d\uff70"
)

# ---------------------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------------------

#: Characters replaced before NFKC: soft hyphen, zero-width space, word joiner and the
#: byte-order mark that spreadsheet exports leave in the first cell are removed; WAVE
#: DASH, WAVY DASH, TILDE OPERATOR and SWUNG DASH become "~" (NFKC already turns
#: FULLWIDTH TILDE into "~").  Doing this before NFKC means the removal cannot create
#: new compositions that a second call would then perform.
_PRE_NFKC: Final[dict[str, str]] = dict.fromkeys("\u00ad\u200b\u2060\ufeff", "") | dict.fromkeys(
    "\u301c\u3030\u223c\u2053", "~"
)
#: Regex passes instead of str.translate: translate costs ~50 ns per character on
#: non-ASCII text while these characters are rare, so a scan that finds none is cheaper.
_PRE_NFKC_RE: Final = re.compile(f"[{''.join(_PRE_NFKC)}]")
#: A dash that sits after an ASCII digit and before a digit, a space or the end.  The
#: class comes first so that the regex engine can scan for it quickly; the lookbehind
#: then checks the character before the dash.
_DIGIT_DASH_RE: Final = re.compile(f"[{DASHES}](?<=[0-9].)(?=[0-9 ]|\\Z)")


def _pre_nfkc(match: re.Match[str]) -> str:
    return _PRE_NFKC[match.group()]


def normalize(text: str) -> str:
    """Return *text* in the canonical form every domain stores and compares.

    * Unicode NFKC: full-width ASCII and digits become half-width, half-width katakana
      becomes full-width, ㍻ becomes 平成, ① becomes 1.
    * Soft hyphens, zero-width spaces, word joiners and BOMs are removed.
    * Any dash look-alike (‐ ‒ – — ― − ー ─ ━ ﹣ －, ...) becomes ASCII ``-`` where it
      follows a digit and precedes a digit, a space or the end of the text, so
      ``"3ー22ー14"`` becomes ``"3-22-14"`` while ``"コーヒー"`` keeps its long vowels.
    * 〜 ～ ∼ 〰 ⁓ become ``~``.
    * Runs of whitespace (including U+3000, tabs and line breaks) become one space and the
      result is stripped.

    The function is idempotent: ``normalize(normalize(s)) == normalize(s)``.
    """
    if text.isascii():
        # NFKC, tildes and dashes cannot change ASCII text: only whitespace work remains.
        return " ".join(text.split())
    text = _PRE_NFKC_RE.sub(_pre_nfkc, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _DIGIT_DASH_RE.sub("-", " ".join(text.split()))


# ---------------------------------------------------------------------------------------
# search_key
# ---------------------------------------------------------------------------------------

#: Katakana ァ..ヶ and the iteration marks ヽヾ to hiragana.  ヷヸヹヺ and the small
#: katakana extensions have no precomposed hiragana and are kept.
_KATA_TO_HIRA: Final = str.maketrans(
    {chr(code): chr(code - 0x60) for code in range(0x30A1, 0x30F7)} | {"ヽ": "ゝ", "ヾ": "ゞ"}
)
#: Runs of convertible katakana: only they go through str.translate (see _PRE_NFKC_RE).
_KATAKANA_RUN_RE: Final = re.compile("[ァ-ヶヽヾ]+")
#: ヶ ケ ヵ カ ガ か between kanji (or after a digit, for counters such as 3ヶ月).
_GA_RE: Final = re.compile(f"[ヶケヵカガか](?<=[{_KANJI}0-9].)(?=[{_KANJI}])")
#: 之 between kanji (ノ and の are unified by the katakana-to-hiragana step).
_NO_RE: Final = re.compile(f"之(?<=[{_KANJI}]之)(?=[{_KANJI}])")


#: Old, traditional and variant kanji (異体字) found in place and personal names, each mapped
#: to the form the official address lists mostly use. NFKC already folds the CJK
#: compatibility ideographs (塚, 神, 福 ...); these are distinct code points it keeps.
KANJI_VARIANTS: Final[dict[str, str]] = {
    "澤": "沢", "邊": "辺", "邉": "辺", "檜": "桧", "髙": "高", "﨑": "崎", "嵜": "崎", "碕": "崎",
    "濱": "浜", "濵": "浜", "廣": "広", "國": "国", "櫻": "桜", "萬": "万", "藏": "蔵", "舘": "館",
    "嶋": "島", "嶌": "島", "冨": "富", "德": "徳", "鷗": "鴎", "會": "会", "當": "当", "壽": "寿",
    "實": "実", "與": "与", "縣": "県", "驛": "駅", "條": "条", "關": "関", "淺": "浅", "彌": "弥",
    "槇": "槙", "眞": "真", "亞": "亜", "圓": "円", "鐵": "鉄", "寳": "宝", "寶": "宝", "晉": "晋",
    "禮": "礼", "惠": "恵", "瀨": "瀬", "巖": "巌", "峯": "峰", "嶽": "岳", "舊": "旧", "團": "団",
    "豐": "豊", "黑": "黒", "廳": "庁", "應": "応", "靜": "静", "籔": "藪", "薮": "藪", "埜": "野",
    "桒": "桑", "渕": "淵", "曾": "曽", "莊": "荘", "蘆": "芦", "鄕": "郷", "鹽": "塩", "靑": "青",
    "淸": "清", "將": "将", "兒": "児", "來": "来", "佛": "仏", "澁": "渋", "齋": "斎", "齊": "斉",
    "舩": "船", "冝": "宜", "乘": "乗", "卷": "巻", "戶": "戸", "內": "内", "徑": "径", "淨": "浄",
    "增": "増", "步": "歩", "每": "毎", "榮": "栄", "營": "営", "價": "価", "擧": "挙", "圖": "図",
    "學": "学", "黃": "黄", "檢": "検", "顯": "顕", "壺": "壷", "燈": "灯", "稻": "稲", "賣": "売",
    "發": "発", "晝": "昼", "豫": "予", "樂": "楽", "兩": "両", "綠": "緑", "鄰": "隣", "巢": "巣",
    "禪": "禅", "藝": "芸", "聽": "聴", "傳": "伝", "轉": "転", "賴": "頼", "瀧": "滝", "繩": "縄",
    "溪": "渓", "驒": "騨", "竜": "龍", "𠮷": "吉", "祗": "祇",
}  # fmt: skip

#: One character for one character, so positions in the folded text match the input's:
#: katakana to hiragana, variant kanji to their common form, ヶ/ケ/ヵ to が (霞ヶ関 = 霞が関),
#: 之 and ノ to の (井之頭 = 井ノ頭 = 井の頭), small ッ to つ, ASCII letters to lower case.
_VARIANTS: Final = str.maketrans(
    {k: v for k, v in KANJI_VARIANTS.items() if len(k) == 1 and len(v) == 1}
)
_FOLD: Final = str.maketrans(
    {chr(code): chr(code - 0x60) for code in range(0x30A1, 0x30F7)}
    | {"ヽ": "ゝ", "ヾ": "ゞ"}
    | {k: v for k, v in KANJI_VARIANTS.items() if len(k) == 1 and len(v) == 1}
    | dict.fromkeys("ヶケヵ", "が")
    | dict.fromkeys("之ノ", "の")
    | {"ッ": "つ", "っ": "つ"}
    | {chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
)


def fold_chars(text: str) -> str:
    """Fold spelling variants character by character, keeping the length of *text*.

    For matching names against a list (addresses, gazetteers) where each position of the
    folded text must still point at the same position of the original. Apply it to both
    sides of a comparison; the result is never shown. Expects :func:`normalize`'d text.
    """
    return text.translate(_FOLD)


def search_key(text: str) -> str:
    """Return a key under which spelling variants of the same name compare equal.

    The key is for matching and searching only, never for display.  On top of
    :func:`normalize` it

    * case-folds (``"ＡＢＣ"`` and ``"abc"`` match),
    * removes every space (``"三鷹 市"`` matches ``"三鷹市"``),
    * turns katakana into hiragana (``"ミタカ"`` matches ``"みたか"``),
    * writes ヶ, ケ, ヵ, カ, ガ and か between two kanji (or between a digit and a kanji)
      as が, so 霞ヶ関, 霞ケ関, 霞が関 and 霞ガ関 share a key, and so do the counter
      spellings 3ヶ月, 3カ月, 3ヵ月 and 3か月,
    * writes 之, ノ and の between two kanji as の, so 井の頭, 井ノ頭 and 井之頭 match,
    * writes old and variant kanji in their common form (澤 → 沢, 邊 → 辺, 髙 → 高; see
      :data:`KANJI_VARIANTS`).

    Kanji are never converted to readings: the key of 霞が関 is ``"霞が関"``.
    """
    key = normalize(text).casefold().replace(" ", "").translate(_VARIANTS)
    key = _GA_RE.sub("が", key)
    key = _NO_RE.sub("の", key)
    return _KATAKANA_RUN_RE.sub(_to_hiragana, key)


def _to_hiragana(match: re.Match[str]) -> str:
    return match.group().translate(_KATA_TO_HIRA)


# ---------------------------------------------------------------------------------------
# Kanji numerals
# ---------------------------------------------------------------------------------------

_DIGIT_VALUES: Final[dict[str, int]] = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "壱": 1,
    "壹": 1,
    "二": 2,
    "弐": 2,
    "貳": 2,
    "三": 3,
    "参": 3,
    "參": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL_UNITS: Final[dict[str, int]] = {"十": 10, "拾": 10, "百": 100, "千": 1000}
_LARGE_UNITS: Final[dict[str, int]] = {
    "万": 10**4,
    "萬": 10**4,
    "億": 10**8,
    "兆": 10**12,
    "京": 10**16,
}
_KANJI_LIMIT: Final = 10**20
_DIGIT_CHARS: Final = "〇一二三四五六七八九"
_LARGE_DESCENDING: Final = ((10**16, "京"), (10**12, "兆"), (10**8, "億"), (10**4, "万"), (1, ""))
_SMALL_DESCENDING: Final = ((1000, "千"), (100, "百"), (10, "十"))

_POSITIONAL_RE: Final = re.compile(f"[{''.join(_DIGIT_VALUES)}]+")
_POSITIONAL_TABLE: Final = str.maketrans({k: str(v) for k, v in _DIGIT_VALUES.items()})
_NUMERAL_CHARS: Final = "".join([*_DIGIT_VALUES, *_SMALL_UNITS, *_LARGE_UNITS])


def kanji_to_int(s: str) -> int:
    """Return the value of the kanji numeral *s*.

    Accepts positional notation (``"二〇二三"`` → 2023, ``"〇"`` → 0) and unit notation
    with 十百千 inside each 万/億/兆/京 section (``"千二百三十四"`` → 1234, ``"十"`` → 10,
    ``"三十五万"`` → 350000), including the formal digits 壱弐参拾 and 萬.  Raises
    ValueError naming the input for anything else: other characters, digits written
    twice in unit notation (``"二三十"``), units out of order (``"十百"``), a bare 万.
    """
    if not s:
        raise ValueError("invalid kanji numeral '': the string is empty")
    if _POSITIONAL_RE.fullmatch(s):
        return int(s.translate(_POSITIONAL_TABLE))
    return _parse_unit_numeral(s)


def _parse_unit_numeral(s: str) -> int:
    total = 0
    section = 0
    digit: int | None = None
    last_small = 10**4
    last_large = _KANJI_LIMIT
    for ch in s:
        if ch in _DIGIT_VALUES:
            if digit is not None:
                raise _numeral_error(s, f"digit {ch!r} follows another digit")
            digit = _DIGIT_VALUES[ch]
            if digit == 0:
                raise _numeral_error(s, "〇 is only valid in positional numerals such as 二〇二三")
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if unit >= last_small:
                raise _numeral_error(s, f"unit {ch!r} is out of order")
            section += (1 if digit is None else digit) * unit
            digit, last_small = None, unit
        elif ch in _LARGE_UNITS:
            unit = _LARGE_UNITS[ch]
            section += 0 if digit is None else digit
            if unit >= last_large:
                raise _numeral_error(s, f"unit {ch!r} is out of order")
            if section == 0:
                raise _numeral_error(s, f"{ch!r} needs a coefficient such as 一{ch}")
            total += section * unit
            section, digit, last_small, last_large = 0, None, 10**4, unit
        else:
            raise _numeral_error(s, f"unexpected character {ch!r}")
    return total + section + (0 if digit is None else digit)


def _numeral_error(s: str, reason: str) -> ValueError:
    return ValueError(f"invalid kanji numeral {s!r}: {reason}")


def int_to_kanji(n: int) -> str:
    """Write *n* in kanji unit notation: 1234 → ``"千二百三十四"``, 10 → ``"十"``.

    1 before 十百千 is omitted (``"千万"`` is 10**7) but kept before 万億兆京
    (``"一万"``), following ordinary usage; 0 is ``"〇"``.  Supports 0 ≤ n < 10**20.
    """
    if not 0 <= n < _KANJI_LIMIT:
        raise ValueError(f"cannot write {n} in kanji numerals: the range is 0 to 10**20 - 1")
    if n == 0:
        return "〇"
    parts = []
    for value, unit in _LARGE_DESCENDING:
        group, n = divmod(n, value)
        if group:
            parts.append(_section_to_kanji(group) + unit)
    return "".join(parts)


def _section_to_kanji(n: int) -> str:
    """Write 1 ≤ n ≤ 9999 with 千百十."""
    parts = []
    for value, unit in _SMALL_DESCENDING:
        digit, n = divmod(n, value)
        if digit:
            parts.append(unit if digit == 1 else _DIGIT_CHARS[digit] + unit)
    if n:
        parts.append(_DIGIT_CHARS[n])
    return "".join(parts)


def chome_to_kanji(n: int) -> str:
    """Write a 丁目 number as the official 町字 lists do: 3 → ``"三"``, 12 → ``"十二"``."""
    if n < 1:
        raise ValueError(f"invalid 丁目 number {n}: it must be 1 or greater")
    return int_to_kanji(n)


# ---------------------------------------------------------------------------------------
# replace_kanji_numbers
# ---------------------------------------------------------------------------------------

_NUMERAL_RUN_RE: Final = re.compile(f"[{_NUMERAL_CHARS}]+")
#: Counters and address units that make a preceding kanji numeral a quantity.  Longer
#: alternatives come first so that 番地 wins over 番.
_COUNTER_RE: Final = re.compile(
    "丁目|番地|地割|番|号|条|線|年|月|日|歳|人|階|回|件|円|個|本|枚|区|時|分|秒|[かヶカヵ箇][月所]"
)
#: Counters that count only after 第: N条 and N区 alone are nearly always place names
#: (十条, 四条, 北一条西), while 第一条 and 第一区 are article and district numbers.
_ORDINAL_ONLY: Final = frozenset({"条", "区"})
#: 歳 counts ages; anything above this is a word such as 千歳 (Chitose).
_MAX_AGE: Final = 150
#: Kanji that may follow a counter without turning it into part of a name: they extend a
#: quantity (三年度, 三回目, 三日間, 三人以上, 十八歳未満, 四月分, 三号館, 一番線 ...).
_COUNTER_SUFFIXES: Final = frozenset(
    "目間度生以未超前後頃半程毎当付現迄中限分時弱強余来振館棟室線第"
)
#: Address units after which a bare number continues the address (三丁目二十二).
_ADDRESS_UNITS: Final = ("丁目", "番地", "番")
#: Separators inside an address number chain (二十二の十四, 22-14).
_CHAIN_SEPARATORS: Final = "の-" + DASHES
_WORD_RE: Final = re.compile(f"[{_WORD}]")
_KANJI_RE: Final = re.compile(f"[{_KANJI}]")


class _Run(NamedTuple):
    start: int
    end: int
    value: int | None


def replace_kanji_numbers(text: str) -> str:
    """Replace kanji numerals that count something with arabic digits.

    ``"三丁目二十二番"`` → ``"3丁目22番"``, ``"令和五年四月一日"`` → ``"令和5年4月1日"``.
    A kanji numeral is a quantity only in two situations; everywhere else it is part of
    a word or a name and is kept (一橋, 九段, 四谷, 三鷹, 八王子, 千葉, 万世橋, 一宮 ...):

    1. It is directly followed by a counter (丁目 番地 番 号 地割 線 年 月 日 歳 人 階 回 件
       円 個 本 枚 時 分 秒 か月 か所; 条 and 区 only after 第, 歳 only for ages below
       150), and the counter ends the word: it is followed by the end of the text, by a
       character that is not a kanji, by another converted number, or by a kanji that
       extends quantities (目 間 度 以 未 前 後 館 線 ... see ``_COUNTER_SUFFIXES``).
       So 五日市, 十日町, 六本木, 二本松, 一番町, 百人町 and 千歳 stay as they are.
    2. It is a bare number in an address chain: right after 丁目/番地/番 that follow a
       number, or after の/- that follow a converted number, and it ends the word or is
       followed by の/- and another number (``"三丁目二十二の十四"`` → ``"3丁目22の14"``).

    Only the numerals change; call :func:`normalize` first for the rest of the text.
    Words whose reading is ambiguous, such as 十分 ("enough" or "ten minutes"), are
    converted because the function cannot tell them apart.
    """
    runs = [
        _Run(m.start(), m.end(), _numeral_value(m.group())) for m in _NUMERAL_RUN_RE.finditer(text)
    ]
    if not runs:
        return text
    convert = _mark_address_chains(text, runs)
    next_run = {run.start: index for index, run in enumerate(runs)}
    for index in reversed(range(len(runs))):
        if not convert[index]:
            convert[index] = _is_counted(text, runs[index], next_run, convert)
    parts = []
    position = 0
    for run, converted in zip(runs, convert, strict=True):
        if converted:
            parts.append(text[position : run.start])
            parts.append(str(run.value))
            position = run.end
    parts.append(text[position:])
    return "".join(parts)


def _numeral_value(s: str) -> int | None:
    try:
        return kanji_to_int(s)
    except ValueError:
        return None


def _mark_address_chains(text: str, runs: list[_Run]) -> list[bool]:
    """Rule 2: mark bare numbers that continue an address, left to right."""
    convert = [False] * len(runs)
    converted_ends: set[int] = set()
    for index, run in enumerate(runs):
        if run.value is None:
            continue
        if _follows_address_unit(text, run.start, converted_ends) and _ends_chain_part(
            text, run.end
        ):
            convert[index] = True
            converted_ends.add(run.end)
    return convert


def _follows_address_unit(text: str, start: int, converted_ends: set[int]) -> bool:
    for unit in _ADDRESS_UNITS:
        if text.endswith(unit, 0, start):
            unit_start = start - len(unit)
            return unit_start > 0 and _is_number_char(text[unit_start - 1])
    if start >= 2 and text[start - 1] in _CHAIN_SEPARATORS:
        return "0" <= text[start - 2] <= "9" or start - 1 in converted_ends
    return False


def _ends_chain_part(text: str, end: int) -> bool:
    if end == len(text):
        return True
    if text[end] in _CHAIN_SEPARATORS:
        return end + 1 < len(text) and _is_number_char(text[end + 1])
    return _WORD_RE.match(text, end) is None


def _is_number_char(ch: str) -> bool:
    return ch in _NUMERAL_CHARS or "0" <= ch <= "9"


def _is_counted(text: str, run: _Run, next_run: dict[int, int], convert: list[bool]) -> bool:
    """Rule 1: the run is followed by a counter that ends the word."""
    if run.value is None:
        return False
    counter = _COUNTER_RE.match(text, run.end)
    if counter is None:
        return False
    unit = counter.group()
    if unit in _ORDINAL_ONLY and (run.start == 0 or text[run.start - 1] != "第"):
        return False
    if unit == "歳" and run.value >= _MAX_AGE:
        return False
    after = counter.end()
    if after == len(text) or _KANJI_RE.match(text, after) is None:
        return True
    if after in next_run:
        return convert[next_run[after]]
    return text[after] in _COUNTER_SUFFIXES


# ---------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------

_KANJI_NUMBER: Final = "[〇一二三四五六七八九十百千]+"
_SEPARATOR: Final = f"[{re.escape(_CHAIN_SEPARATORS)}]"
#: A kanji number inside an address must end there: a unit, a separator and another
#: number, or a character that cannot continue a word.  This keeps 一橋 out of chains.
_KANJI_NUMBER_END: Final = f"(?=番地|番|号|{_SEPARATOR}[0-9〇一二三四五六七八九十]|[^{_WORD}]|\\Z)"
_CHAIN_NUMBER: Final = f"(?:[0-9]+(?![0-9])|{_KANJI_NUMBER}{_KANJI_NUMBER_END})"
#: 号 followed by 室/館/棟 is a room or building number, not part of the 地番, and 番地先
#: ("in front of lot N") is an idiom that must stay whole.
_UNIT: Final = "(?:番地(?!先)|番(?!地)|号(?![室館棟]))"
_CHAIN: Final = f"{_CHAIN_NUMBER}(?:(?:{_UNIT}{_SEPARATOR}?|{_SEPARATOR}){_CHAIN_NUMBER})*{_UNIT}?"
_ADDRESS_RE: Final = re.compile(
    # 1. An explicit 丁目, with the 番地/号 chain that follows it.
    f"(?:(?<![0-9])(?P<chome>[1-9][0-9]?|[一二三四五六七八九十]+)丁目(?P<chain>{_CHAIN})?)"
    # 2. N-N-N directly after a town name (or a space, or the start): N is the 丁目.
    f"|(?:(?<![^\\s{_WORD}])(?P<hchome>[1-9][0-9]?)-(?P<hchain>[0-9]+(?:-[0-9]+)+)(?![0-9]))"
    # 3. A 番地/番-号 chain without 丁目 (大字 areas): 123番地4, 22番14号.
    f"|(?:(?<![0-9])(?=(?:[0-9]+|{_KANJI_NUMBER})(?:番地|番(?:[0-9]+|{_KANJI_NUMBER})号))"
    f"(?P<bchain>{_CHAIN})(?=[^{_KANJI}0-9]|\\Z))"
)
_CHAIN_NUMBER_RE: Final = re.compile(f"[0-9]+|{_KANJI_NUMBER}")


def normalize_address_numbers(text: str) -> str:
    """Write the 丁目・番地・号 part of an address the way the registries do.

    After :func:`normalize`, the 丁目 number is written in kanji as in the official 町字
    lists and the 番地/番/号/の numbers become arabic numbers joined with ``-``::

        東京都三鷹市下連雀三丁目２２番１４号 → 東京都三鷹市下連雀三丁目22-14
        三鷹市下連雀3-22-14                  → 三鷹市下連雀三丁目22-14
        下連雀３丁目22の14 ２F               → 下連雀三丁目22-14 2F
        大字野崎123番地4                     → 大字野崎123-4

    Three or more hyphenated numbers right after a town name are read as 丁目-番-号;
    two (``"中原123-4"``) are left alone because they are usually 番地-枝番.  Anything
    that does not look like an address number is returned unchanged.
    """
    return _ADDRESS_RE.sub(_rewrite_address, normalize(text))


def _rewrite_address(match: re.Match[str]) -> str:
    try:
        if match.group("chome") is not None:
            chome = _address_number(match.group("chome"))
            return f"{chome_to_kanji(chome)}丁目{_join_chain(match.group('chain') or '')}"
        if match.group("hchome") is not None:
            chome = int(match.group("hchome"))
            return f"{chome_to_kanji(chome)}丁目{_join_chain(match.group('hchain'))}"
        return _join_chain(match.group("bchain"))
    except ValueError:
        return match.group()


def _join_chain(chain: str) -> str:
    return "-".join(str(_address_number(n)) for n in _CHAIN_NUMBER_RE.findall(chain))


def _address_number(s: str) -> int:
    return int(s) if s.isascii() else kanji_to_int(s)


# ---------------------------------------------------------------------------------------
# Dates and times
# ---------------------------------------------------------------------------------------


class _Era(NamedTuple):
    name: str
    letter: str
    start: date


#: Newest first.  Each era ends the day before the next one starts.
_ERAS: Final = (
    _Era("令和", "R", date(2019, 5, 1)),
    _Era("平成", "H", date(1989, 1, 8)),
    _Era("昭和", "S", date(1926, 12, 25)),
    _Era("大正", "T", date(1912, 7, 30)),
    _Era("明治", "M", date(1868, 10, 23)),
)


def _index_eras() -> dict[str, tuple[_Era, date | None]]:
    """Map 明治/M/m ... to the era and the first day after it (None for the current era)."""
    index: dict[str, tuple[_Era, date | None]] = {}
    ends: tuple[date | None, ...] = (None, *(era.start for era in _ERAS[:-1]))
    for era, end in zip(_ERAS, ends, strict=True):
        for key in (era.name, era.letter, era.letter.lower()):
            index[key] = (era, end)
    return index


_ERA_BY_KEY: Final = _index_eras()

_WEEKDAYS: Final = "月火水木金土日"
_ERA_PATTERN: Final = "(?P<era>明治|大正|昭和|平成|令和|[MTSHRmtshr])"
_NUMBER: Final = f"(?:[0-9]+|[{_NUMERAL_CHARS}]+)"
_DATE_SEPARATED_RE: Final = re.compile(
    f"{_ERA_PATTERN}?(?P<y>元|[0-9]+)(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}})"
)
_DATE_KANJI_RE: Final = re.compile(
    f"{_ERA_PATTERN}?(?P<y>元|{_NUMBER})年(?P<m>{_NUMBER})月(?P<d>{_NUMBER})日"
)
_DATE_COMPACT_RE: Final = re.compile("(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_DATE_PATTERNS: Final = (_DATE_SEPARATED_RE, _DATE_KANJI_RE, _DATE_COMPACT_RE)
_WEEKDAY_RE: Final = re.compile(f"\\((?P<wd>[{_WEEKDAYS}])(?:曜日?)?\\)\\Z")


def parse_date(text: str) -> date:
    """Parse a date written in any of the forms found in Japanese open data.

    西暦: ``2023-04-01``, ``2023/4/1``, ``2023.4.1``, ``2023年4月1日``, ``20230401``,
    ``二〇二三年四月一日``.  和暦: ``令和5年4月1日``, ``令和元年5月1日``, ``令和五年四月一日``,
    ``R5.4.1``, ``H31/4/30``, ``r05.04.01``, ``㋿5年4月1日`` (letters M T S H R in either
    case; ㍾㍽㍼㍻㋿ are expanded by NFKC).  Full-width characters and spaces are fine, and
    a trailing weekday such as ``(土)`` is accepted when it is the right one.

    Raises ValueError naming the input when the form is unknown, the date does not
    exist (2023-02-30) or a 和暦 date lies outside its era (平成31年5月1日).  明治 dates
    before 明治6年 (1873) are read as Gregorian dates, not lunisolar ones.
    """
    if len(text) == 10 and text.isascii() and text[4] == "-" == text[7]:
        # Fast path for ISO dates; anything it rejects gets the full treatment below.
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    cleaned = normalize(text).replace(" ", "")
    weekday = _WEEKDAY_RE.search(cleaned)
    if weekday is not None:
        cleaned = cleaned[: weekday.start()]
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match is not None:
            parsed = _date_from_match(text, match)
            if weekday is not None:
                _check_weekday(text, parsed, weekday.group("wd"))
            return parsed
    raise ValueError(
        f"unrecognized date {text!r}: expected a form such as 2023-04-01, 2023年4月1日, "
        "令和5年4月1日 or R5.4.1"
    )


def _date_from_match(text: str, match: re.Match[str]) -> date:
    year_text, month_text, day_text = match.group("y", "m", "d")
    try:
        year = _date_number(year_text)
        month = _date_number(month_text)
        day = _date_number(day_text)
    except ValueError as exc:
        raise ValueError(f"invalid date {text!r}: {exc}") from None
    era_key = None if match.re is _DATE_COMPACT_RE else match.group("era")
    if era_key is None:
        return _western_date(text, year_text, year, month, day)
    era, end = _ERA_BY_KEY[era_key]
    return _era_date(text, era, end, year, month, day)


def _date_number(s: str) -> int:
    if s.isascii():
        return int(s)
    return 1 if s == "元" else kanji_to_int(s)


def _western_date(text: str, year_text: str, year: int, month: int, day: int) -> date:
    four_digits = len(year_text) == 4 if year_text.isascii() else 1000 <= year <= 9999
    if not four_digits:
        raise ValueError(f"invalid date {text!r}: a year without an era needs four digits")
    return _make_date(text, year, month, day)


def _era_date(text: str, era: _Era, end: date | None, year: int, month: int, day: int) -> date:
    if year < 1:
        raise ValueError(f"invalid date {text!r}: an era year starts at 1 (元年)")
    result = _make_date(text, era.start.year + year - 1, month, day)
    if result < era.start or (end is not None and result >= end):
        if end is None:
            span = f"{era.start.isoformat()} onwards"
        else:
            span = f"{era.start.isoformat()} to {date.fromordinal(end.toordinal() - 1).isoformat()}"
        raise ValueError(
            f"invalid date {text!r}: {result.isoformat()} is outside the {era.name} era ({span})"
        )
    return result


def _make_date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"invalid date {text!r}: {exc}") from None
    except OverflowError:  # numbers beyond a C int, e.g. 令和一京年
        raise ValueError(f"invalid date {text!r}: {year}-{month}-{day} is out of range") from None


def _check_weekday(text: str, parsed: date, written: str) -> None:
    actual = _WEEKDAYS[parsed.weekday()]
    if actual != written:
        raise ValueError(
            f"invalid date {text!r}: {parsed.isoformat()} is a {actual}曜日, not a {written}曜日"
        )


def era_of(d: date) -> tuple[str, int]:
    """Return the era name and era year of *d*: 2023-04-01 → ``("令和", 5)``."""
    for era in _ERAS:
        if d >= era.start:
            return era.name, d.year - era.start.year + 1
    raise ValueError(f"{d.isoformat()} is before the 明治 era (1868-10-23), which has no 和暦 here")


def to_wareki(d: date, *, style: str = "kanji") -> str:
    """Write *d* in 和暦.

    ``style="kanji"`` gives ``"令和5年4月1日"`` (year 1 is written ``"元年"``);
    ``style="short"`` gives ``"R5.4.1"``.  Both are accepted by :func:`parse_date`.
    """
    name, year = era_of(d)
    if style == "kanji":
        year_text = "元" if year == 1 else str(year)
        return f"{name}{year_text}年{d.month}月{d.day}日"
    if style == "short":
        letter = _ERA_BY_KEY[name][0].letter
        return f"{letter}{year}.{d.month}.{d.day}"
    raise ValueError(f"unknown wareki style {style!r}: use 'kanji' or 'short'")


_TIME_COLON_RE: Final = re.compile(
    "(?P<ampm>午前|午後)?(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?"
)
_TIME_KANJI_RE: Final = re.compile(
    f"(?P<ampm>午前|午後)?(?P<h>{_NUMBER})時"
    f"(?:(?P<half>半)|(?P<m>{_NUMBER})分(?:(?P<s>{_NUMBER})秒)?)?"
)


def parse_time(text: str) -> time:
    """Parse a time of day: ``9:00``, ``09:00:00``, ``９時３０分``, ``九時半``, ``午後1時``.

    午前/午後 take hours 0 to 11 (午後0時 is noon); 午前12時 and 午後12時 are rejected
    because their meaning differs between conventions.  24:00 and later are rejected too:
    a time of day runs from 0:00 to 23:59:59.  Raises ValueError naming the input.
    """
    cleaned = normalize(text).replace(" ", "")
    match = _TIME_COLON_RE.fullmatch(cleaned) or _TIME_KANJI_RE.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"unrecognized time {text!r}: expected a form such as 9:00, 09:00:00, 9時30分 "
            "or 午後1時"
        )
    try:
        hour, minute, second = (_date_number(match.group(key) or "0") for key in ("h", "m", "s"))
    except ValueError as exc:
        raise ValueError(f"invalid time {text!r}: {exc}") from None
    if match.groupdict().get("half"):
        minute = 30
    return _make_time(text, match.group("ampm"), hour, minute, second)


def _make_time(text: str, ampm: str | None, hour: int, minute: int, second: int) -> time:
    if ampm is not None:
        if hour > 11:
            raise ValueError(
                f"invalid time {text!r}: with {ampm} the hour must be 0 to 11 "
                "(write noon as 午後0時 and midnight as 午前0時)"
            )
        hour += 12 if ampm == "午後" else 0
    if hour > 23:
        raise ValueError(
            f"invalid time {text!r}: hour {hour} is out of range 0-23 "
            "(write midnight as 0:00 of the next day)"
        )
    if minute > 59 or second > 59:
        raise ValueError(f"invalid time {text!r}: minutes and seconds must be 0-59")
    return time(hour, minute, second)


# ---------------------------------------------------------------------------------------
# Phone numbers and postcodes
# ---------------------------------------------------------------------------------------

_ALLDASHES_TO_HYPHEN: Final = str.maketrans(dict.fromkeys(DASHES, "-"))
_PHONE_LABEL_RE: Final = re.compile(r"\A(?:tel|phone|電話(?:番号)?)\.?:? ?", re.IGNORECASE)
_PHONE_SERVICE_RE: Final = re.compile("1[0-9]{2}|#[0-9]{4}")
#: +81 with an optional space and the "(0)" some people keep for the trunk prefix.
_PHONE_COUNTRY_RE: Final = re.compile(r"\+81 ?(?:\(0\))?")
_PHONE_BODY_RE: Final = re.compile(r"[0-9()\-. ]+")
_DIGIT_GROUP_RE: Final = re.compile("[0-9]+")
_PHONE_MAX_GROUPS: Final = 3


def normalize_phone(text: str) -> str | None:
    """Return a Japanese phone number in domestic form, or None if it is not plausible.

    ``"０４２２－４５－１１５１"``, ``"(0422)45-1151"``, ``"0422(45)1151"`` and
    ``"+81 422-45-1151"`` all give ``"0422-45-1151"``: the grouping is kept with ASCII
    hyphens, and a number written without separators stays without them.  A plausible
    number starts with 0 and has 10 or 11 digits in at most three groups.  Three-digit
    service numbers (110, 119, 117 ...) and #-numbers (#7119, #8000) are returned as they
    are.  A leading ``TEL``/``電話`` label is ignored.
    """
    cleaned = normalize(text).translate(_ALLDASHES_TO_HYPHEN)
    cleaned = _PHONE_LABEL_RE.sub("", cleaned, count=1)
    if _PHONE_SERVICE_RE.fullmatch(cleaned):
        return cleaned
    country = _PHONE_COUNTRY_RE.match(cleaned)
    body = cleaned[country.end() :] if country else cleaned
    if not _PHONE_BODY_RE.fullmatch(body):
        return None
    groups = _DIGIT_GROUP_RE.findall(body)
    if country and groups and not groups[0].startswith("0"):
        groups[0] = "0" + groups[0]
    digits = "".join(groups)
    if len(groups) > _PHONE_MAX_GROUPS or not digits.startswith("0") or len(digits) not in (10, 11):
        return None
    return "-".join(groups)


_POSTCODE_RE: Final = re.compile(r"(?:〒|郵便番号:?)? ?([0-9]{3})[- ]?([0-9]{4})")


def normalize_postcode(text: str) -> str | None:
    """Return a postcode as ``"181-8555"``, or None if *text* is not one.

    Accepts ``"〒181-8555"``, ``"1818555"``, ``"１８１－８５５５"``, ``"郵便番号 181-8555"``.
    """
    cleaned = normalize(text).translate(_ALLDASHES_TO_HYPHEN)
    match = _POSTCODE_RE.fullmatch(cleaned)
    if match is None:
        return None
    return f"{match.group(1)}-{match.group(2)}"


#: Hiragana ぁ..ゖ and ゝゞ to katakana, for readings typed in hiragana.
_HIRA_TO_KATA: Final = str.maketrans(
    {chr(code): chr(code + 0x60) for code in range(0x3041, 0x3097)} | {"ゝ": "ヽ", "ゞ": "ヾ"}
)
_KATAKANA_NAME_RE: Final = re.compile("[ァ-ヺー・ヽヾ]+(?: [ァ-ヺー・ヽヾ]+)*")


def katakana_name(text: str) -> str:
    """Return a name's reading in full-width katakana: ``"やまだ　ﾀﾛｳ"`` → ``"ヤマダ タロウ"``.

    Half-width katakana and hiragana are converted; spaces of any width become one space.
    Raises ValueError when anything else is left (kanji, Latin letters, digits, symbols).
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split()).translate(_HIRA_TO_KATA)
    if not _KATAKANA_NAME_RE.fullmatch(cleaned):
        raise ValueError(f"not a katakana reading: {text!r}")
    return cleaned


TOKYO: Final = ZoneInfo("Asia/Tokyo")


def to_local(moment: datetime) -> datetime:
    """A stored (UTC) time in Japan time, as residents and staff read it."""
    return moment.astimezone(TOKYO)
