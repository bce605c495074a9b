"""The address normalizer on the many ways people write one address, all over Japan."""

from __future__ import annotations

import pytest

from cityos.address.service import normalize, reverse

MITAKA = ("東京都", "三鷹市", "下連雀三丁目", "22-14")


@pytest.mark.parametrize(
    "written",
    [
        "東京都三鷹市下連雀三丁目２２番１４号",
        "東京都三鷹市下連雀3丁目22番14号",
        "東京都三鷹市下連雀3-22-14",
        "三鷹市下連雀3-22-14",
        "下連雀3-22-14",
        "下連雀３丁目22の14",
        "東京都三鷹市下連雀三丁目二十二番十四号",
        "東京都三鷹市下連雀3丁目22番地14",
        "東京都三鷹市下連雀3ー22ー14",
        "東京都三鷹市下連雀3−22−14",
        "東京都三鷹市下連雀3―22―14",
        "東京都 三鷹市 下連雀 3-22-14",
        "東京都三鷹市\n下連雀3-22-14",
        "〒181-0013 東京都三鷹市下連雀3-22-14",
        "181-0013 三鷹市下連雀3-22-14",
        "1810013三鷹市下連雀3-22-14",
        "ｼﾓﾚﾝｼﾞｬｸ3-22-14",
        "三鷹市シモレンジャク3丁目22-14",
        "東京都三鷹市下連省3-22-14",
        "とうきょうと三鷹市下連雀3-22-14",
        "三鷹市下連雀三—二二—一四",
        "三鷹市下連雀三ー二二ー一四",
        "東京都 三鷹市 下連雀 三丁目 二十二番 十四号",
        "東京都三鷹市下蓮雀三丁目22-14",
    ],
)
def test_one_mitaka_address_written_many_ways(written: str) -> None:
    result = normalize(written)
    assert (result.pref, result.city, result.town, result.addr) == MITAKA
    assert result.level == 8
    assert result.lat is not None
    assert 35.69 < result.lat < 35.71


@pytest.mark.parametrize(
    ("written", "pref", "city", "town", "addr"),
    [
        ("東京都新宿区西新宿2-8-1", "東京都", "新宿区", "西新宿二丁目", "8-1"),
        ("大阪府堺市北区新金岡町4丁1−8", "大阪府", "堺市北区", "新金岡町四丁", "1-8"),
        ("神奈川県横浜市中区本町6-50-10", "神奈川県", "横浜市中区", "本町六丁目", "50-10"),
        ("大阪市北区梅田3-1-1", "大阪府", "大阪市北区", "梅田三丁目", "1-1"),
        ("大阪市梅田3-1-1", "大阪府", "大阪市北区", "梅田三丁目", "1-1"),
        ("神奈川県横浜市本町6-50-10", "神奈川県", "横浜市中区", "本町六丁目", "50-10"),
        ("北海道札幌市中央区北1条西2丁目", "北海道", "札幌市中央区", "北一条西二丁目", None),
        ("愛知県名古屋市中区三の丸3-1-1", "愛知県", "名古屋市中区", "三の丸三丁目", "1-1"),
        ("沖縄県那覇市泉崎1-2-2", "沖縄県", "那覇市", "泉崎一丁目", "2-2"),
        ("福岡県福岡市博多区博多駅前2丁目1-1", "福岡県", "福岡市博多区", "博多駅前二丁目", "1-1"),
        ("西多摩郡瑞穂町箱根ケ崎2335", "東京都", "西多摩郡瑞穂町", "大字箱根ケ崎", "2335"),
        ("東京都瑞穂町箱根ヶ崎2335", "東京都", "西多摩郡瑞穂町", "大字箱根ケ崎", "2335"),
        ("東京都瑞穂町大字箱根ケ崎2335", "東京都", "西多摩郡瑞穂町", "大字箱根ケ崎", "2335"),
        (
            "京都市中京区寺町通御池上る上本能寺前町488",
            "京都府",
            "京都市中京区",
            "上本能寺前町",
            "488",
        ),
        (
            "京都府京都市下京区烏丸通七条下る東塩小路町721-1",
            "京都府",
            "京都市下京区",
            "東塩小路町",
            "721-1",
        ),
        ("東京都府中市宮西町2-24", "東京都", "府中市", "宮西町二丁目", "24"),
        ("広島県府中市府川町315", "広島県", "府中市", "府川町", "315"),
        ("東京都三鷹市井之頭1-2", "東京都", "三鷹市", "井の頭一丁目", "2"),
        ("東京都三鷹市井ノ頭一丁目2番", "東京都", "三鷹市", "井の頭一丁目", "2"),
    ],
)
def test_addresses_across_japan(
    written: str, pref: str, city: str, town: str, addr: str | None
) -> None:
    result = normalize(written)
    assert (result.pref, result.city, result.town, result.addr) == (pref, city, town, addr)
    assert result.level == (8 if addr else 3)


