"""Walking routes on foot: from where a resident is to several places at once (shelters).

``walking_routes(origin, targets, blocked, step_free)`` snaps the origin and every target to
the nearest node of the pedestrian network, removes the edges inside blocked places (points
with a radius, or polygons), runs ONE Dijkstra from the origin until every target is settled,
and answers per target: the distance on foot (the snapping distances included), the walking
time, the path and whether it followed the network. A target the network cannot reach — cut
off by a blocked place, on another island of the network, far from any footway — gets the
straight-line distance with ``via_network=False`` and a ``fallback`` code saying why; with no
network loaded every answer is straight-line and says so.

Networks come from ``CITYOS_PEDESTRIAN_NETWORK`` (a GeoJSON file or folder, see
:mod:`cityos.mobility.loaders`), or are registered by other domains with
:func:`register_network`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from cityos.core.geo import distance_m
from cityos.mobility import config
from cityos.mobility.geo import (
    BlockedArea,
    BlockedInput,
    LatLon,
    RoutingInputError,
    blocked_areas,
    check_point,
)
from cityos.mobility.loaders import NetworkFileError, load_network
from cityos.mobility.network import DEFAULT_MAX_INCLINE, PedestrianNetwork

log = logging.getLogger(__name__)

Target = tuple[Hashable, float, float]  # (id, lat, lon)

DEFAULT_MAX_SNAP_M = 500.0  # farther than this from any footway is "off the network"
# Islands of the network smaller than this (a footway cut off in the data) are not snapped to:
# a walk starting there could go nowhere.
MIN_COMPONENT_NODES = 10
MAX_TARGETS = 10_000

NO_NETWORK = "no_network"
NETWORK_ERROR = "network_error"
ORIGIN_OFF_NETWORK = "origin_off_network"
TARGET_OFF_NETWORK = "target_off_network"
TARGET_BLOCKED = "target_blocked"
UNREACHABLE = "unreachable"
FALLBACK_NOTES = {
    NO_NETWORK: "歩行者ネットワークがないため直線距離です / straight-line distance: no pedestrian network is loaded",
    NETWORK_ERROR: "歩行者ネットワークを読み込めないため直線距離です / straight-line distance: the pedestrian network could not be loaded",
    ORIGIN_OFF_NETWORK: "出発地の近くに歩道のデータがないため直線距離です / straight-line distance: no footway near the starting point",
    TARGET_OFF_NETWORK: "目的地の近くに歩道のデータがないため直線距離です / straight-line distance: no footway near the destination",
    TARGET_BLOCKED: "目的地への道が通行止めの場所を通るため直線距離です（たどり着けない恐れがあります） / "
    "straight-line distance: the way into the destination passes a blocked place (it may be unreachable)",
    UNREACHABLE: "通行止めなどで道がつながっていないため直線距離です（たどり着けない恐れがあります） / "
    "straight-line distance: no open way on the network (it may be unreachable)",
}


@dataclass(frozen=True, slots=True)
class WalkingRoute:
    """The way on foot from the origin to one target."""

    target_id: Hashable
    distance_m: float  # on the network with both snapping legs, or straight-line
    walking_minutes: float
    via_network: bool
    path: tuple[LatLon, ...]  # (lat, lon) from the origin to the target
    straight_m: float  # the straight line, for comparison
    snap_m: float  # origin → its node plus the target's node → target (in distance_m)
    fallback: str | None = None  # why not via the network (a key of FALLBACK_NOTES)
    # Part of the way (a snapping leg, the straight line) crosses a blocked place.
    passes_blocked: bool = False
    edges: tuple[int, ...] = ()  # the network's edges walked, in order

    @property
    def note(self) -> str:
        """What to tell the resident about this distance (empty when it follows the network)."""
        return FALLBACK_NOTES.get(self.fallback or "", "")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``path`` as [lat, lon] pairs."""
        return {
            "id": self.target_id,
            "distance_m": round(self.distance_m, 1),
            "walking_minutes": round(self.walking_minutes, 1),
            "via_network": self.via_network,
            "straight_m": round(self.straight_m, 1),
            "snap_m": round(self.snap_m, 1),
            "fallback": self.fallback,
            "note": self.note,
            "passes_blocked": self.passes_blocked,
            "path": [[round(lat, 7), round(lon, 7)] for lat, lon in self.path],
        }


@dataclass(frozen=True, slots=True)
class NearestNode:
    node: int
    lat: float
    lon: float
    distance_m: float


# --- the loaded networks -----------------------------------------------------------------

_registry: dict[str, PedestrianNetwork] = {}
_default: list[str] = []
_registry_lock = Lock()
_reported: set[Path] = set()


def register_network(network: PedestrianNetwork, *, name: str = "", default: bool = False) -> None:
    """Make a network available by name (and, with ``default``, to every routing call)."""
    key = name or network.name
    with _registry_lock:
        _registry[key] = network
        if default:
            _default[:] = [key]


