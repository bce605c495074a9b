"""Benchmark — pedestrian routing: one resident, 30 shelters, on the real Redmond network.

Ours: ``cityos.mobility.service.walking_routes(origin, 30 targets)`` on the OpenSidewalks
sample shipped in ``src/cityos/mobility/data`` (snapping, one multi-target Dijkstra, paths).
Peer: networkx (the graph library under OSMnx) in its own interpreter, on THE SAME GRAPH
(our compiled edges and lengths exported to a JSON edge list): ``single_source_dijkstra``
from the origin, then the 30 targets' distances and paths read from its answer — the
fastest way networkx offers for one origin and many targets (it has no stop-when-all-
targets-are-settled). Both answer the same random queries, and every distance must agree.

    .venv/bin/python benchmarks/pedestrian_routing.py                         # 500 queries
    .venv/bin/python benchmarks/pedestrian_routing.py --queries 100 --peer-python /tmp/nx/bin/python

Figures: routes/s (one route = one origin to 30 targets) and p50/p99 latency in ms, for the
plain query, a step-free query and a query with 3 blocked places (ours only), and the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchlib import DEFAULT_BENCH_VENV, BenchError, figure_lines, machine_line, ratio
from cityos.mobility import loaders
from cityos.mobility.network import PedestrianNetwork
from cityos.mobility.service import walking_routes

TARGETS = 30

# Runs in the peer's interpreter: reads the edge list and the queries, answers timings and
# distances as JSON on stdout.
PEER_SCRIPT = r"""
import json, sys, time
import networkx as nx
data = json.load(open(sys.argv[1]))
graph = nx.Graph()
graph.add_nodes_from(range(data["nodes"]))
for u, v, length in data["edges"]:
    if not graph.has_edge(u, v) or graph[u][v]["length"] > length:
        graph.add_edge(u, v, length=length)
timings, answers = [], []
for warm_up, (source, targets) in [(True, q) for q in data["queries"][:data["warmup"]]] + [
    (False, q) for q in data["queries"]
]:
    started = time.perf_counter()
    dist, paths = nx.single_source_dijkstra(graph, source, weight="length")
    found = [(dist.get(t), paths.get(t)) for t in targets]
    elapsed = time.perf_counter() - started
    if not warm_up:
        timings.append(elapsed)
        answers.append([d for d, _p in found])
