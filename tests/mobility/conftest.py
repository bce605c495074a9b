"""Fixtures: the shipped Redmond network (real OpenSidewalks data), a small MLIT network,
and a clean slate of registered and configured networks for every test."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos.core.geo import distance_m
from cityos.mobility import config, service
from cityos.mobility.loaders import load_network, sample_network_path
from cityos.mobility.network import PedestrianNetwork

DATA = Path(__file__).parent / "data"
MLIT_LINKS = DATA / "mlit_link.geojson"


@pytest.fixture(scope="session")
def redmond() -> PedestrianNetwork:
    return load_network(sample_network_path())


@pytest.fixture(scope="session")
def mlit() -> PedestrianNetwork:
    return load_network(MLIT_LINKS)


@pytest.fixture(autouse=True)
def no_configured_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees a network configured or registered by the machine or another test."""
    monkeypatch.delenv(config.ENV_NETWORK, raising=False)
    monkeypatch.delenv(config.ENV_SPEED, raising=False)
    monkeypatch.delenv(config.ENV_SLOW_SPEED, raising=False)
    yield
    for name in list(service.registered_networks()):
        service.unregister_network(name)


def main_nodes(network: PedestrianNetwork) -> list[int]:
    """Nodes of the largest connected part of the network."""
    return [n for n in range(network.node_count) if network.component[n] == 0]


def node_pairs(
    network: PedestrianNetwork, count: int, low_m: float, high_m: float, seed: int = 1
) -> list[tuple[int, int]]:
    """Random pairs of connected nodes between ``low_m`` and ``high_m`` apart."""
    rng = random.Random(seed)
    nodes = main_nodes(network)
    pairs: list[tuple[int, int]] = []
    while len(pairs) < count:
        a, b = rng.sample(nodes, 2)
        apart = distance_m(*network.node_point(a), *network.node_point(b))
        if low_m <= apart <= high_m:
            pairs.append((a, b))
    return pairs