def unregister_network(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)
        if _default == [name]:
            _default.clear()


def registered_networks() -> dict[str, PedestrianNetwork]:
    with _registry_lock:
        return dict(_registry)


def get_network(name: str | None = None) -> PedestrianNetwork | None:
    """A registered network by name; without a name the default one, else the configured file.

    The file named by CITYOS_PEDESTRIAN_NETWORK is loaded on first use (and cached); None
    when nothing is registered or configured. A configured file that cannot be read raises
    :class:`NetworkFileError`.
    """
    with _registry_lock:
        if name is not None:
            found = _registry.get(name)
            if found is None:
                raise RoutingInputError(
                    f"歩行者ネットワーク {name!r} は登録されていません / no pedestrian network named {name!r}",
                    errors={"network": [f"one of {sorted(_registry)}"]},
                )
            return found
        if _default:
            return _registry[_default[0]]
    path = config.network_path()
    return load_network(path) if path is not None else None


def _network_for(network: PedestrianNetwork | str | None) -> tuple[PedestrianNetwork | None, str]:
    """The network to route on, or None and the reason to fall back to straight lines."""
    if isinstance(network, PedestrianNetwork):
        return network, ""
    try:
        found = get_network(network)
    except NetworkFileError:
        path = config.network_path()
        if path is not None and path not in _reported:
            _reported.add(path)
            log.exception("the pedestrian network %s cannot be loaded: straight lines only", path)
        return None, NETWORK_ERROR
    return (found, "") if found is not None else (None, NO_NETWORK)


def check_configured_network() -> PedestrianNetwork | None:
    """Load the configured network now (at start-up), so that a bad file fails loudly."""
    return get_network()


# --- routing -----------------------------------------------------------------------------


def _check_targets(targets: Sequence[Target]) -> list[Target]:
    if len(targets) > MAX_TARGETS:
        raise RoutingInputError(
            f"目的地は {MAX_TARGETS} 件までです / at most {MAX_TARGETS} targets",
            errors={"targets": [f"at most {MAX_TARGETS}"]},
        )
    checked: list[Target] = []
    for target in targets:
        if not (isinstance(target, tuple | list) and len(target) == 3):
            raise RoutingInputError(
                f"目的地は (id, 緯度, 経度) です: {target!r} / a target is (id, lat, lon): {target!r}",
                errors={"targets": ["(id, lat, lon)"]},
            )
        target_id, lat, lon = target
        check_point(lat, lon, "target")
        checked.append((target_id, float(lat), float(lon)))
    return checked


def _speed(speed_kmh: float | None, slow: bool) -> float:
    if speed_kmh is None:
        return config.slow_walking_speed_kmh() if slow else config.walking_speed_kmh()
    if not (isinstance(speed_kmh, int | float) and 0.5 <= speed_kmh <= 10.0):
        raise RoutingInputError(
            f"歩く速さは 0.5〜10 km/h です: {speed_kmh!r} / walking speed must be 0.5-10 km/h",
            errors={"speed_kmh": ["0.5-10"]},
        )
    return float(speed_kmh)


def _crosses(areas: Sequence[BlockedArea], a: LatLon, b: LatLon) -> bool:
    return any(area.hits_segment(a, b) for area in areas)


def _minutes(metres: float, speed_kmh: float) -> float:
    return metres / (speed_kmh * 1000.0 / 60.0)


def _straight(
    origin: LatLon, target: Target, speed_kmh: float, reason: str, areas: Sequence[BlockedArea]
) -> WalkingRoute:
    target_id, lat, lon = target
    straight = distance_m(origin[0], origin[1], lat, lon)
    return WalkingRoute(
        target_id=target_id,
        distance_m=straight,
        walking_minutes=_minutes(straight, speed_kmh),
        via_network=False,
        path=(origin, (lat, lon)),
        straight_m=straight,
        snap_m=0.0,
        fallback=reason,
        passes_blocked=_crosses(areas, origin, (lat, lon)),
    )


def _ordered(routes: Iterable[WalkingRoute]) -> list[WalkingRoute]:
    """Routes on the network first, nearest first; straight-line guesses after them.

    A straight-line distance to a target the network cannot reach is no promise that it can
    be walked, so it never outranks a route that can.
    """
    return sorted(routes, key=lambda r: (not r.via_network, r.distance_m))


