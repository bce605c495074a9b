"""Distances and blocked places: the geometry every route check relies on."""

from __future__ import annotations

import pytest

from cityos.mobility.geo import (
    BlockedCircle,
    BlockedPolygon,
    RoutingInputError,
    blocked_areas,
    blocked_from_geojson,
    distance_m,
    line_length_m,
)

MITAKA_STATION = (35.7027, 139.5608)


def test_distances_match_known_values() -> None:
    assert distance_m(35.0, 139.0, 36.0, 139.0) == pytest.approx(111_195, rel=1e-4)
    # Mitaka station to Kichijoji station is about 1.6 km.
    assert distance_m(*MITAKA_STATION, 35.7031, 139.5798) == pytest.approx(1_716, rel=0.01)
    assert line_length_m([(35.0, 139.0), (35.001, 139.0), (35.002, 139.0)]) == pytest.approx(
        222.4, rel=1e-3
    )


def test_a_circle_blocks_segments_passing_within_its_radius() -> None:
    circle = BlockedCircle(*MITAKA_STATION, 30.0)
    east_20m = (MITAKA_STATION[0] + 20 / 111_195, MITAKA_STATION[1] - 0.001)
    east_20m_end = (east_20m[0], MITAKA_STATION[1] + 0.001)
    north_40m = (MITAKA_STATION[0] + 40 / 111_195, MITAKA_STATION[1] - 0.001)
    north_40m_end = (north_40m[0], MITAKA_STATION[1] + 0.001)
    assert circle.hits_segment(east_20m, east_20m_end)
    assert not circle.hits_segment(north_40m, north_40m_end)
    assert circle.contains(*MITAKA_STATION)


def test_a_polygon_blocks_segments_inside_or_across_it() -> None:
    square = BlockedPolygon(((35.0, 139.0), (35.0, 139.01), (35.01, 139.01), (35.01, 139.0)))
    assert square.contains(35.005, 139.005)
    assert not square.contains(35.02, 139.005)
    assert square.hits_segment((35.005, 138.99), (35.005, 139.02))  # straight across
    assert square.hits_segment((35.004, 139.004), (35.006, 139.006))  # wholly inside
    assert not square.hits_segment((35.02, 138.99), (35.02, 139.02))  # north of it


def test_geojson_and_tuples_become_blocked_areas() -> None:
    polygon = {
        "type": "Polygon",
        "coordinates": [[[139.0, 35.0], [139.01, 35.0], [139.01, 35.01], [139.0, 35.0]]],
    }
    (area,) = blocked_from_geojson(polygon)
    assert isinstance(area, BlockedPolygon)
    assert area.contains(35.002, 139.008)
    (point,) = blocked_from_geojson({"type": "Point", "coordinates": [139.5608, 35.7027]}, 50)
    assert point == BlockedCircle(35.7027, 139.5608, 50)
    assert blocked_areas([(35.7, 139.5, 20)]) == [BlockedCircle(35.7, 139.5, 20)]


@pytest.mark.parametrize(
    "bad",
    [
        (135.0, 35.0, 10.0),  # latitude and longitude swapped
        (35.0, 139.0, 0.0),  # no radius
        (35.0, 139.0, -5.0),
        (35.0, 139.0),  # no radius at all
        "35,139,10",
    ],
)
def test_bad_blocked_places_are_refused_in_both_languages(bad: object) -> None:
    with pytest.raises(RoutingInputError) as caught:
        blocked_areas([bad])  # type: ignore[list-item]
    assert isinstance(caught.value, ValueError)
    assert " / " in caught.value.detail


def test_bad_geojson_blocked_geometry_is_refused() -> None:
    with pytest.raises(ValueError, match="Polygon"):
        blocked_from_geojson({"type": "LineString", "coordinates": [[139, 35], [139.1, 35]]})
    with pytest.raises(ValueError, match="3 distinct points"):
        blocked_from_geojson({"type": "Polygon", "coordinates": [[[139, 35], [139, 35]]]})
