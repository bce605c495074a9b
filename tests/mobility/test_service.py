"""Walking routes as residents get them: along the real Redmond network, around blocked
places, step-free for wheelchairs, and plainly flagged straight lines when the network
cannot answer."""

from __future__ import annotations

import random
from itertools import pairwise
from pathlib import Path

import pytest

from cityos.mobility import config, service
from cityos.mobility.geo import (
    METRES_PER_DEGREE,
    BlockedCircle,
    BlockedPolygon,
    LatLon,
    RoutingInputError,
    distance_m,
    line_length_m,
)
from cityos.mobility.loaders import NetworkFileError, sample_network_path
from cityos.mobility.network import EDGE_STEPS, NODE_RAISED_KERB, PedestrianNetwork
from cityos.mobility.service import WalkingRoute, walking_routes
from tests.mobility.conftest import main_nodes, node_pairs

MITAKA_STATION = (35.7027, 139.5608)


def route(
    network: PedestrianNetwork, origin: LatLon, target: LatLon, **options: object
) -> WalkingRoute:
    return walking_routes(origin, [("target", *target)], network=network, **options)[0]  # type: ignore[arg-type]


def closest_approach_m(path: tuple[LatLon, ...], centre: LatLon) -> float:
    """How near a path comes to a point, checked every half metre along it."""
    closest = float("inf")
    for a, b in pairwise(path):
        steps = max(1, int(distance_m(*a, *b) / 0.5))
        for i in range(steps + 1):
            t = i / steps
            here = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            closest = min(closest, distance_m(*here, *centre))
    return closest


# --- along the network -------------------------------------------------------------------


def test_routes_are_no_shorter_than_the_straight_line_and_not_absurdly_longer(
    redmond: PedestrianNetwork,
) -> None:
    for a, b in node_pairs(redmond, 60, 500, 2000):
        found = route(redmond, redmond.node_point(a), redmond.node_point(b))
        assert found.via_network
        assert found.fallback is None
        assert found.snap_m == 0.0  # real nodes need no snapping
        assert found.straight_m <= found.distance_m + 1e-6
        assert found.distance_m < 3 * found.straight_m
        assert found.distance_m == pytest.approx(line_length_m(found.path), rel=1e-9)
        assert found.walking_minutes == pytest.approx(found.distance_m / (4000 / 60))


def test_one_search_answers_every_target_as_single_searches_would(
    redmond: PedestrianNetwork,
) -> None:
    rng = random.Random(11)
    nodes = main_nodes(redmond)
    origin = redmond.node_point(rng.choice(nodes))
    targets = [
        (f"shelter-{i}", *redmond.node_point(n)) for i, n in enumerate(rng.sample(nodes, 30))
    ]
    together = walking_routes(origin, targets, network=redmond)
    assert len(together) == 30
    distances = [r.distance_m for r in together]
    assert distances == sorted(distances)  # nearest first
    for found in together:
        target = next(t for t in targets if t[0] == found.target_id)
        alone = route(redmond, origin, (target[1], target[2]))
        assert found.distance_m == pytest.approx(alone.distance_m)


def test_points_off_the_footway_snap_to_it_and_the_snapping_counts(
    redmond: PedestrianNetwork,
) -> None:
    a, b = node_pairs(redmond, 1, 500, 1000, seed=4)[0]
    origin = redmond.node_point(a)
    target = redmond.node_point(b)
    beside = (origin[0] + 15 / METRES_PER_DEGREE, origin[1])  # 15 m north of a node
    found = route(redmond, beside, target)
    assert found.via_network
    assert 0 < found.snap_m <= 15.0 + 1e-6
    assert found.path[0] == beside
    assert found.distance_m == pytest.approx(line_length_m(found.path), rel=1e-9)
    assert found.distance_m >= route(redmond, origin, target).distance_m - 15.0 - 1e-6


# --- blocked places ------------------------------------------------------------------------


