"""``cityos mobility``: walking routes and a look at a pedestrian network file."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from cityos.mobility import service
from cityos.mobility.geo import BlockedCircle, RoutingInputError
from cityos.mobility.loaders import NetworkFileError, load_network
from cityos.mobility.network import PedestrianNetwork

app = typer.Typer(help="移動・歩行者ルート / mobility and walking routes", no_args_is_help=True)

NetworkOption = Annotated[
    Path | None,
    typer.Option(
        "--network",
        help="GeoJSON network file or folder (OpenSidewalks, LineStrings, MLIT 歩行空間ネットワーク); "
        "default: CITYOS_PEDESTRIAN_NETWORK",
    ),
]
NodesOption = Annotated[
    Path | None, typer.Option("--nodes", help="Nodes file, when not found beside the network file")
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"エラー / error: {message}", err=True)
    return typer.Exit(1)


def _numbers(text: str, count: int, what: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise typer.BadParameter(
            f"{what} の形で書いてください: {text!r} / write it as {what}: {text!r}"
        )
    return values


def _network(path: Path | None, nodes: Path | None) -> PedestrianNetwork | None:
    try:
        if path is not None:
            return load_network(path, nodes=nodes)
        return service.get_network()
    except NetworkFileError as exc:
        raise _fail(exc.detail) from None


@app.command("route")
def route(
    origin: Annotated[str, typer.Option("--from", help="Start as LAT,LON")],
    to: Annotated[list[str], typer.Option("--to", help="Destination as LAT,LON (repeatable)")],
    network: NetworkOption = None,
    nodes: NodesOption = None,
    step_free: Annotated[
        bool, typer.Option("--step-free", help="No steps, raised kerbs or slopes over 8 %")
    ] = False,
    avoid: Annotated[
        list[str] | None,
        typer.Option("--avoid", help="Blocked place as LAT,LON,RADIUS_M (repeatable)"),
    ] = None,
    speed: Annotated[
        float | None, typer.Option("--speed", help="Walking speed in km/h (default 4, step-free 3)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, path included")] = False,
) -> None:
    """歩いて行く道のりと時間 / walking distance, time and path between points."""
    start = _numbers(origin, 2, "LAT,LON")
    targets: list[service.Target] = []
    for text in to:
        lat, lon = _numbers(text, 2, "LAT,LON")
        targets.append((text, lat, lon))
    try:
        blocked = [BlockedCircle(*_numbers(text, 3, "LAT,LON,RADIUS_M")) for text in avoid or []]
        net = _network(network, nodes)
        started = time.perf_counter()
        routes = service.walking_routes(
            (start[0], start[1]),
            targets,
            blocked,
            step_free,
            network=net,
            speed_kmh=speed,
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
    except RoutingInputError as exc:
        raise _fail(exc.detail) from None
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in routes], ensure_ascii=False, indent=1))
        return
    for r in routes:
        typer.echo(_describe(r))
    typer.echo(f"({elapsed_ms:.1f} ms)", err=True)


def _describe(r: service.WalkingRoute) -> str:
    how = (
        "歩行者ネットワーク経由 / via the pedestrian network"
        if r.via_network
        else f"直線距離 / STRAIGHT LINE ({r.fallback})"
    )
    lines = [
        f"{r.target_id}: {r.distance_m:,.0f} m, {r.walking_minutes:.1f} 分 / min — {how}",
        f"  path: {len(r.path)} points, {len(r.edges)} edges; straight line {r.straight_m:,.0f} m; "
        f"snapping {r.snap_m:.1f} m",
    ]
    if r.note:
        lines.append(f"  {r.note}")
    if r.passes_blocked:
        lines.append("  注意: 通行止めの場所を通ります / caution: passes a blocked place")
    return "\n".join(lines)


@app.command("info")
def info(
    network: NetworkOption = None,
    nodes: NodesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """歩行者ネットワークの概要 / size, barriers and extent of a pedestrian network."""
    started = time.perf_counter()
    net = _network(network, nodes)
    if net is None:
        raise _fail(
            "--network も CITYOS_PEDESTRIAN_NETWORK も指定されていません / "
            "no --network given and CITYOS_PEDESTRIAN_NETWORK is not set"
        )
    summary: dict[str, Any] = net.summary()
    summary["load_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        return
    for key, value in summary.items():
        typer.echo(f"{key}: {value}")