@pytest.mark.parametrize(
    ("written", "city", "town", "addr"),
    [
        ("北海道爾志郡 乙部町字緑町\n37番地", "爾志郡乙部町", "字緑町", "37"),
        ("大阪府 大阪市 旭区大宮1-1-17", "大阪市旭区", "大宮一丁目", "1-17"),
        ("青森県北津軽郡 板柳町大字牡丹森51番地\r\n", "北津軽郡板柳町", "大字牡丹森", "51"),
        ("福岡市南区大橋団地1620-7", "福岡市南区", "大橋団地", "1620-7"),
        ("三鷹市ｷﾀﾉ2-14-24", "三鷹市", "北野二丁目", "14-24"),
        ("青森県東津軽郡外ケ浜町字蟹田右浜2268番3号", "東津軽郡外ケ浜町", "字蟹田石浜", "2268-3"),
    ],
)
def test_spaces_names_ending_in_numbers_and_typos(
    written: str, city: str, town: str, addr: str
) -> None:
    result = normalize(written)
    assert (result.city, result.town, result.addr) == (city, town, addr)


@pytest.mark.parametrize(
    ("written", "town", "addr"),
    [
        ("福岡県糸島市波多江字中川原100", "波多江字中川原", "100"),
        ("岩手県岩手郡葛巻町葛巻第16地割1-1", "葛巻第十六地割", "1-1"),
        ("香川県小豆郡小豆島町片城甲44-130", "片城", "甲44-130"),
        ("北海道深川市メム4558番地", "深川町メム", "4558"),
        ("長野県長野市県町524番地", "大字南長野県町", "524"),
    ],
)
def test_small_areas_the_list_knows_by_their_own_name_or_not_at_all(
    written: str, town: str, addr: str
) -> None:
    result = normalize(written)
    assert (result.town, result.addr, result.level) == (town, addr, 8)


@pytest.mark.parametrize(
    "prefecture", ["青森県", "静岡県", "茨城県", "神奈川県", "京都府", "三重県"]
)
def test_a_prefecture_alone_is_only_a_prefecture(prefecture: str) -> None:
    result = normalize(prefecture)
    assert (result.pref, result.city, result.town, result.level) == (prefecture, None, None, 1)


def test_the_rest_is_kept_as_other() -> None:
    room = normalize("三鷹市下連雀3丁目22-14-101")
    assert (room.addr, room.other) == ("22-14", "101")
    building = normalize("東京都三鷹市下連雀3丁目22番14号 三鷹ハイツ１０１")
    assert (building.addr, building.other) == ("22-14", "三鷹ハイツ101")
    result = normalize("東京都三鷹市下連雀3-22-14 ハイツ三鷹201号室")
    assert result.addr == "22-14"
    assert result.other == "ハイツ三鷹201号室"
    floor = normalize("下連雀３丁目22の14 ２F")
    assert floor.other == "2F"
    assert normalize("東京都三鷹市下連雀三丁目 3F").addr is None


def test_levels_say_how_far_the_address_was_understood() -> None:
    assert normalize("東京都").level == 1
    assert normalize("東京都三鷹市").level == 2
    assert normalize("東京都三鷹市下連雀三丁目").level == 3
    assert normalize("東京都三鷹市下連雀三丁目22").level == 8
    city_only = normalize("東京都三鷹市")
    assert (city_only.lat, city_only.lon) != (normalize("東京都").lat, normalize("東京都").lon)


def test_a_shared_town_name_is_ambiguous_unless_a_city_is_preferred() -> None:
    shared = normalize("野崎1-1-1")
    assert shared.level == 0
    assert shared.ambiguous
    assert "東京都三鷹市" in shared.candidates
    chosen = normalize("野崎1-1-1", prefer_city="三鷹市")
    assert (chosen.city, chosen.town, chosen.addr) == ("三鷹市", "野崎一丁目", "1-1")


def test_a_postcode_alone_still_finds_the_city() -> None:
    result = normalize("〒181-8555")
    assert (result.pref, result.city) == ("東京都", "三鷹市")


@pytest.mark.parametrize(
    "written",
    ["", "   ", "hello world", "😀🏠", "\x00\x07\x1b", "x" * 10_000, "a-1-2", "東" * 5000],
)
def test_anything_else_gives_level_zero_and_never_raises(written: str) -> None:
    result = normalize(written)
    assert result.level == 0
    assert (result.pref, result.city, result.town, result.addr) == (None, None, None, None)


def test_old_and_new_kanji_meet() -> None:
    assert normalize("東京都三鷹市下連雀三丁目").town == normalize("東京都三鷹市下連雀三丁目").town
    old = normalize("長﨑県長﨑市")
    assert (old.pref, old.city) == ("長崎県", "長崎市")


def test_reverse_geocoding_finds_the_mitaka_town_at_a_point() -> None:
    # The town whose representative point is nearest (no boundary polygons are shipped):
    # 野崎一丁目's point is at 35.682787, 139.553130; 100 m north-east of it is still 野崎一丁目.
    near = reverse(35.6835, 139.5538)
    assert near is not None
    assert (near["pref"], near["city"], near["town"]) == ("東京都", "三鷹市", "野崎一丁目")
    assert 50 < near["distance_m"] < 150
    station = reverse(35.7023, 139.5607)
    assert station is not None
    assert station["town"] in {"下連雀三丁目", "中町一丁目"}


def test_every_mitaka_town_reverse_geocodes_to_itself() -> None:
    for town in ("井口一丁目", "大沢六丁目", "牟礼七丁目", "新川六丁目", "深大寺三丁目"):
        place = normalize(f"東京都三鷹市{town}")
        assert place.lat is not None
        assert place.lon is not None
        found = reverse(place.lat, place.lon)
        assert found is not None
        assert found["town"] == town
