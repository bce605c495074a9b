"""Personal information and abuse are found in opinions and masked before publishing."""

import pytest

from cityos.voice import moderation


def kinds(written: str) -> list[str]:
    return [finding.kind for finding in moderation.check(written).findings]


@pytest.mark.parametrize(
    "written",
    [
        "連絡は090-1234-5678までお願いします。",
        "電話は０４２２－４５－１１５１です",
        "電話(0422)45-1151にください",
        "09012345678に折り返しを",
        "+81 90 1234 5678",
    ],
)
def test_phone_numbers_are_masked(written: str) -> None:
    checked = moderation.check(written)
    assert kinds(written) == ["phone"]
    assert "●●●" in checked.published
    assert not any(digit in checked.published for digit in "123456789")


def test_an_email_address_is_masked() -> None:
    checked = moderation.check("返事は taro.yamada+city@example.co.jp にください")
    assert checked.published == "返事は ●●● にください"
    assert kinds(checked.normalized) == ["email"]


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("私は下連雀3-22-14に住んでいます", "私は●●●に住んでいます"),
        ("三鷹市下連雀三丁目22番14号の前の道路が暗い", "●●●の前の道路が暗い"),
        ("上連雀5-1-3の角に段差があります", "●●●の角に段差があります"),
    ],
)
def test_street_addresses_with_house_numbers_are_masked(written: str, published: str) -> None:
    assert moderation.check(written).published == published


@pytest.mark.parametrize(
    "written",
    [
        "井の頭公園の桜がきれいでした",
        "下連雀の交差点は危ない",
        "会議は3-4人で十分です",
        "令和6年10月1日から始まります",
        "2024年10月1日 1000人が参加",
    ],
)
def test_places_dates_and_counts_without_a_house_number_stay(written: str) -> None:
    assert kinds(written) == []


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("近所の田中さんが毎晩騒いでいます", "近所の●●●さんが毎晩騒いでいます"),
        ("山田太郎様に感謝しています", "●●●様に感謝しています"),
        ("担当の佐々木さんが親切でした", "担当の●●●さんが親切でした"),
        ("スミスさんのお店がおすすめ", "●●●さんのお店がおすすめ"),
    ],
)
def test_names_of_people_before_an_honorific_are_masked(written: str, published: str) -> None:
    assert moderation.check(written).published == published


@pytest.mark.parametrize(
    "written",
    [
        "市長さん、ありがとうございます",
        "皆さんの協力に感謝",
        "助産師さんに相談できました",
        "地元のパン屋さんにお世話になりました",
        "ケアマネジャーさんを紹介してもらいました",
        "赤ちゃん訪問が心強かった",
        "毎月様子を見に来てくださいます",
        "駐輪場を探して10分以上さまようことがあります",
    ],
)
def test_roles_trades_and_words_like_honorifics_are_not_names(written: str) -> None:
    assert kinds(written) == []


@pytest.mark.parametrize(
    "written", ["担当者はバカだ", "担当者はバ・カだ", "担当者はﾊﾞｶだ", "職員は無能", "死ね", "し ね"]
)
def test_abuse_is_found_in_its_spelling_variants(written: str) -> None:
    assert kinds(written) == ["abuse"]
    assert "●●●" in moderation.check(written).published


@pytest.mark.parametrize(
    "written",
    [
        "マイナンバーカードの更新が分かりにくい",
        "雨ばかりで困ります",
        "ゴミの収集日を増やしてください",
        "踊る阿呆に見る阿呆、阿波おどりは最高",
    ],
)
def test_ordinary_words_containing_abuse_letters_stay(written: str) -> None:
    assert kinds(written) == []


def test_several_findings_are_each_masked_and_the_rest_kept() -> None:
    checked = moderation.check("田中さん（090-1111-2222）は下連雀3-22-14に住むバカです")
    assert checked.published == "●●●さん(●●●)は●●●に住む●●●です"
    assert sorted(kinds(checked.normalized)) == ["abuse", "address", "name", "phone"]