def walking_routes(
    origin: LatLon,
    targets: Sequence[Target],
    blocked: Iterable[BlockedInput] = (),
    step_free: bool = False,
    *,
    network: PedestrianNetwork | str | None = None,
    slow: bool = False,
    speed_kmh: float | None = None,
    max_incline: float = DEFAULT_MAX_INCLINE,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> list[WalkingRoute]:
    """Walking routes from ``origin`` (lat, lon) to each of ``targets`` [(id, lat, lon)].

    ``blocked``: places to avoid, as :class:`BlockedCircle`/:class:`BlockedPolygon` or
    (lat, lon, radius_m) tuples. ``step_free``: no steps, no raised kerbs, no slope over
    ``max_incline`` (wheelchairs), and the slow walking speed. ``network``: a network, the
    name of a registered one, or None for the default (straight lines when there is none).
    ``slow``: the slow walking speed without the step-free limits (elderly people);
    ``speed_kmh`` overrides either speed.

    One route per target, on-network routes first, nearest first (see :func:`_ordered`).
    """
    if not (isinstance(origin, tuple | list) and len(origin) == 2):
        raise RoutingInputError(
            f"出発地は (緯度, 経度) です: {origin!r} / the origin is (lat, lon): {origin!r}",
            errors={"origin": ["(lat, lon)"]},
        )
    check_point(origin[0], origin[1], "origin")
    origin = (float(origin[0]), float(origin[1]))
    wanted = _check_targets(targets)
    areas = blocked_areas(blocked)
    speed = _speed(speed_kmh, step_free or slow)
    net, reason = _network_for(network)
    if net is None:
        return _ordered(_straight(origin, t, speed, reason, areas) for t in wanted)

    usable = bytearray(net.usable_mask(step_free, max_incline))
    for edge in net.edges_in(areas):
        usable[edge] = 0
    smallest = min(MIN_COMPONENT_NODES, net.component_sizes[0] if net.component_sizes else 0)

    def snappable(node: int) -> bool:
        return net.component_sizes[net.component[node]] >= smallest and net.has_move(node, usable)

    start = net.nearest_node(origin[0], origin[1], max_snap_m, snappable)
    if start is None:
        return _ordered(_straight(origin, t, speed, ORIGIN_OFF_NETWORK, areas) for t in wanted)
    start_node, start_snap = start
    start_point = net.node_point(start_node)
    start_blocked = _crosses(areas, origin, start_point)

    snapped: dict[int, tuple[int, float]] = {}
    routes: list[WalkingRoute] = []
    for index, target in enumerate(wanted):
        found = net.nearest_node(target[1], target[2], max_snap_m, snappable)
        if found is None:
            routes.append(_straight(origin, target, speed, TARGET_OFF_NETWORK, areas))
        elif _crosses(areas, net.node_point(found[0]), (target[1], target[2])):
            # The last stretch, off the network, would cross the blocked place.
            routes.append(_straight(origin, target, speed, TARGET_BLOCKED, areas))
        else:
            snapped[index] = found
    dist, via = net.search(start_node, {node for node, _d in snapped.values()}, usable)
    for index, (node, snap) in snapped.items():
        target_id, lat, lon = wanted[index]
        if math.isinf(dist[node]):
            routes.append(_straight(origin, wanted[index], speed, UNREACHABLE, areas))
            continue
        edges, points = net.path(via, node)
        path = _joined([origin, *points, (lat, lon)])
        total = start_snap + dist[node] + snap
        routes.append(
            WalkingRoute(
                target_id=target_id,
                distance_m=total,
                walking_minutes=_minutes(total, speed),
                via_network=True,
                path=tuple(path),
                straight_m=distance_m(origin[0], origin[1], lat, lon),
                snap_m=start_snap + snap,
                passes_blocked=start_blocked,
                edges=tuple(edges),
            )
        )
    return _ordered(routes)


def _joined(points: list[LatLon]) -> list[LatLon]:
    """The points without repeats (a snapping leg of zero length adds none)."""
    kept = [points[0]]
    for point in points[1:]:
        if point != kept[-1]:
            kept.append(point)
    return kept


def nearest_node(
    lat: float,
    lon: float,
    *,
    network: PedestrianNetwork | str | None = None,
    step_free: bool = False,
    max_m: float = DEFAULT_MAX_SNAP_M,
) -> NearestNode | None:
    """The network node nearest to a point (with a step-free edge, if asked); None if none."""
    check_point(lat, lon)
    net, _reason = _network_for(network)
    if net is None:
        return None
    usable = net.usable_mask(step_free)
    found = net.nearest_node(lat, lon, max_m, lambda n: net.has_move(n, usable))
    if found is None:
        return None
    node, metres = found
    return NearestNode(node, net.node_lat[node], net.node_lon[node], metres)


def disaster_router(
    lat: float,
    lon: float,
    targets: Sequence[Target],
    blocked: Sequence[tuple[float, float, float]],
    step_free: bool,
) -> dict[Hashable, tuple[float, bool]]:
    """The router the disaster domain installs: ``{id: (distance_m, via_network)}``."""
    routes = walking_routes((lat, lon), targets, blocked, step_free)
    return {route.target_id: (route.distance_m, route.via_network) for route in routes}
