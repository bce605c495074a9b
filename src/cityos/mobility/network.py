"""A pedestrian network as a few flat arrays: nodes, edges, adjacency and two grid indexes.

Nothing here is one object per node or edge: a city's footways (10⁵–10⁶ edges) stay a few
tens of MB and pickle into the cache as raw bytes. Edges are walkable both ways unless marked
one-way (an escalator); each edge keeps its length in metres (haversine along its geometry),
its geometry for drawing the route, and what a wheelchair user needs to know (steps, steep,
a step on the way, a raised kerb at either end).

Searches (:meth:`PedestrianNetwork.search`) are a plain Dijkstra with ``heapq`` from one
origin that stops once every target is settled, so one search answers all the shelters.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from threading import Lock
from typing import Any

from cityos.core.geo import METRES_PER_DEGREE, distance_m
from cityos.mobility.geo import BlockedArea, LatLon, line_length_m

# Node flags.
NODE_RAISED_KERB = 1  # barrier=kerb + kerb=raised: a wheelchair cannot pass

# Edge flags.
EDGE_STEPS = 1  # highway=steps; MLIT stairs or escalator
EDGE_STEEP = 2  # coded steeper than a wheelchair manages (MLIT slope classes)
EDGE_LEVEL_STEP = 4  # a step on the way (MLIT lev_diff over 2 cm)
EDGE_NO_WHEELCHAIR = 8  # wheelchair=no
EDGE_FORWARD_ONLY = 16  # walkable from u to v only (one-way escalator, oneway:foot)
EDGE_BACKWARD_ONLY = 32
NOT_STEP_FREE = EDGE_STEPS | EDGE_STEEP | EDGE_LEVEL_STEP | EDGE_NO_WHEELCHAIR

DEFAULT_MAX_INCLINE = 0.08  # 8 %: steeper slopes are not step-free (wheelchair users)
GRID_DEGREES = 0.002  # grid cell: ~220 m north-south, ~180 m east-west in Tokyo

Cell = tuple[int, int]


def cell_of(lat: float, lon: float) -> Cell:
    return (math.floor(lat / GRID_DEGREES), math.floor(lon / GRID_DEGREES))


@dataclass(eq=False)
class PedestrianNetwork:
    """A loaded pedestrian network (read-only once built; safe to share between threads)."""

    name: str
    source: str  # the file(s) it was read from
    format: str  # "opensidewalks", "linestrings" or "mlit"
    attribution: str
    node_lat: array[float]
    node_lon: array[float]
    node_flags: array[int]
    edge_u: array[int]
    edge_v: array[int]
    edge_length: array[float]
    edge_flags: array[int]
    edge_incline: array[float]  # rise over run, NaN when unknown
    geo_start: array[int]  # edge e's geometry is geo_lat/lon[geo_start[e]:geo_start[e + 1]]
    geo_lat: array[float]
    geo_lon: array[float]
    adj_start: array[int]  # node n's moves are adj_*[adj_start[n]:adj_start[n + 1]]
    adj_node: array[int]
    adj_edge: array[int]
    adj_length: array[float]
    component: array[int]  # connected component of each node (0 = the largest)
    component_sizes: list[int]
    node_cells: dict[Cell, tuple[int, int]]  # cell → slice of cell_nodes
    cell_nodes: array[int]
    edge_cells: dict[Cell, tuple[int, int]]  # cell → slice of cell_edges
    cell_edges: array[int]
    _masks: dict[tuple[bool, float], bytes] = field(default_factory=dict, repr=False)
    _extent: tuple[int, int, int, int] | None = field(default=None, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    # -- size and description --

    @property
    def node_count(self) -> int:
        return len(self.node_lat)

    @property
    def edge_count(self) -> int:
        return len(self.edge_u)

    def summary(self, max_incline: float = DEFAULT_MAX_INCLINE) -> dict[str, Any]:
        """What ``cityos mobility info`` prints: size, length, barriers, connectivity, extent."""
        steep = sum(
            1
            for flags, incline in zip(self.edge_flags, self.edge_incline, strict=True)
            if flags & EDGE_STEEP or abs(incline) > max_incline
        )
        step_free = self.step_free_mask(max_incline)
        return {
            "name": self.name,
            "format": self.format,
            "source": self.source,
            "attribution": self.attribution,
            "nodes": self.node_count,
            "edges": self.edge_count,
            "length_km": round(sum(self.edge_length) / 1000.0, 3),
            "steps_edges": sum(1 for f in self.edge_flags if f & EDGE_STEPS),
            "steep_edges": steep,
            "raised_kerb_nodes": sum(1 for f in self.node_flags if f & NODE_RAISED_KERB),
            "one_way_edges": sum(
                1 for f in self.edge_flags if f & (EDGE_FORWARD_ONLY | EDGE_BACKWARD_ONLY)
            ),
            "step_free_edges": sum(step_free),
            "components": len(self.component_sizes),
            "largest_component_nodes": self.component_sizes[0] if self.component_sizes else 0,
            "bbox": self.bbox(),
        }

    def bbox(self) -> tuple[float, float, float, float] | None:
        """(south, west, north, east) of the nodes."""
        if not self.node_count:
            return None
        return min(self.node_lat), min(self.node_lon), max(self.node_lat), max(self.node_lon)

    def node_point(self, node: int) -> LatLon:
        return self.node_lat[node], self.node_lon[node]

    def edge_points(self, edge: int) -> list[LatLon]:
        start, end = self.geo_start[edge], self.geo_start[edge + 1]
        return list(zip(self.geo_lat[start:end], self.geo_lon[start:end], strict=True))

    # -- nearest nodes --

    def nearest_node(
        self,
        lat: float,
        lon: float,
        max_m: float = math.inf,
        accept: Callable[[int], bool] | None = None,
    ) -> tuple[int, float] | None:
        """The nearest node (that ``accept`` takes) within ``max_m``, and its distance in metres.

        Rings of grid cells are searched outwards until no closer node can lie further out.
        """
        if not self.node_count:
            return None
        row, col = cell_of(lat, lon)
        shrink = max(math.cos(math.radians(lat)), 0.01)
        cell_m = GRID_DEGREES * METRES_PER_DEGREE * shrink
        farthest = self._ring_limit(row, col, max_m, cell_m)
        node_lat, node_lon, cell_nodes = self.node_lat, self.node_lon, self.cell_nodes
        best, best_d2 = -1, math.inf  # squared degrees of latitude, east-west shrunk
        for reach in range(farthest + 1):
            for cell in _ring(row, col, reach):
                span = self.node_cells.get(cell)
                if span is None:
                    continue
                for at in range(span[0], span[1]):
                    node = cell_nodes[at]
                    dy = node_lat[node] - lat
                    dx = (node_lon[node] - lon) * shrink
                    d2 = dx * dx + dy * dy
                    if d2 < best_d2 and (accept is None or accept(node)):
                        best, best_d2 = node, d2
            # Every node of ring reach+1 or beyond is at least reach whole cells away.
            if best >= 0 and math.sqrt(best_d2) * METRES_PER_DEGREE <= reach * cell_m:
                break
        if best < 0:
            return None
        metres = distance_m(lat, lon, node_lat[best], node_lon[best])
        return (best, metres) if metres <= max_m else None

    def _ring_limit(self, row: int, col: int, max_m: float, cell_m: float) -> int:
        """How many rings to search: up to max_m, and never past the grid's extent."""
        if self._extent is None:
            rows = [r for r, _c in self.node_cells]
            cols = [c for _r, c in self.node_cells]
            self._extent = (min(rows), max(rows), min(cols), max(cols))
        top, bottom, left, right = self._extent
        extent = max(abs(row - top), abs(row - bottom), abs(col - left), abs(col - right))
        if math.isinf(max_m):
            return extent
        return min(extent, math.ceil(max_m / cell_m) + 1)

    # -- what may be walked --

    def step_free_mask(self, max_incline: float = DEFAULT_MAX_INCLINE) -> bytes:
        """1 for each edge a wheelchair user can take: no steps, not too steep, no raised kerb."""
        return self._mask(True, max_incline)

    def usable_mask(self, step_free: bool, max_incline: float = DEFAULT_MAX_INCLINE) -> bytes:
        return self._mask(step_free, max_incline)

    def _mask(self, step_free: bool, max_incline: float) -> bytes:
        key = (step_free, max_incline if step_free else 0.0)
        found = self._masks.get(key)
        if found is not None:
            return found
        if not step_free:
            mask = bytes([1]) * self.edge_count
        else:
            kerb = self.node_flags
            mask = bytes(
                0
                if flags & NOT_STEP_FREE
                or abs(incline) > max_incline
                or kerb[u] & NODE_RAISED_KERB
                or kerb[v] & NODE_RAISED_KERB
                else 1
                for flags, incline, u, v in zip(
                    self.edge_flags, self.edge_incline, self.edge_u, self.edge_v, strict=True
                )
            )
        with self._lock:
            self._masks[key] = mask
        return mask

    def edges_in(self, areas: Iterable[BlockedArea]) -> set[int]:
        """Edges whose geometry enters any of the areas."""
        hit: set[int] = set()
        for area in areas:
            south, west, north, east = area.bbox()
            top, left = cell_of(south, west)
            bottom, right = cell_of(north, east)
            candidates: set[int] = set()
            for r in range(top, bottom + 1):
                for c in range(left, right + 1):
                    span = self.edge_cells.get((r, c))
                    if span is not None:
                        candidates.update(self.cell_edges[span[0] : span[1]])
            lat, lon, starts = self.geo_lat, self.geo_lon, self.geo_start
            for edge in candidates - hit:
                first, last = starts[edge], starts[edge + 1] - 1
                for i in range(first, max(first + 1, last)):
                    j = min(i + 1, last)
                    a_lat, b_lat, a_lon, b_lon = lat[i], lat[j], lon[i], lon[j]
                    # Most segments lie wholly beside the area's box: no exact test needed.
                    if (a_lat < south and b_lat < south) or (a_lat > north and b_lat > north):
                        continue
                    if (a_lon < west and b_lon < west) or (a_lon > east and b_lon > east):
                        continue
                    if area.hits_segment((a_lat, a_lon), (b_lat, b_lon)):
                        hit.add(edge)
                        break
        return hit

    def has_move(self, node: int, usable: bytes | bytearray) -> bool:
        """Whether a walk can start at ``node`` on the usable edges."""
        edges = self.adj_edge
        return any(usable[edges[k]] for k in range(self.adj_start[node], self.adj_start[node + 1]))

    # -- searching --

    def search(
        self, source: int, targets: Collection[int], usable: bytes | bytearray
    ) -> tuple[list[float], list[int]]:
        """Dijkstra from ``source`` over the usable edges, until every target is settled.

        Returns the distance to each node (inf where not reached) and, for each node, the
        adjacency slot it was reached through (-1 for none), for :meth:`path`.
        """
        dist = [math.inf] * self.node_count
        via = [-1] * self.node_count
        dist[source] = 0.0
        heap: list[tuple[float, int]] = [(0.0, source)]
        remaining = set(targets)
        starts, nodes, edges, lengths = (
            self.adj_start,
            self.adj_node,
            self.adj_edge,
            self.adj_length,
        )
        pop, push, discard = heappop, heappush, remaining.discard
        while heap and remaining:
            d, u = pop(heap)
            if d > dist[u]:
                continue
            discard(u)
            for k in range(starts[u], starts[u + 1]):
                if usable[edges[k]]:
                    nd = d + lengths[k]
                    v = nodes[k]
                    if nd < dist[v]:
                        dist[v] = nd
                        via[v] = k
                        push(heap, (nd, v))
        return dist, via

    def path(self, via: Sequence[int], target: int) -> tuple[list[int], list[LatLon]]:
        """The edges and the points walked from the search's source to ``target``."""
        steps: list[tuple[int, bool]] = []
        node = target
        while via[node] != -1:
            edge = self.adj_edge[via[node]]
            forward = self.edge_v[edge] == node
            steps.append((edge, forward))
            node = self.edge_u[edge] if forward else self.edge_v[edge]
        steps.reverse()
        points: list[LatLon] = [self.node_point(node)]
        lat, lon, starts = self.geo_lat, self.geo_lon, self.geo_start
        for edge, forward in steps:
            first, end = starts[edge], starts[edge + 1]
            # Each edge's first point is the previous edge's last one.
            order = range(first + 1, end) if forward else range(end - 2, first - 1, -1)
            points.extend((lat[i], lon[i]) for i in order)
        return [edge for edge, _forward in steps], points