print(json.dumps({"version": nx.__version__, "timings": timings, "distances": answers}))
"""


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(run: Callable[[], object], count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        run()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return timings


def queries(network: PedestrianNetwork, count: int, seed: int) -> list[tuple[int, list[int]]]:
    """Random origins and 30 random targets, all nodes of the largest connected part."""
    rng = random.Random(seed)
    nodes = [n for n in range(network.node_count) if network.component[n] == 0]
    return [(rng.choice(nodes), rng.sample(nodes, TARGETS)) for _ in range(count)]


def run_peer(
    python: str, network: PedestrianNetwork, work: list[tuple[int, list[int]]], warmup: int
) -> dict[str, object]:
    edges = [
        [network.edge_u[e], network.edge_v[e], network.edge_length[e]]
        for e in range(network.edge_count)
    ]
    with tempfile.TemporaryDirectory(prefix="cityos-bench-walk-") as folder:
        data = Path(folder) / "graph.json"
        data.write_text(
            json.dumps(
                {"nodes": network.node_count, "edges": edges, "queries": work, "warmup": warmup}
            )
        )
        script = Path(folder) / "peer.py"
        script.write_text(PEER_SCRIPT)
        result = subprocess.run(
            [python, str(script), str(data)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    if result.returncode != 0:
        raise BenchError(f"the peer failed / 比較対象が失敗しました:\n{result.stderr[-2000:]}")
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def line(name: str, timings: Sequence[float]) -> tuple[str, str, str, str]:
    rate = len(timings) / sum(timings)
    return (
        name,
        "routes/s (1 origin → 30 targets)",
        f"{rate:,.0f}",
        f"p50 {percentile(timings, 0.5) * 1000:.2f} ms  p99 {percentile(timings, 0.99) * 1000:.2f} ms",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=500, help="timed queries per variant")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--peer-python",
        default=str(DEFAULT_BENCH_VENV / "bin" / "python"),
        help="interpreter with networkx (default: .venv-bench)",
    )
    parser.add_argument("--ours-only", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    path = loaders.sample_network_path()
    started = time.perf_counter()
    main_file, nodes_file = loaders.resolve_files(path)
    network = loaders.build_network(main_file, nodes_file)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="cityos-bench-cache-") as cache:
        loaders.load_network(path, cache_dir=Path(cache))  # compiles and writes the cache
        loaders._loaded.clear()
        started = time.perf_counter()
        loaders.load_network(path, cache_dir=Path(cache))
        cached_s = time.perf_counter() - started

    work = queries(network, args.queries, args.seed)
    warm = queries(network, args.warmup, args.seed + 1)
    points = [
        (network.node_point(s), [(t, *network.node_point(t)) for t in targets])
        for s, targets in warm + work
    ]
    rng = random.Random(args.seed)
    results: dict[str, list[float]] = {}
    distances: list[list[float]] = []

    def variant(name: str, **options: object) -> None:
        it = iter(points)
        blocked_for = {}

        def once() -> None:
            origin, targets = next(it)
            blocked = blocked_for.setdefault(
                origin,
                [(*network.node_point(rng.randrange(network.node_count)), 40.0) for _ in range(3)]
                if options.get("blocked")
                else [],
            )
            routes = walking_routes(
                origin, targets, blocked, bool(options.get("step_free")), network=network
            )
            if name == "ours":
                by_id = {r.target_id: r.distance_m for r in routes}
                distances.append([by_id[t[0]] for t in targets])

        results[name] = timed(once, args.queries, args.warmup)

    print(f"... ours: {args.queries} queries per variant", file=sys.stderr)
    variant("ours")
    variant("ours, step-free", step_free=True)
    variant("ours, 3 blocked places", blocked=True)

    figures = [line(name, timings) for name, timings in results.items()]
    notes = []
    peer_version = "not run"
    if not args.ours_only:
        if not os.access(args.peer_python, os.X_OK):
            raise BenchError(
                f"{args.peer_python} がありません / no peer interpreter: install networkx, e.g. "
                f"`python3 -m venv /tmp/nx && /tmp/nx/bin/pip install networkx`, then pass "
                "--peer-python /tmp/nx/bin/python (or add networkx to PEERS in scripts/bench.sh)"
            )
        print("... peer: networkx", file=sys.stderr)
        peer = run_peer(args.peer_python, network, [(s, t) for s, t in work], args.warmup)
        peer_version = str(peer["version"])
        peer_timings = [float(t) for t in peer["timings"]]  # type: ignore[attr-defined]
        figures.append(line("peer (networkx)", peer_timings))
        ours_rate = len(results["ours"]) / sum(results["ours"])
        peer_rate = len(peer_timings) / sum(peer_timings)
        figures.append(("ours / peer", "routes/s", ratio(ours_rate, peer_rate), ""))
        theirs = peer["distances"]  # type: ignore[assignment]
        ours_last = distances[-args.queries :]
        worst = max(
            abs(a - b) / max(b, 1e-9)
            for row_ours, row_theirs in zip(ours_last, theirs, strict=True)  # type: ignore[call-overload]
            for a, b in zip(row_ours, row_theirs, strict=True)
        )
        if worst > 1e-9:
            raise BenchError(f"distances differ from the peer's by up to {worst:.2e} (relative)")
        notes.append(f"all {len(ours_last) * TARGETS:,} distances agree with the peer's (≤1e-9)")

    print()
    print(
        "== pedestrian routing: Redmond, WA OpenSidewalks sample (ODbL © OpenStreetMap contributors)"
    )
    print(machine_line())
    print(
        f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"(above {os.cpu_count()} the figures are noisy: run again)"
    )
    print(
        f"network: {network.node_count:,} nodes, {network.edge_count:,} edges, "
        f"{sum(network.edge_length) / 1000:.1f} km; compile {build_s * 1000:.0f} ms, "
        f"cached load {cached_s * 1000:.1f} ms; networkx {peer_version}"
    )
    for text in figure_lines(figures):
        print(text)
    notes.append(
        "ours includes snapping each point to the network, building the 30 paths and "
        "sorting; the peer is given node ids and returns paths to every node"
    )
    for note in notes:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
