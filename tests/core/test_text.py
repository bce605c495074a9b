"""Tests for cityos.core.text: Japanese normalization shared by every domain."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.core.text import (
    KANJI_VARIANTS,
    chome_to_kanji,
    era_of,
    fold_chars,
    int_to_kanji,
    kanji_to_int,
    katakana_name,
    normalize,
    normalize_address_numbers,
    normalize_phone,
    normalize_postcode,
    parse_date,
    parse_time,
    replace_kanji_numbers,
    search_key,
    to_wareki,
)


def error_message(func: Callable[..., object], *args: object) -> str:
    """Call *func*, check that it raises ValueError and return the message."""
    with pytest.raises(ValueError, match=r".") as info:
        func(*args)
    return str(info.value)


# ---------------------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NFKC: full-width ASCII and digits to half-width, half-width kana to full-width.
        ("ＡＢＣ１２３", "ABC123"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("ﾊﾞｲｸ", "バイク"),
        ("ﾐﾀｶｼ ﾔｸｼｮ", "ミタカシ ヤクショ"),
        ("①②", "12"),
        ("㍻", "平成"),
        ("㋿", "令和"),
        ("㈱三鷹", "(株)三鷹"),
        ("東京都三鷹市野崎１－１－１", "東京都三鷹市野崎1-1-1"),
        # Dash look-alikes between digits become ASCII "-".
        ("３ー２２ー１４", "3-22-14"),
        ("3−22−14", "3-22-14"),
        ("3―22―14", "3-22-14"),
        ("3‐22", "3-22"),
        ("3‑22", "3-22"),
        ("3‒22", "3-22"),
        ("3–22", "3-22"),
        ("3—22", "3-22"),
        ("3─22", "3-22"),
        ("3━22", "3-22"),
        ("3﹣22", "3-22"),
        ("3－22", "3-22"),
        ("電話 0422ｰ45ｰ1151", "電話 0422-45-1151"),
        # ... and between a digit and the end of the text or a space.
        ("10ー", "10-"),
        ("10ー 20", "10- 20"),
        # The long vowel mark after katakana is kept.
        ("コーヒー", "コーヒー"),
        ("ラーメン", "ラーメン"),
        ("1ー2ー3ーテスト", "1-2-3ーテスト"),
        ("スーパー3ーテン", "スーパー3ーテン"),
        # Dashes that are not attached to digits are kept.
        ("東京―大阪", "東京―大阪"),
        ("ー1", "ー1"),
        ("A-1", "A-1"),
        # Tildes.
        ("9:00〜17:00", "9:00~17:00"),
        ("9:00～17:00", "9:00~17:00"),
        ("9:00~17:00", "9:00~17:00"),
        ("10∼20", "10~20"),
        ("あ〰い", "あ~い"),
        # Whitespace, including the ideographic space, tabs and line breaks.
        ("  a \t\n b\u3000c  ", "a b c"),
        ("三鷹市\u3000\u3000下連雀", "三鷹市 下連雀"),
        ("井の頭\r\n公園", "井の頭 公園"),
        ("\u3000", ""),
        ("", ""),
        ("   ", ""),
        # Invisible characters left by spreadsheets and word processors.
        ("\ufeff三鷹市", "三鷹市"),
        ("ソフト\u00adウェア", "ソフトウェア"),
        ("三鷹\u200b市", "三鷹市"),
        # ASCII text only has its whitespace collapsed.
        ("Mitaka  City\tHall ", "Mitaka City Hall"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_is_idempotent_for_every_bmp_character() -> None:
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        for text in (chr(code), f"1{chr(code)}2", f"カ{chr(code)}"):
            once = normalize(text)
            assert normalize(once) == once, hex(code)


_TRICKY = st.sampled_from(
    list("0123456789 \t\n\u3000ｰーｶﾞﾟかが\u3099\u309a~〜～∼〰\u0338\u0301\u0308¨")
    + list("\u00ad\u200b\ufeff\u2060ＡａＢ１①㍻㋿ﬀ\u1100\u1161\u11a8\u0b47\u0b3e")
    + list("‐‑‒–—―−─━﹣－")
)


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=500)
@given(st.text(_TRICKY, max_size=12))
def test_normalize_is_idempotent_on_tricky_characters(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_normalize_leaves_single_inner_spaces_only(text: str) -> None:
    result = normalize(text)
    assert result == result.strip()
    assert "  " not in result
    assert result == " ".join(result.split())


# ---------------------------------------------------------------------------------------
# search_key
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        ("霞ヶ関", "霞ケ関", "霞が関", "霞ガ関", "霞ヵ関", "霞カ関", "霞 が 関", "霞ｹ関"),
        ("井の頭", "井ノ頭", "井之頭", "井ﾉ頭"),
        ("市ヶ谷", "市ケ谷", "市が谷"),
        ("千駄ヶ谷", "千駄ケ谷", "千駄が谷"),
        ("関ヶ原", "関ケ原", "関が原"),
        ("三ヶ月", "三カ月", "三ヵ月", "三か月"),
        ("3ヶ月", "3カ月", "3ヵ月", "3か月", "３ヶ月"),
        ("ミタカ", "みたか", "ﾐﾀｶ"),
        ("MITAKA City", "mitaka city", "ＭＩＴＡＫＡ　Ｃｉｔｙ", "MitakaCity"),
        ("三鷹市 下連雀", "三鷹市下連雀", "三鷹市\u3000下連雀"),
        ("ジブリ美術館", "じぶり美術館"),
    ],
)
def test_search_key_unifies_variants(variants: tuple[str, ...]) -> None:
    keys = {search_key(variant) for variant in variants}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("霞ヶ関", "霞が関"),
        ("井ノ頭", "井の頭"),
        ("井之頭恩賜公園", "井の頭恩賜公園"),
        ("ミタカ", "みたか"),
        ("ヴァイオリン", "ゔぁいおりん"),
        ("ＭＩＴＡＫＡ", "mitaka"),
        ("Straße", "strasse"),
        ("国分寺駅 南口", "国分寺駅南口"),
        ("ケーキ", "けーき"),
        ("ヽヾ", "ゝゞ"),
        # ヶ/之 not between kanji are plain characters.
        ("ヶ", "ゖ"),
        ("博之", "博之"),
        ("之", "之"),
        ("ケ丘", "け丘"),
        # カ between kana is ordinary katakana.
        ("ミカン", "みかん"),
    ],
)
def test_search_key(text: str, expected: str) -> None:
    assert search_key(text) == expected


@pytest.mark.parametrize(("first", "second"), [("三鷹", "下連雀"), ("霞が関", "井の頭")])
def test_search_key_keeps_different_names_apart(first: str, second: str) -> None:
    assert search_key(first) != search_key(second)


_KANJI_CHARS = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(_KANJI_CHARS, _KANJI_CHARS, st.sampled_from("ヶケヵカガかが"))
def test_search_key_ga_between_any_kanji(before: str, after: str, ga: str) -> None:
    def common(kanji: str) -> str:
        return KANJI_VARIANTS.get(kanji, kanji)

    assert search_key(f"{before}{ga}{after}") == f"{common(before)}が{common(after)}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("澤田", "沢田"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("髙島屋", "高島屋"),
        ("長﨑", "長崎"),
        ("濱松", "浜松"),
    ],
)
def test_search_key_unifies_old_and_variant_kanji(old: str, new: str) -> None:
    assert search_key(old) == search_key(new)


def test_fold_chars_keeps_positions_and_folds_variants() -> None:
    original = "霞ヶ関 井之頭 澤田 シモレンジャク ABC"
    folded = fold_chars(original)
    assert folded == "霞が関 井の頭 沢田 しもれんじゃく abc"
    assert len(folded) == len(original)


@given(st.text(max_size=40))
def test_fold_chars_never_changes_the_length(text: str) -> None:
    assert len(fold_chars(text)) == len(text)


# ---------------------------------------------------------------------------------------
# Kanji numerals
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("〇", 0),
        ("零", 0),
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("百", 100),
        ("千", 1000),
        ("千二百三十四", 1234),
        ("二〇二三", 2023),
        ("一九八九", 1989),
        ("〇五", 5),
        ("三十五万", 350_000),
        ("一万", 10_000),
        ("千万", 10_000_000),
        ("一億二千万", 120_000_000),
        ("九千九百九十九万九千九百九十九", 99_999_999),
        ("一兆", 10**12),
        ("壱", 1),
        ("弐拾", 20),
        ("参百", 300),
        ("壱万弐千参百拾", 12_310),
        ("壹萬", 10_000),
    ],
)
def test_kanji_to_int(text: str, expected: int) -> None:
    assert kanji_to_int(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid kanji numeral '': the string is empty"),
        ("十十", "invalid kanji numeral '十十': unit '十' is out of order"),
        ("百十百", "invalid kanji numeral '百十百': unit '百' is out of order"),
        ("十万億", "invalid kanji numeral '十万億': unit '億' is out of order"),
        ("一万万", "invalid kanji numeral '一万万': unit '万' is out of order"),
        ("二三十", "invalid kanji numeral '二三十': digit '三' follows another digit"),
        ("一〇十", "invalid kanji numeral '一〇十': digit '〇' follows another digit"),
        (
            "二千〇五",
            "invalid kanji numeral '二千〇五': 〇 is only valid in positional numerals "
            "such as 二〇二三",
        ),
        ("万", "invalid kanji numeral '万': '万' needs a coefficient such as 一万"),
        ("億", "invalid kanji numeral '億': '億' needs a coefficient such as 一億"),
        ("abc", "invalid kanji numeral 'abc': unexpected character 'a'"),
        ("1万", "invalid kanji numeral '1万': unexpected character '1'"),
        ("十a", "invalid kanji numeral '十a': unexpected character 'a'"),
        ("三鷹", "invalid kanji numeral '三鷹': unexpected character '鷹'"),
    ],
)
def test_kanji_to_int_rejects(text: str, message: str) -> None:
    assert error_message(kanji_to_int, text) == message


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "〇"),
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (100, "百"),
        (110, "百十"),
        (1000, "千"),
        (1234, "千二百三十四"),
        (2023, "二千二十三"),
        (10_000, "一万"),
        (10_001, "一万一"),
        (350_000, "三十五万"),
        (10_000_000, "千万"),
        (120_000_000, "一億二千万"),
        (10**12, "一兆"),
        (
            10**20 - 1,
            "九千九百九十九京九千九百九十九兆九千九百九十九億九千九百九十九万九千九百九十九",
        ),
    ],
)
def test_int_to_kanji(number: int, expected: str) -> None:
    assert int_to_kanji(number) == expected


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (-1, "cannot write -1 in kanji numerals: the range is 0 to 10**20 - 1"),
        (
            10**20,
            "cannot write 100000000000000000000 in kanji numerals: the range is 0 to 10**20 - 1",
        ),
    ],
)
def test_int_to_kanji_rejects(number: int, message: str) -> None:
    assert error_message(int_to_kanji, number) == message


@given(st.integers(min_value=0, max_value=10**12))
def test_kanji_round_trip(number: int) -> None:
    assert kanji_to_int(int_to_kanji(number)) == number


@given(st.integers(min_value=0, max_value=10**12))
def test_kanji_positional_notation(number: int) -> None:
    positional = str(number).translate(str.maketrans("0123456789", "〇一二三四五六七八九"))
    assert kanji_to_int(positional) == number


@pytest.mark.parametrize(("number", "expected"), [(1, "一"), (3, "三"), (12, "十二"), (20, "二十")])
def test_chome_to_kanji(number: int, expected: str) -> None:
    assert chome_to_kanji(number) == expected


def test_chome_to_kanji_rejects_zero() -> None:
    assert error_message(chome_to_kanji, 0) == "invalid 丁目 number 0: it must be 1 or greater"


# ---------------------------------------------------------------------------------------
# replace_kanji_numbers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Addresses.
        ("三丁目二十二番", "3丁目22番"),
        ("三丁目二十二番十四号", "3丁目22番14号"),
        ("三鷹市下連雀三丁目二十二番十四号", "三鷹市下連雀3丁目22番14号"),
        ("八王子市千人町二丁目", "八王子市千人町2丁目"),
        ("八丁堀三丁目", "八丁堀3丁目"),
        ("二十二番地十四", "22番地14"),
        ("三丁目二十二の十四", "3丁目22の14"),
        ("三丁目二十二", "3丁目22"),
        ("岩手郡雫石町第五地割", "岩手郡雫石町第5地割"),
        ("四地割", "4地割"),
        ("五線", "5線"),
        # Dates and times.
        ("令和五年四月一日", "令和5年4月1日"),
        ("二〇二三年四月一日", "2023年4月1日"),
        ("九時十五分三十秒", "9時15分30秒"),
        ("令和五年度", "令和5年度"),
        # Quantities with the listed counters.
        ("三人", "3人"),
        ("千円", "1000円"),
        ("一万円", "10000円"),
        ("三十五万人", "350000人"),
        ("二十歳", "20歳"),
        ("五十階", "50階"),
        ("第三回", "第3回"),
        ("二件", "2件"),
        ("三個", "3個"),
        ("五本", "5本"),
        ("十枚", "10枚"),
        ("三か月", "3か月"),
        ("三ヶ月", "3ヶ月"),
        ("二か所", "2か所"),
        # 条 and 区 count only after 第.
        ("第一区", "第1区"),
        ("第一条", "第1条"),
        ("第一条第二項", "第1条第二項"),
        # Suffixes that extend a quantity.
        ("三人以上", "3人以上"),
        ("十八歳未満", "18歳未満"),
        ("一年生", "1年生"),
        ("三日間", "3日間"),
        ("三回目", "3回目"),
        ("四月分", "4月分"),
        ("一番線", "1番線"),
        ("十六号線", "16号線"),
        ("三号館", "3号館"),
        # Text around the numbers is untouched.
        ("会議は三月十日です。", "会議は3月10日です。"),
        ("参加者：三十人", "参加者：30人"),
        ("", ""),
        ("数字なし", "数字なし"),
    ],
)
def test_replace_kanji_numbers(text: str, expected: str) -> None:
    assert replace_kanji_numbers(text) == expected


@pytest.mark.parametrize(
    "name",
    [
        "一橋",
        "九段",
        "九段下",
        "四谷",
        "四ツ谷",
        "三鷹",
        "八王子",
        "五日市",
        "五日市街道",
        "十日町",
        "四日市",
        "十日市場",
        "千葉",
        "万世橋",
        "一宮",
        "六本木",
        "二本松",
        "三本木",
        "一番町",
        "百人町",
        "千歳",
        "千歳烏山",
        "十条",
        "四条河原町",
        "三ヶ日",
        "三日月",
        "九十九里",
        "百万遍",
        "八丈島",
        "三軒茶屋",
        "五反田",
        "八千代",
        "千代田",
        "十和田",
        "二子玉川",
        "一の橋",
        "五月雨",
        "一時的",
        "百人一首",
        "一区",
        "三丁目一橋",
    ],
)
def test_replace_kanji_numbers_keeps_names(name: str) -> None:
    assert replace_kanji_numbers(name) == name


@given(st.integers(min_value=1, max_value=10**12))
def test_replace_kanji_numbers_converts_amounts(number: int) -> None:
    assert replace_kanji_numbers(f"{int_to_kanji(number)}円") == f"{number}円"


# ---------------------------------------------------------------------------------------
# normalize_address_numbers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Mitaka City Hall and the 三鷹市下連雀 examples.
        ("東京都三鷹市野崎1-1-1", "東京都三鷹市野崎一丁目1-1"),
        ("東京都三鷹市野崎一丁目1番1号", "東京都三鷹市野崎一丁目1-1"),
        ("東京都三鷹市野崎１－１－１", "東京都三鷹市野崎一丁目1-1"),
        ("東京都三鷹市下連雀三丁目２２番１４号", "東京都三鷹市下連雀三丁目22-14"),
        ("三鷹市下連雀3-22-14", "三鷹市下連雀三丁目22-14"),
        ("三鷹市下連雀3ー22ー14", "三鷹市下連雀三丁目22-14"),
        ("下連雀３丁目22の14 ２F", "下連雀三丁目22-14 2F"),
        ("下連雀三丁目２２番１４号", "下連雀三丁目22-14"),
        ("3丁目22番地14", "三丁目22-14"),
        ("3-22-14", "三丁目22-14"),
        ("３丁目２２の１４", "三丁目22-14"),
        ("三丁目22番14号", "三丁目22-14"),
        ("三丁目二十二番十四号", "三丁目22-14"),
        ("三丁目二十二番地の十四", "三丁目22-14"),
        ("井の頭4-1-1", "井の頭四丁目1-1"),
        ("三鷹市井の頭四丁目1番1号", "三鷹市井の頭四丁目1-1"),
        ("大沢二丁目2番地", "大沢二丁目2"),
        ("野崎1丁目1-1-101", "野崎一丁目1-1-101"),
        ("三丁目22番14号 101号室", "三丁目22-14 101号室"),
        ("下連雀3丁目22-14コーポ", "下連雀三丁目22-14コーポ"),
        ("二十丁目5-6", "二十丁目5-6"),
        ("12丁目3-4", "十二丁目3-4"),
        # 番地先 ("in front of lot N") stays whole.
        ("野崎一丁目1番地先", "野崎一丁目1番地先"),
        # Without 丁目 (大字 areas).
        ("大字野崎123番地4", "大字野崎123-4"),
        ("大字野崎123番地の4", "大字野崎123-4"),
        ("字北野22番14号", "字北野22-14"),
        ("字北野二十二番十四号", "字北野22-14"),
        ("大字野崎123番地先", "大字野崎123番地先"),
        # Left alone: already canonical, or not an address number.
        ("下連雀三丁目", "下連雀三丁目"),
        ("三鷹市下連雀三丁目22-14", "三鷹市下連雀三丁目22-14"),
        ("中原123-4", "中原123-4"),
        ("一番町", "一番町"),
        ("〒181-8555", "〒181-8555"),
        ("0422-45-1151", "0422-45-1151"),
        ("2023-04-01", "2023-04-01"),
        ("R5-4-1", "R5-4-1"),
        ("", ""),
    ],
)
def test_normalize_address_numbers(text: str, expected: str) -> None:
    assert normalize_address_numbers(text) == expected


@given(
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=1, max_value=9999),
    st.integers(min_value=1, max_value=999),
)
def test_address_forms_agree(chome: int, banchi: int, go: int) -> None:
    canonical = f"下連雀{int_to_kanji(chome)}丁目{banchi}-{go}"
    forms = [
        f"下連雀{chome}-{banchi}-{go}",
        f"下連雀{chome}丁目{banchi}番{go}号",
        f"下連雀{chome}丁目{banchi}番地{go}",
        f"下連雀{chome}丁目{banchi}の{go}",
        f"下連雀{int_to_kanji(chome)}丁目{int_to_kanji(banchi)}番{int_to_kanji(go)}号",
        canonical,
    ]
    for form in forms:
        assert normalize_address_numbers(form) == canonical, form


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-04-01", date(2023, 4, 1)),
        ("2023-4-1", date(2023, 4, 1)),
        ("2023/4/1", date(2023, 4, 1)),
        ("2023/04/01", date(2023, 4, 1)),
        ("2023.4.1", date(2023, 4, 1)),
        ("2023年4月1日", date(2023, 4, 1)),
        ("2023年04月01日", date(2023, 4, 1)),
        ("20230401", date(2023, 4, 1)),
        ("２０２３－０４－０１", date(2023, 4, 1)),
        ("２０２３年４月１日", date(2023, 4, 1)),
        ("二〇二三年四月一日", date(2023, 4, 1)),
        ("二千二十三年四月一日", date(2023, 4, 1)),
        (" 2023/4/1 ", date(2023, 4, 1)),
        ("2023年4月1日(土)", date(2023, 4, 1)),
        ("2023年4月1日（土曜日）", date(2023, 4, 1)),
        ("2024-02-29", date(2024, 2, 29)),
        # 和暦
        ("令和5年4月1日", date(2023, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和五年四月一日", date(2023, 4, 1)),
        ("令和 5年 4月 1日", date(2023, 4, 1)),
        ("令和５年４月１日", date(2023, 4, 1)),
        ("令和5/4/1", date(2023, 4, 1)),
        ("R5.4.1", date(2023, 4, 1)),
        ("r5.4.1", date(2023, 4, 1)),
        ("R05.04.01", date(2023, 4, 1)),
        ("Ｒ５．４．１", date(2023, 4, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("H31/4/30", date(2019, 4, 30)),
        ("h31-4-30", date(2019, 4, 30)),
        ("S64.1.7", date(1989, 1, 7)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M6.1.1", date(1873, 1, 1)),
        ("㋿5年4月1日", date(2023, 4, 1)),
        ("㍻31年4月30日", date(2019, 4, 30)),
        ("㍼64年1月7日", date(1989, 1, 7)),
        ("㍽15年12月24日", date(1926, 12, 24)),
        ("㍾45年7月29日", date(1912, 7, 29)),
        ("令和5年4月1日(土)", date(2023, 4, 1)),
        # Era boundaries.
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年12月31日", date(2019, 12, 31)),
        ("令和2年1月1日", date(2020, 1, 1)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("明治元年10月23日", date(1868, 10, 23)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


_UNRECOGNIZED = "expected a form such as 2023-04-01, 2023年4月1日, 令和5年4月1日 or R5.4.1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "平成31年5月1日",
            "invalid date '平成31年5月1日': 2019-05-01 is outside the 平成 era "
            "(1989-01-08 to 2019-04-30)",
        ),
        (
            "令和1年4月30日",
            "invalid date '令和1年4月30日': 2019-04-30 is outside the 令和 era "
            "(2019-05-01 onwards)",
        ),
        (
            "昭和64年1月8日",
            "invalid date '昭和64年1月8日': 1989-01-08 is outside the 昭和 era "
            "(1926-12-25 to 1989-01-07)",
        ),
        (
            "平成元年1月7日",
            "invalid date '平成元年1月7日': 1989-01-07 is outside the 平成 era "
            "(1989-01-08 to 2019-04-30)",
        ),
        (
            "大正15年12月25日",
            "invalid date '大正15年12月25日': 1926-12-25 is outside the 大正 era "
            "(1912-07-30 to 1926-12-24)",
        ),
        (
            "明治45年7月30日",
            "invalid date '明治45年7月30日': 1912-07-30 is outside the 明治 era "
            "(1868-10-23 to 1912-07-29)",
        ),
        (
            "H31.5.1",
            "invalid date 'H31.5.1': 2019-05-01 is outside the 平成 era (1989-01-08 to 2019-04-30)",
        ),
        ("2023-02-30", "invalid date '2023-02-30': day is out of range for month"),
        ("2023/2/30", "invalid date '2023/2/30': day is out of range for month"),
        ("2023-13-01", "invalid date '2023-13-01': month must be in 1..12"),
        ("20231301", "invalid date '20231301': month must be in 1..12"),
        ("令和5年2月29日", "invalid date '令和5年2月29日': day is out of range for month"),
        ("令和0年1月1日", "invalid date '令和0年1月1日': an era year starts at 1 (元年)"),
        ("23/4/1", "invalid date '23/4/1': a year without an era needs four digits"),
        ("5年4月1日", "invalid date '5年4月1日': a year without an era needs four digits"),
        ("元年5月1日", "invalid date '元年5月1日': a year without an era needs four digits"),
        (
            "令和十十年1月1日",
            "invalid date '令和十十年1月1日': "
            "invalid kanji numeral '十十': unit '十' is out of order",
        ),
        (
            "2023年4月1日(日)",
            "invalid date '2023年4月1日(日)': 2023-04-01 is a 土曜日, not a 日曜日",
        ),
        (
            "令和一京年1月1日",
            "invalid date '令和一京年1月1日': 10000000000002018-1-1 is out of range",
        ),
        (
            "2023年4月一京日",
            "invalid date '2023年4月一京日': 2023-4-10000000000000000 is out of range",
        ),
        ("令和9999年1月1日", "invalid date '令和9999年1月1日': year 12017 is out of range"),
        ("2023/4-1", f"unrecognized date '2023/4-1': {_UNRECOGNIZED}"),
        ("2023年4月", f"unrecognized date '2023年4月': {_UNRECOGNIZED}"),
        ("X5.4.1", f"unrecognized date 'X5.4.1': {_UNRECOGNIZED}"),
        ("foo", f"unrecognized date 'foo': {_UNRECOGNIZED}"),
        ("", f"unrecognized date '': {_UNRECOGNIZED}"),
    ],
)
def test_parse_date_rejects(text: str, message: str) -> None:
    assert error_message(parse_date, text) == message


@pytest.mark.parametrize(
    ("day", "era", "kanji", "short"),
    [
        (date(1868, 10, 23), ("明治", 1), "明治元年10月23日", "M1.10.23"),
        (date(1873, 1, 1), ("明治", 6), "明治6年1月1日", "M6.1.1"),
        (date(1912, 7, 29), ("明治", 45), "明治45年7月29日", "M45.7.29"),
        (date(1912, 7, 30), ("大正", 1), "大正元年7月30日", "T1.7.30"),
        (date(1926, 12, 24), ("大正", 15), "大正15年12月24日", "T15.12.24"),
        (date(1926, 12, 25), ("昭和", 1), "昭和元年12月25日", "S1.12.25"),
        (date(1989, 1, 7), ("昭和", 64), "昭和64年1月7日", "S64.1.7"),
        (date(1989, 1, 8), ("平成", 1), "平成元年1月8日", "H1.1.8"),
        (date(2019, 4, 30), ("平成", 31), "平成31年4月30日", "H31.4.30"),
        (date(2019, 5, 1), ("令和", 1), "令和元年5月1日", "R1.5.1"),
        (date(2023, 4, 1), ("令和", 5), "令和5年4月1日", "R5.4.1"),
    ],
)
def test_wareki(day: date, era: tuple[str, int], kanji: str, short: str) -> None:
    assert era_of(day) == era
    assert to_wareki(day) == kanji
    assert to_wareki(day, style="kanji") == kanji
    assert to_wareki(day, style="short") == short


def test_era_of_rejects_dates_before_meiji() -> None:
    assert (
        error_message(era_of, date(1868, 10, 22))
        == "1868-10-22 is before the 明治 era (1868-10-23), which has no 和暦 here"
    )


def test_to_wareki_rejects_unknown_style() -> None:
    message = error_message(lambda: to_wareki(date(2023, 4, 1), style="long"))
    assert message == "unknown wareki style 'long': use 'kanji' or 'short'"


_SOLAR_CALENDAR_START = date(1873, 1, 1)


@given(st.dates(min_value=_SOLAR_CALENDAR_START, max_value=date(2100, 12, 31)))
def test_wareki_round_trip(day: date) -> None:
    assert parse_date(to_wareki(day)) == day
    assert parse_date(to_wareki(day, style="short")) == day


@given(st.dates(min_value=_SOLAR_CALENDAR_START, max_value=date(2100, 12, 31)))
def test_western_forms_round_trip(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_date(day.strftime("%Y%m%d")) == day


@given(st.dates(min_value=_SOLAR_CALENDAR_START, max_value=date(2100, 12, 31)))
def test_wareki_in_kanji_numerals_round_trip(day: date) -> None:
    name, year = era_of(day)
    year_text = "元" if year == 1 else int_to_kanji(year)
    text = f"{name}{year_text}年{int_to_kanji(day.month)}月{int_to_kanji(day.day)}日"
    assert parse_date(text) == day


def test_every_day_from_1873_to_2100_round_trips() -> None:
    day = _SOLAR_CALENDAR_START
    while day <= date(2100, 12, 31):
        assert parse_date(to_wareki(day)) == day
        assert parse_date(to_wareki(day, style="short")) == day
        day += timedelta(days=1)


def test_every_era_boundary_day_round_trips() -> None:
    for start in (date(1912, 7, 30), date(1926, 12, 25), date(1989, 1, 8), date(2019, 5, 1)):
        for day in (start - timedelta(days=1), start):
            assert parse_date(to_wareki(day)) == day


# ---------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", time(9, 0)),
        ("09:00", time(9, 0)),
        ("09:00:00", time(9, 0)),
        ("23:59:59", time(23, 59, 59)),
        ("0:00", time(0, 0)),
        ("９：３０", time(9, 30)),
        ("９時３０分", time(9, 30)),
        ("9時", time(9, 0)),
        ("9時30分15秒", time(9, 30, 15)),
        ("九時半", time(9, 30)),
        ("十時", time(10, 0)),
        ("十七時十五分", time(17, 15)),
        ("零時", time(0, 0)),
        ("午後1時", time(13, 0)),
        ("午後1:30", time(13, 30)),
        ("午前9時30分", time(9, 30)),
        ("午後0時", time(12, 0)),
        ("午前0時", time(0, 0)),
        ("午後11時59分", time(23, 59)),
        ("午後 ５時", time(17, 0)),
    ],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


_TIME_FORMS = "expected a form such as 9:00, 09:00:00, 9時30分 or 午後1時"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "24:00",
            "invalid time '24:00': hour 24 is out of range 0-23 "
            "(write midnight as 0:00 of the next day)",
        ),
        (
            "25:30",
            "invalid time '25:30': hour 25 is out of range 0-23 "
            "(write midnight as 0:00 of the next day)",
        ),
        (
            "午後12時",
            "invalid time '午後12時': with 午後 the hour must be 0 to 11 "
            "(write noon as 午後0時 and midnight as 午前0時)",
        ),
        (
            "午前12時",
            "invalid time '午前12時': with 午前 the hour must be 0 to 11 "
            "(write noon as 午後0時 and midnight as 午前0時)",
        ),
        ("9:60", "invalid time '9:60': minutes and seconds must be 0-59"),
        ("9:00:60", "invalid time '9:00:60': minutes and seconds must be 0-59"),
        ("9時61分", "invalid time '9時61分': minutes and seconds must be 0-59"),
        (
            "十十時",
            "invalid time '十十時': invalid kanji numeral '十十': unit '十' is out of order",
        ),
        ("9:5", f"unrecognized time '9:5': {_TIME_FORMS}"),
        ("noon", f"unrecognized time 'noon': {_TIME_FORMS}"),
        ("", f"unrecognized time '': {_TIME_FORMS}"),
    ],
)
def test_parse_time_rejects(text: str, message: str) -> None:
    assert error_message(parse_time, text) == message


@given(st.times().map(lambda t: t.replace(microsecond=0)))
def test_time_round_trip(value: time) -> None:
    assert parse_time(value.isoformat()) == value
    assert parse_time(f"{value.hour}時{value.minute}分{value.second}秒") == value


# ---------------------------------------------------------------------------------------
# Phone numbers and postcodes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("０４２２－４５－１１５１", "0422-45-1151"),
        ("0422-45-1151", "0422-45-1151"),
        ("0422ー45ー1151", "0422-45-1151"),
        ("(0422)45-1151", "0422-45-1151"),
        ("（０４２２）４５－１１５１", "0422-45-1151"),
        ("0422(45)1151", "0422-45-1151"),
        ("0422 45 1151", "0422-45-1151"),
        ("0422451151", "0422451151"),
        ("+81 422-45-1151", "0422-45-1151"),
        ("+81-422-45-1151", "0422-45-1151"),
        ("+81 (0)422-45-1151", "0422-45-1151"),
        ("+81 90-1234-5678", "090-1234-5678"),
        ("+819012345678", "09012345678"),
        ("090-1234-5678", "090-1234-5678"),
        ("03-1234-5678", "03-1234-5678"),
        ("0120-123-456", "0120-123-456"),
        ("0422.45.1151", "0422-45-1151"),
        ("TEL 0422-45-1151", "0422-45-1151"),
        ("Tel.0422-45-1151", "0422-45-1151"),
        ("電話：0422-45-1151", "0422-45-1151"),
        ("℡0422-45-1151", "0422-45-1151"),
        # Service numbers.
        ("110", "110"),
        ("119", "119"),
        ("１１８", "118"),
        ("#7119", "#7119"),
        ("#8000", "#8000"),
        ("＃８０００", "#8000"),
        # Not plausible.
        ("0422-45-115", None),
        ("0422-45-11511", "0422-45-11511"),
        ("0422-45-115111", None),
        ("422-45-1151", None),
        ("0422-45-1151-1", None),
        ("0-4-2-2-4-5-1-1-5-1", None),
        ("+1 555 123 4567", None),
        ("0422-45-1151 内線123", None),
        ("1100", None),
        ("#711", None),
        ("abc", None),
        ("", None),
    ],
)
def test_normalize_phone(text: str, expected: str | None) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("〒181-8555", "181-8555"),
        ("〒 181-8555", "181-8555"),
        ("1818555", "181-8555"),
        ("181-8555", "181-8555"),
        ("１８１－８５５５", "181-8555"),
        ("〒181ー8555", "181-8555"),
        ("181 8555", "181-8555"),
        ("郵便番号 181-8555", "181-8555"),
        ("181-855", None),
        ("18185555", None),
        ("181-85555", None),
        ("abc", None),
        ("", None),
    ],
)
def test_normalize_postcode(text: str, expected: str | None) -> None:
    assert normalize_postcode(text) == expected


# ---------------------------------------------------------------------------------------
# Robustness: arbitrary input never raises anything but ValueError
# ---------------------------------------------------------------------------------------

_JAPANESE_TEXT = st.text(
    st.sampled_from(
        list("0123456789０１２３ -/.:()#+〒年月日時分秒半元午前後令和平成昭和RHSTM")
        + list("〇一二三四五六七八九十百千万億兆京壱弐参拾丁目番地号の之ヶケ三鷹市町区条第歳")
        + list("ーｰ－―〜土曜")
    ),
    max_size=16,
)


@settings(max_examples=300)
@given(st.one_of(st.text(), _JAPANESE_TEXT))
def test_functions_fail_only_with_value_error(text: str) -> None:
    assert isinstance(search_key(text), str)
    assert isinstance(replace_kanji_numbers(text), str)
    assert isinstance(normalize_address_numbers(text), str)
    assert normalize_phone(text) is None or isinstance(normalize_phone(text), str)
    assert normalize_postcode(text) is None or isinstance(normalize_postcode(text), str)
    for parse in (parse_date, parse_time, kanji_to_int):
        with contextlib.suppress(ValueError):
            parse(text)


@given(_JAPANESE_TEXT)
def test_normalize_address_numbers_is_idempotent(text: str) -> None:
    once = normalize_address_numbers(text)
    assert normalize_address_numbers(once) == once


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ヤマダ タロウ", "ヤマダ タロウ"),
        ("やまだ　たろう", "ヤマダ タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("  サトウ   ユーコ ", "サトウ ユーコ"),
        ("ヴァン・デル", "ヴァン・デル"),
    ],
)
def test_katakana_name_writes_readings_in_full_width_katakana(written: str, expected: str) -> None:
    assert katakana_name(written) == expected


@pytest.mark.parametrize("written", ["山田", "yamada", "ヤマダ1", "ヤマダ！", "", "   "])
def test_katakana_name_refuses_what_is_not_a_reading(written: str) -> None:
    with pytest.raises(ValueError, match="katakana"):
        katakana_name(written)
