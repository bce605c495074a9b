"""The compact graph: nearest nodes through the grid, what a wheelchair may use, searches."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest

from cityos.core.geo import distance_m
from cityos.mobility.network import (
    EDGE_STEPS,
    NODE_RAISED_KERB,
    PedestrianNetwork,
)
from tests.mobility.conftest import main_nodes


def brute_nearest(network: PedestrianNetwork, lat: float, lon: float) -> tuple[int, float]:
    return min(
        ((n, distance_m(lat, lon, *network.node_point(n))) for n in range(network.node_count)),
        key=lambda item: item[1],
    )


def test_the_grid_finds_the_same_nearest_node_as_looking_at_every_node(
    redmond: PedestrianNetwork,
) -> None:
    rng = random.Random(5)
    south, west, north, east = redmond.bbox() or (0, 0, 0, 0)
    for _ in range(300):
        # Points over the network and up to ~1 km beyond it.
        lat = rng.uniform(south - 0.01, north + 0.01)
        lon = rng.uniform(west - 0.013, east + 0.013)
        found = redmond.nearest_node(lat, lon)
        expected = brute_nearest(redmond, lat, lon)
        assert found is not None
        assert found[1] == pytest.approx(expected[1], abs=1e-6)


def test_nearest_node_respects_the_distance_limit_and_the_filter(
    redmond: PedestrianNetwork,
) -> None:
    assert redmond.nearest_node(35.7027, 139.5608, max_m=500) is None  # Mitaka is far away
    node, metres = redmond.nearest_node(47.645, -122.137) or (-1, math.nan)
    only_odd = redmond.nearest_node(47.645, -122.137, accept=lambda n: n % 2 == 1 and n != node)
    assert only_odd is not None
    assert only_odd[0] % 2 == 1
    assert only_odd[1] >= metres


def test_the_step_free_mask_leaves_out_steps_raised_kerbs_and_steep_slopes(
    redmond: PedestrianNetwork,
) -> None:
    mask = redmond.step_free_mask()
    for edge in range(redmond.edge_count):
        steps = bool(redmond.edge_flags[edge] & EDGE_STEPS)
        kerb = any(
            redmond.node_flags[n] & NODE_RAISED_KERB
            for n in (redmond.edge_u[edge], redmond.edge_v[edge])
        )
        steep = abs(redmond.edge_incline[edge]) > 0.08
        assert mask[edge] == (0 if steps or kerb or steep else 1)
    assert sum(redmond.step_free_mask(0.05)) < sum(mask)  # a stricter slope limit drops more
    assert sum(redmond.usable_mask(False)) == redmond.edge_count


def test_a_search_settles_targets_and_the_path_is_continuous(redmond: PedestrianNetwork) -> None:
    nodes = main_nodes(redmond)
    source, *targets = random.Random(2).sample(nodes, 6)
    dist, via = redmond.search(source, targets, redmond.usable_mask(False))
    for target in targets:
        edges, points = redmond.path(via, target)
        assert points[0] == redmond.node_point(source)
        assert points[-1] == redmond.node_point(target)
        assert sum(redmond.edge_length[e] for e in edges) == pytest.approx(dist[target])
        walked = sum(distance_m(*a, *b) for a, b in pairwise(points))
        assert walked == pytest.approx(dist[target], rel=1e-9)


def test_one_way_links_are_walked_one_way_only(mlit: PedestrianNetwork) -> None:
    """The escalator L8 goes up from the platform (1004) to 1002, never down."""
    entrance = mlit.nearest_node(35.70200, 139.56000)
    platform = mlit.nearest_node(35.70230, 139.56060)
    assert entrance is not None
    assert platform is not None
    everything = mlit.usable_mask(False)
    down, _via = mlit.search(entrance[0], [platform[0]], everything)
    up, _via = mlit.search(platform[0], [entrance[0]], everything)
    assert down[platform[0]] == pytest.approx(37.0 + 25.0 + 34.0)  # the stairs
    assert up[entrance[0]] == pytest.approx(40.0 + 37.0)  # the escalator, then the walkway