def _ring(row: int, col: int, reach: int) -> Iterator[Cell]:
    """The cells at Chebyshev distance ``reach`` from (row, col)."""
    if reach == 0:
        yield (row, col)
        return
    for c in range(col - reach, col + reach + 1):
        yield (row - reach, c)
        yield (row + reach, c)
    for r in range(row - reach + 1, row + reach):
        yield (r, col - reach)
        yield (r, col + reach)


class NetworkBuilder:
    """Collects nodes and edges from a file, then lays them out as a :class:`PedestrianNetwork`."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.node_lat = array("d")
        self.node_lon = array("d")
        self.node_flags = array("B")
        self.edge_u = array("i")
        self.edge_v = array("i")
        self.edge_length = array("d")
        self.edge_flags = array("B")
        self.edge_incline = array("f")
        self.geo_start = array("i", [0])
        self.geo_lat = array("d")
        self.geo_lon = array("d")

    def node(self, key: Any, lat: float, lon: float) -> int:
        """The node of ``key`` (its id, or its rounded coordinates), added on first sight."""
        found = self.ids.get(key)
        if found is None:
            found = len(self.node_lat)
            self.ids[key] = found
            self.node_lat.append(lat)
            self.node_lon.append(lon)
            self.node_flags.append(0)
        return found

    def mark_node(self, node: int, flags: int) -> None:
        self.node_flags[node] |= flags

    def edge(
        self,
        u: int,
        v: int,
        points: Sequence[LatLon],
        *,
        flags: int = 0,
        incline: float = math.nan,
        length_m: float | None = None,
    ) -> None:
        """An edge from node u to v along ``points`` (the end points are the nodes' own)."""
        if u == v:
            return  # a loop never shortens a walk
        line = [self.node_point(u), *points[1:-1], self.node_point(v)]
        measured = line_length_m(line)
        self.edge_u.append(u)
        self.edge_v.append(v)
        self.edge_length.append(max(measured, length_m or 0.0))
        self.edge_flags.append(flags)
        self.edge_incline.append(incline)
        for lat, lon in line:
            self.geo_lat.append(lat)
            self.geo_lon.append(lon)
        self.geo_start.append(len(self.geo_lat))

    def node_point(self, node: int) -> LatLon:
        return self.node_lat[node], self.node_lon[node]

    def build(self, *, name: str, source: str, format: str, attribution: str) -> PedestrianNetwork:
        nodes = self._used_nodes()
        adjacency = self._adjacency(len(nodes[0]))
        component, sizes = self._components(len(nodes[0]))
        node_cells, cell_nodes = _grid(
            (cell_of(lat, lon), i) for i, (lat, lon) in enumerate(zip(*nodes[:2], strict=True))
        )
        edge_cells, cell_edges = _grid(self._edge_cells())
        return PedestrianNetwork(
            name=name,
            source=source,
            format=format,
            attribution=attribution,
            node_lat=nodes[0],
            node_lon=nodes[1],
            node_flags=nodes[2],
            edge_u=self.edge_u,
            edge_v=self.edge_v,
            edge_length=self.edge_length,
            edge_flags=self.edge_flags,
            edge_incline=self.edge_incline,
            geo_start=self.geo_start,
            geo_lat=self.geo_lat,
            geo_lon=self.geo_lon,
            adj_start=adjacency[0],
            adj_node=adjacency[1],
            adj_edge=adjacency[2],
            adj_length=adjacency[3],
            component=component,
            component_sizes=sizes,
            node_cells=node_cells,
            cell_nodes=cell_nodes,
            edge_cells=edge_cells,
            cell_edges=cell_edges,
        )

    def _used_nodes(self) -> tuple[array[float], array[float], array[int]]:
        """Drops nodes no edge touches (kerb points of a dropped footway, unused node ids)."""
        used = bytearray(len(self.node_lat))
        for u, v in zip(self.edge_u, self.edge_v, strict=True):
            used[u] = used[v] = 1
        if all(used):
            return self.node_lat, self.node_lon, self.node_flags
        renumber = array("i", [-1]) * len(used)
        lat, lon, flags = array("d"), array("d"), array("B")
        for old, keep in enumerate(used):
            if keep:
                renumber[old] = len(lat)
                lat.append(self.node_lat[old])
                lon.append(self.node_lon[old])
                flags.append(self.node_flags[old])
        self.edge_u = array("i", (renumber[u] for u in self.edge_u))
        self.edge_v = array("i", (renumber[v] for v in self.edge_v))
        return lat, lon, flags

    def _adjacency(
        self, node_count: int
    ) -> tuple[array[int], array[int], array[int], array[float]]:
        """Compressed rows: each node's moves (to node, by edge, metres) side by side."""
        moves: list[tuple[int, int, int]] = []  # (from, to, edge)
        for edge, (u, v, flags) in enumerate(
            zip(self.edge_u, self.edge_v, self.edge_flags, strict=True)
        ):
            if not flags & EDGE_BACKWARD_ONLY:
                moves.append((u, v, edge))
            if not flags & EDGE_FORWARD_ONLY:
                moves.append((v, u, edge))
        moves.sort()
        start = array("i", [0]) * (node_count + 1)
        for u, _v, _e in moves:
            start[u + 1] += 1
        for n in range(node_count):
            start[n + 1] += start[n]
        to = array("i", (v for _u, v, _e in moves))
        by = array("i", (e for _u, _v, e in moves))
        metres = array("d", (self.edge_length[e] for _u, _v, e in moves))
        return start, to, by, metres

    def _components(self, node_count: int) -> tuple[array[int], list[int]]:
        """Connected components (ignoring one-way marks), numbered from the largest."""
        parent = list(range(node_count))

        def root(n: int) -> int:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        for u, v in zip(self.edge_u, self.edge_v, strict=True):
            ru, rv = root(u), root(v)
            if ru != rv:
                parent[ru] = rv
        roots = [root(n) for n in range(node_count)]
        sizes: dict[int, int] = {}
        for r in roots:
            sizes[r] = sizes.get(r, 0) + 1
        order = sorted(sizes, key=lambda r: (-sizes[r], r))
        number = {r: i for i, r in enumerate(order)}
        return array("i", (number[r] for r in roots)), [sizes[r] for r in order]

    def _edge_cells(self) -> Iterator[tuple[Cell, int]]:
        for edge in range(len(self.edge_u)):
            start, end = self.geo_start[edge], self.geo_start[edge + 1]
            lats, lons = self.geo_lat[start:end], self.geo_lon[start:end]
            top, left = cell_of(min(lats), min(lons))
            bottom, right = cell_of(max(lats), max(lons))
            for r in range(top, bottom + 1):
                for c in range(left, right + 1):
                    yield (r, c), edge


def _grid(items: Iterable[tuple[Cell, int]]) -> tuple[dict[Cell, tuple[int, int]], array[int]]:
    """Items grouped by cell: a dict of slices into one flat array."""
    ordered = sorted(items)
    flat = array("i", (item for _cell, item in ordered))
    slices: dict[Cell, tuple[int, int]] = {}
    for at, (cell, _item) in enumerate(ordered):
        found = slices.get(cell)
        slices[cell] = (found[0] if found else at, at + 1)
    return slices, flat