def test_a_blocked_point_on_the_way_gives_a_longer_route_that_keeps_its_distance(
    redmond: PedestrianNetwork,
) -> None:
    checked = 0
    for a, b in node_pairs(redmond, 40, 600, 1500, seed=8):
        origin, target = redmond.node_point(a), redmond.node_point(b)
        direct = route(redmond, origin, target)
        middle = direct.path[len(direct.path) // 2]
        if min(distance_m(*middle, *origin), distance_m(*middle, *target)) < 200:
            continue
        radius = 40.0
        detour = route(redmond, origin, target, blocked=[(middle[0], middle[1], radius)])
        if not detour.via_network:
            continue  # no way around on this sample; the fallback has its own test
        assert detour.distance_m > direct.distance_m
        assert closest_approach_m(detour.path, middle) > radius
        assert not detour.passes_blocked
        checked += 1
        if checked == 5:
            break
    assert checked == 5


def test_a_blocked_polygon_is_walked_around(redmond: PedestrianNetwork) -> None:
    a, b = node_pairs(redmond, 1, 900, 1500, seed=21)[0]
    origin, target = redmond.node_point(a), redmond.node_point(b)
    direct = route(redmond, origin, target)
    lat, lon = direct.path[len(direct.path) // 2]
    d = 30 / METRES_PER_DEGREE
    square = BlockedPolygon(
        (
            (lat - d, lon - 1.5 * d),
            (lat - d, lon + 1.5 * d),
            (lat + d, lon + 1.5 * d),
            (lat + d, lon - 1.5 * d),
        )
    )
    detour = route(redmond, origin, target, blocked=[square])
    assert detour.via_network
    assert detour.distance_m > direct.distance_m
    assert not any(square.contains(*p) for p in detour.path)
    assert not any(square.hits_segment(p, q) for p, q in pairwise(detour.path))


def test_a_target_inside_a_blocked_place_is_a_flagged_straight_line(
    redmond: PedestrianNetwork,
) -> None:
    a, b = node_pairs(redmond, 1, 500, 1000, seed=6)[0]
    origin, target = redmond.node_point(a), redmond.node_point(b)
    found = route(redmond, origin, target, blocked=[BlockedCircle(*target, 80.0)])
    assert not found.via_network
    assert found.fallback == service.TARGET_BLOCKED
    assert found.passes_blocked
    assert found.distance_m == pytest.approx(distance_m(*origin, *target))
    assert "通行止め" in found.note
    assert "blocked" in found.note


# --- step-free -----------------------------------------------------------------------------


def test_step_free_routes_avoid_steps_raised_kerbs_and_steep_slopes(
    redmond: PedestrianNetwork,
) -> None:
    checked = 0
    for edge in range(redmond.edge_count):
        if not redmond.edge_flags[edge] & EDGE_STEPS:
            continue
        u, v = redmond.edge_u[edge], redmond.edge_v[edge]
        if redmond.component[u] != 0:
            continue
        start, end = redmond.node_point(u), redmond.node_point(v)
        usual = route(redmond, start, end)
        if edge not in usual.edges:
            continue
        level = route(redmond, start, end, step_free=True)
        if not level.via_network:
            continue
        assert level.distance_m >= level.straight_m
        for walked in level.edges:
            assert not redmond.edge_flags[walked] & EDGE_STEPS
            assert not abs(redmond.edge_incline[walked]) > 0.08  # NaN: not known, allowed
            for node in (redmond.edge_u[walked], redmond.edge_v[walked]):
                assert not redmond.node_flags[node] & NODE_RAISED_KERB
        assert level.walking_minutes == pytest.approx(level.distance_m / (3000 / 60))
        checked += 1
    assert checked >= 5


def test_step_free_on_mlit_data_takes_the_elevator(mlit: PedestrianNetwork) -> None:
    entrance, platform = (35.70200, 139.56000), (35.70230, 139.56060)
    usual = route(mlit, entrance, platform)
    level = route(mlit, entrance, platform, step_free=True)
    assert usual.distance_m == pytest.approx(37.0 + 25.0 + 34.0)  # the stairs
    # Walkway, elevator, walkway; not the stairs, nor the shortcut with a 2 cm+ step (L9).
    assert level.distance_m == pytest.approx(45.0 + 8.0 + 37.0 + 22.0)
    assert len(level.edges) == 4


# --- when the network cannot answer -----------------------------------------------------


def test_a_target_on_a_separate_part_of_the_network_falls_back_to_a_flagged_straight_line(
    redmond: PedestrianNetwork,
) -> None:
    island = next(n for n in range(redmond.node_count) if redmond.component[n] == 1)
    assert redmond.component_sizes[1] >= service.MIN_COMPONENT_NODES
    origin = redmond.node_point(main_nodes(redmond)[0])
    reachable = redmond.node_point(main_nodes(redmond)[50])
    routes = walking_routes(
        origin,
        [("island", *redmond.node_point(island)), ("reachable", *reachable)],
        network=redmond,
    )
    assert [r.target_id for r in routes] == ["reachable", "island"]  # on-network first
    cut_off = routes[1]
    assert not cut_off.via_network
    assert cut_off.fallback == service.UNREACHABLE
    assert cut_off.distance_m == pytest.approx(distance_m(*origin, *redmond.node_point(island)))
    assert cut_off.path == (origin, redmond.node_point(island))
    assert "直線距離" in cut_off.note
    assert "straight-line" in cut_off.note


def test_points_far_from_any_footway_are_flagged_straight_lines(redmond: PedestrianNetwork) -> None:
    inside = redmond.node_point(main_nodes(redmond)[0])
    far = route(redmond, MITAKA_STATION, inside)
    assert (far.via_network, far.fallback) == (False, service.ORIGIN_OFF_NETWORK)
    away = route(redmond, inside, MITAKA_STATION)
    assert (away.via_network, away.fallback) == (False, service.TARGET_OFF_NETWORK)
    assert away.distance_m == pytest.approx(distance_m(*inside, *MITAKA_STATION))


def test_without_a_network_every_distance_is_a_flagged_straight_line() -> None:
    routes = walking_routes(
        MITAKA_STATION, [("kichijoji", 35.7031, 139.5798), ("mitakadai", 35.6923, 139.5571)]
    )
    assert [r.fallback for r in routes] == [service.NO_NETWORK] * 2
    assert not any(r.via_network for r in routes)
    assert routes[0].distance_m < routes[1].distance_m
    assert routes[0].walking_minutes == pytest.approx(routes[0].distance_m / (4000 / 60))
    assert "no pedestrian network" in routes[0].as_dict()["note"]


# --- loaded networks ---------------------------------------------------------------------


def test_the_configured_network_is_used_by_default(
    redmond: PedestrianNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = node_pairs(redmond, 1, 400, 800)[0]
    monkeypatch.setenv(config.ENV_NETWORK, str(sample_network_path()))
    found = walking_routes(redmond.node_point(a), [("t", *redmond.node_point(b))])[0]
    assert found.via_network
    monkeypatch.setenv(config.ENV_SPEED, "5")
    faster = walking_routes(redmond.node_point(a), [("t", *redmond.node_point(b))])[0]
    assert faster.walking_minutes == pytest.approx(found.walking_minutes * 4 / 5)
    elderly = walking_routes(redmond.node_point(a), [("t", *redmond.node_point(b))], slow=True)[0]
    assert elderly.distance_m == pytest.approx(found.distance_m)  # steps allowed
    assert elderly.walking_minutes == pytest.approx(found.walking_minutes * 4 / 3)


def test_a_broken_configured_network_fails_loudly_at_start_up_and_softly_per_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "network.geojson"
    broken.write_text("not json", encoding="utf-8")
    monkeypatch.setenv(config.ENV_NETWORK, str(broken))
    with pytest.raises(NetworkFileError):
        service.check_configured_network()
    found = walking_routes(MITAKA_STATION, [("t", 35.7031, 139.5798)])[0]
    assert (found.via_network, found.fallback) == (False, service.NETWORK_ERROR)


def test_other_domains_register_networks_by_name_and_as_default(
    redmond: PedestrianNetwork, mlit: PedestrianNetwork
) -> None:
    service.register_network(mlit, name="station")
    service.register_network(redmond, default=True)
    a, b = node_pairs(redmond, 1, 400, 800)[0]
    assert walking_routes(redmond.node_point(a), [("t", *redmond.node_point(b))])[0].via_network
    station = walking_routes((35.702, 139.56), [("p", 35.7023, 139.5606)], network="station")
    assert station[0].distance_m == pytest.approx(96.0)
    with pytest.raises(RoutingInputError, match="no pedestrian network named"):
        walking_routes((35.702, 139.56), [], network="nowhere")
    nearest = service.nearest_node(35.7020001, 139.5600001, network="station")
    assert nearest is not None
    assert nearest.distance_m < 0.1


def test_the_disaster_router_contract(redmond: PedestrianNetwork) -> None:
    service.register_network(redmond, default=True)
    nodes = main_nodes(redmond)
    origin = redmond.node_point(nodes[0])
    targets = [("s1", *redmond.node_point(nodes[100])), ("s2", *MITAKA_STATION)]
    answer = service.disaster_router(origin[0], origin[1], targets, [(47.64, -122.14, 30.0)], False)
    assert set(answer) == {"s1", "s2"}
    assert answer["s1"][1] is True
    distance, via_network = answer["s2"]
    assert distance == pytest.approx(distance_m(*origin, *MITAKA_STATION))
    assert via_network is False


@pytest.mark.parametrize(
    ("origin", "targets", "options"),
    [
        ((135.0, 35.0), [], {}),  # latitude and longitude swapped
        ((35.0,), [], {}),
        ((35.0, float("nan")), [], {}),
        ((35.0, 139.0), [("t", 35.0)], {}),
        ((35.0, 139.0), [("t", 35.0, 200.0)], {}),
        ((35.0, 139.0), [], {"speed_kmh": 0.0}),
        ((35.0, 139.0), [], {"blocked": [(35.0, 139.0, -1.0)]}),
    ],
)
def test_bad_input_is_refused_with_a_bilingual_message(
    origin: LatLon, targets: list[tuple[object, ...]], options: dict[str, object]
) -> None:
    with pytest.raises(RoutingInputError) as caught:
        walking_routes(origin, targets, **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert caught.value.status == 422
    assert " / " in caught.value.detail
