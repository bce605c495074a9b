"""Which municipality a point lies in, from the bundled JMA boundaries, and distances."""

from __future__ import annotations

import pytest

from cityos.core import geo
from cityos.core.geo import distance_m


@pytest.mark.parametrize(
    ("lat", "lon", "name_ja", "name_en"),
    [
        (35.6836, 139.5597, "三鷹市", "Mitaka City"),  # 三鷹市役所
        (35.7033, 139.5797, "武蔵野市", "Musashino City"),  # 吉祥寺駅
        (35.6518, 139.5440, "調布市", "Chofu City"),  # 調布駅
        (35.6812, 139.7670, "千代田区", "Chiyoda City"),  # 東京駅
    ],
)
def test_the_municipality_of_a_point(lat: float, lon: float, name_ja: str, name_en: str) -> None:
    found = geo.municipality_at(lat, lon)
    assert found is not None
    assert (found.name_ja, found.name_en) == (name_ja, name_en)
    assert len(found.code) == 7


def test_no_municipality_at_sea() -> None:
    assert geo.municipality_at(35.0, 140.5) is None  # the Pacific, off 房総半島


def test_a_city_is_known_from_its_own_towns_and_a_made_up_one_is_not() -> None:
    mitaka = [(35.6836, 139.5597), (35.6880, 139.5290), (35.6712, 139.5673)]
    assert geo.knows_city("三鷹市", mitaka)
    assert not geo.knows_city("みらい市", mitaka)
    assert not geo.knows_city("三鷹市", [])


def test_near_city_allows_the_margin_of_the_simplified_boundary() -> None:
    # 第五中学校 (三鷹市新川1-7-20) lies tens of metres outside the simplified boundary.
    school = (35.671082, 139.577317)
    assert not geo.is_city(geo.municipality_at(*school), "三鷹市")
    assert geo.near_city("三鷹市", *school)
    # 吉祥寺駅 and 深大寺 are well over the margin away.
    assert not geo.near_city("三鷹市", 35.7033, 139.5797)
    assert not geo.near_city("三鷹市", 35.6657, 139.5478)
    # Without a margin only the boundary itself counts.
    assert not geo.near_city("三鷹市", *school, margin_m=0.0)


def test_a_part_of_a_designated_city_is_the_city() -> None:
    yokohama = geo.municipality_at(35.4437, 139.6380)  # 横浜市中区 (JMA: 横浜市南部)
    assert yokohama is not None
    assert yokohama.name_ja.startswith("横浜市")
    assert geo.is_city(yokohama, "横浜市")
    assert not geo.is_city(yokohama, "横須賀市")


def test_distances_on_the_ground() -> None:
    # 三鷹駅 to 吉祥寺駅: about 1.7 km apart.
    assert distance_m(35.7027, 139.5604, 35.7033, 139.5797) == pytest.approx(1745, rel=0.02)
    assert distance_m(35.0, 139.0, 35.0, 139.0) == 0.0
