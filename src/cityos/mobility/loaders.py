"""Reading pedestrian networks from GeoJSON, and keeping the compiled graph in the cache.

Three layouts are read (the layout is told from the properties, not the file name):

* **OpenSidewalks 0.2** — an edges file (LineStrings with ``_id``, ``_u_id``, ``_v_id``,
  ``highway``, ``incline`` …) and, beside it, a nodes file (Points with ``_id``, ``barrier``,
  ``kerb`` …), joined by node id. ``*edges*`` finds ``*nodes*`` by name.
* **Plain LineStrings** — any FeatureCollection of LineStrings/MultiLineStrings, e.g. footways
  extracted from OpenStreetMap: every vertex is a node, joined to others at the same
  coordinates (rounded to 1e-7°). OSM tags in the properties are read (``highway=steps``,
  ``incline``, ``wheelchair``, ``foot``, ``oneway:foot``); Points tagged ``kerb=raised`` in the
  same collection mark the vertex they sit on.
* **MLIT 歩行空間ネットワークデータ** — a link file (``start_id``, ``end_id``, ``distance``,
  ``route_type``, ``direction``, ``vtcl_slope``, ``lev_diff`` …) and a node file (``node_id``,
  ``lat``, ``lon`` …), joined by id. ``*link*`` finds ``*node*`` by name.

Compiling a city's network takes seconds, so the result is kept under
CACHE_DIR/pedestrian/<content hash>.pickle and later loads take milliseconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import logging
import math
import os
import pickle
import re
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from importlib import resources
from itertools import pairwise
from pathlib import Path
from threading import Lock
from typing import Any

import orjson

from cityos.core.errors import ValidationProblem
from cityos.mobility import config
from cityos.mobility.geo import LatLon
from cityos.mobility.network import (
    EDGE_BACKWARD_ONLY,
    EDGE_FORWARD_ONLY,
    EDGE_LEVEL_STEP,
    EDGE_NO_WHEELCHAIR,
    EDGE_STEEP,
    EDGE_STEPS,
    NODE_RAISED_KERB,
    NetworkBuilder,
    PedestrianNetwork,
)

log = logging.getLogger(__name__)

CACHE_VERSION = "1"
FORMAT_OSW = "opensidewalks"
FORMAT_LINES = "linestrings"
FORMAT_MLIT = "mlit"
COORD_DECIMALS = 7  # vertices closer than ~1 cm are the same node
SUFFIXES = (".geojson", ".json", ".geojson.gz", ".json.gz")
# Lines nobody may walk along (a footway extract may still carry them).
NOT_WALKABLE_HIGHWAYS = frozenset({"motorway", "motorway_link", "construction", "proposed"})
WALKABLE_FOOT = frozenset({"yes", "designated", "permissive"})
# MLIT route_type (経路の種別): 5 escalator, 6 stairs — neither is step-free.
MLIT_STEPS = frozenset({5, 6})
MLIT_UNKNOWN = 99

SAMPLE_DIR = "data"
SAMPLE_EDGES = "redmond_wa.edges.OSW.geojson.gz"


class NetworkFileError(ValidationProblem, ValueError):
    """A file that cannot be read as a pedestrian network; ``reason`` says which way."""

    type_slug = "network-file"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, errors={"network": [reason]})
        self.reason = reason


# --- finding the files -------------------------------------------------------------------


def sample_network_path() -> Path:
    """The shipped OpenSidewalks sample (Redmond, WA; ODbL © OpenStreetMap contributors)."""
    return Path(str(resources.files("cityos.mobility") / SAMPLE_DIR / SAMPLE_EDGES))


def _is_geojson(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def companion_of(path: Path) -> Path | None:
    """The nodes file beside an edges/link file: *edges* → *nodes*, *link* → *node*."""
    for old, new in (("edges", "nodes"), ("Edges", "Nodes"), ("EDGES", "NODES"), ("links", "nodes"),
                     ("link", "node"), ("Link", "Node"), ("LINK", "NODE")):  # fmt: skip
        if old in path.name:
            candidate = path.with_name(path.name.replace(old, new))
            if candidate != path and candidate.is_file():
                return candidate
    return None


def resolve_files(path: Path, nodes: Path | None = None) -> tuple[Path, Path | None]:
    """The main (edges or links) file and its nodes file, from a file or a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _is_geojson(p))
        main = [p for p in files if re.search("edge|link", p.name, re.IGNORECASE)]
        if not main and len(files) == 1:
            main = files
        if len(main) != 1:
            raise NetworkFileError(
                "ambiguous",
                f"フォルダ {path} に歩行者ネットワークのファイル（*edges*・*link* の GeoJSON）がちょうど 1 つ必要です"
                f"（{len(main)} 件） / the folder {path} must hold exactly one edges or link GeoJSON file "
                f"(found {len(main)})",
            )
        path = main[0]
    elif not path.is_file():
        raise NetworkFileError("missing", f"ファイルがありません: {path} / no such file: {path}")
    if nodes is not None and not Path(nodes).is_file():
        raise NetworkFileError(
            "missing", f"ノードのファイルがありません: {nodes} / no such nodes file: {nodes}"
        )
    return path, Path(nodes) if nodes is not None else companion_of(path)


# --- reading GeoJSON ---------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise NetworkFileError(
                "not_json",
                f"gzip ファイルが壊れています: {path.name}（{exc}） / the gzip file {path.name} is broken: {exc}",
            ) from None
    return raw


def _features(raw: bytes, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The collection's header and its features; refuses anything but a FeatureCollection."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NetworkFileError(
            "not_json",
            f"{path.name} は GeoJSON ではありません（JSON として読めません: {exc}） / "
            f"{path.name} is not GeoJSON: it is not JSON ({exc})",
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise NetworkFileError(
            "not_feature_collection",
            f"{path.name} は GeoJSON の FeatureCollection ではありません（type: {kind!r}） / "
            f"{path.name} is not a GeoJSON FeatureCollection (type: {kind!r})",
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise NetworkFileError(
            "not_feature_collection",
            f"{path.name} に features の配列がありません / {path.name} has no features array",
        )
    kept = [f for f in features if isinstance(f, dict) and f.get("type") == "Feature"]
    if not kept:
        raise NetworkFileError(
            "empty",
            f"{path.name} には地物が 1 つもありません / {path.name} has no features",
        )
    return data, kept


def _props(feature: Mapping[str, Any]) -> dict[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def _geometry(feature: Mapping[str, Any]) -> tuple[str | None, Any]:
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return None, None
    return geometry.get("type"), geometry.get("coordinates")


def _line(coordinates: Any) -> list[LatLon]:
    """GeoJSON [lon, lat(, z)] positions as (lat, lon); invalid positions are dropped."""
    points: list[LatLon] = []
    if not isinstance(coordinates, list):
        return points
    for position in coordinates:
        try:
            lon, lat = float(position[0]), float(position[1])
        except (TypeError, ValueError, IndexError):
            continue
        if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
            points.append((lat, lon))
    return points


def _lines(feature: Mapping[str, Any]) -> list[list[LatLon]]:
    kind, coordinates = _geometry(feature)
    if kind == "LineString":
        return [_line(coordinates)]
    if kind == "MultiLineString" and isinstance(coordinates, list):
        return [_line(part) for part in coordinates]
    return []


def _point(feature: Mapping[str, Any]) -> LatLon | None:
    kind, coordinates = _geometry(feature)
    if kind != "Point":
        return None
    found = _line([coordinates])
    return found[0] if found else None


def detect_format(features: Sequence[Mapping[str, Any]]) -> str:
    """Which layout a collection is in, told from its properties and geometries."""
    has_lines = False
    for feature in features:
        props = _props(feature)
        if "start_id" in props and "end_id" in props:
            return FORMAT_MLIT
        kind, _coordinates = _geometry(feature)
        if kind in ("LineString", "MultiLineString"):
            if "_u_id" in props and "_v_id" in props:
                return FORMAT_OSW
            has_lines = True
    return FORMAT_LINES if has_lines else ""


# --- attributes --------------------------------------------------------------------------


def parse_incline(value: Any) -> float:
    """Rise over run from OpenSidewalks (a number) or OSM (``8%``, ``-5°``); NaN if unknown."""
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else math.nan
    if not isinstance(value, str):
        return math.nan
    written = value.strip().replace(",", ".")
    match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(%|°|deg)?", written)
    if match is None:
        return math.nan  # "up", "down", "yes": a slope of unknown size
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return number / 100.0
    if unit in ("°", "deg"):
        return math.tan(math.radians(number))
    return number if abs(number) <= 1.0 else number / 100.0


def _text(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""


def osm_walkable(props: Mapping[str, Any]) -> bool:
    """Whether a line tagged like OSM may be walked (foot=no, access=private … may not)."""
    foot = _text(props.get("foot"))
    if foot in WALKABLE_FOOT:
        return True
    if foot == "no":
        return False
    if _text(props.get("access")) in ("no", "private"):
        return False
    return _text(props.get("highway")) not in NOT_WALKABLE_HIGHWAYS


def osm_flags(props: Mapping[str, Any]) -> int:
    flags = 0
    if _text(props.get("highway")) == "steps":
        flags |= EDGE_STEPS
    if _text(props.get("wheelchair")) == "no":
        flags |= EDGE_NO_WHEELCHAIR
    oneway = _text(props.get("oneway:foot"))
    conveying = _text(props.get("conveying"))
    if oneway in ("yes", "true", "1") or conveying == "forward":
        flags |= EDGE_FORWARD_ONLY
    elif oneway == "-1" or conveying == "backward":
        flags |= EDGE_BACKWARD_ONLY
    return flags


def _raised_kerb(props: Mapping[str, Any]) -> bool:
    return _text(props.get("kerb")) == "raised"


def _code(value: Any) -> int | None:
    """An MLIT code (given as 6, "6" or 6.0); None when missing or unknown (99)."""
    try:
        code = int(float(str(value)))
    except (TypeError, ValueError):
        return None
    return None if code == MLIT_UNKNOWN else code


# --- the three layouts -------------------------------------------------------------------


def _id(value: Any) -> str | None:
    """A node id as text, so that 1001, 1001.0 and "1001" in two files meet."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _node_key(point: LatLon) -> tuple[float, float]:
    return (round(point[0], COORD_DECIMALS), round(point[1], COORD_DECIMALS))


def _read_osw(
    builder: NetworkBuilder, edges: list[dict[str, Any]], nodes: list[dict[str, Any]]
) -> None:
    points: dict[str, LatLon] = {}
    raised: set[str] = set()
    for feature in nodes:
        props = _props(feature)
        point = _point(feature)
        node_id = _id(props.get("_id"))
        if point is None or node_id is None:
            continue
        points[node_id] = point
        if _raised_kerb(props):
            raised.add(node_id)
    for feature in edges:
        props = _props(feature)
        if not osm_walkable(props):
            continue
        lines = _lines(feature)
        line = lines[0] if lines else []
        u_key, v_key = _id(props.get("_u_id")), _id(props.get("_v_id"))
        if len(line) < 2 or u_key is None or v_key is None:
            continue
        u = builder.node(u_key, *points.get(u_key, line[0]))
        v = builder.node(v_key, *points.get(v_key, line[-1]))
        for key, node in ((u_key, u), (v_key, v)):
            if key in raised:
                builder.mark_node(node, NODE_RAISED_KERB)
        builder.edge(
            u, v, line, flags=osm_flags(props), incline=parse_incline(props.get("incline"))
        )


def _read_lines(builder: NetworkBuilder, features: list[dict[str, Any]]) -> None:
    kerbs: list[LatLon] = []
    for feature in features:
        props = _props(feature)
        point = _point(feature)
        if point is not None:
            if _raised_kerb(props):
                kerbs.append(point)
            continue
        if not osm_walkable(props):
            continue
        flags = osm_flags(props)
        incline = parse_incline(props.get("incline"))
        for line in _lines(feature):
            nodes = [builder.node(_node_key(p), *p) for p in line]
            for (a, b), (pa, pb) in zip(pairwise(nodes), pairwise(line), strict=True):
                builder.edge(a, b, [pa, pb], flags=flags, incline=incline)
    for point in kerbs:
        node = builder.ids.get(_node_key(point))
        if node is not None:
            builder.mark_node(node, NODE_RAISED_KERB)


def _mlit_scale(links: list[dict[str, Any]]) -> bool:
    """Whether the file uses the finer classes of the later spec.

    The 2018 spec codes lev_diff 1 (≤2 cm) / 2 (>2 cm) and vtcl_slope 1 (≤5 %) / 2, 3 (>5 %,
    up or down); later editions split them (lev_diff 1–5: 0, ≤2, ≤5, ≤10, >10 cm; vtcl_slope
    1–8: 0, ≤5, 5–8 up/down, 8–18 up/down, >18 up/down). Any code only the later spec has
    tells the files apart; a file that has none is read as 2018, the safer reading.
    """
    for feature in links:
        props = _props(feature)
        lev, slope = _code(props.get("lev_diff")), _code(props.get("vtcl_slope"))
        if (lev is not None and 3 <= lev <= 5) or (slope is not None and 4 <= slope <= 8):
            return True
    return False


def mlit_flags(props: Mapping[str, Any], later_spec: bool) -> int:
    flags = 0
    if _code(props.get("route_type")) in MLIT_STEPS:
        flags |= EDGE_STEPS
    lev = _code(props.get("lev_diff"))
    if lev is not None and (lev >= 3 if later_spec else lev >= 2):
        flags |= EDGE_LEVEL_STEP  # a step over 2 cm
    slope = _code(props.get("vtcl_slope"))
    if slope is not None and (5 <= slope <= 8 if later_spec else slope in (2, 3)):
        flags |= EDGE_STEEP  # over 8 % (later spec) or over 5 % (2018: no finer class)
    direction = _code(props.get("direction"))
    if direction == 2:
        flags |= EDGE_FORWARD_ONLY
    elif direction == 3:
        flags |= EDGE_BACKWARD_ONLY
    return flags


def _read_mlit(
    builder: NetworkBuilder, links: list[dict[str, Any]], nodes: list[dict[str, Any]], name: str
) -> None:
    points: dict[str, LatLon] = {}
    for feature in nodes:
        props = _props(feature)
        node_id = _id(props.get("node_id"))
        if node_id is None:
            continue
        point = _point(feature)
        if point is None:
            found = _line([[props.get("lon"), props.get("lat")]])
            point = found[0] if found else None
        if point is not None:
            points[node_id] = point
    later_spec = _mlit_scale(links)
    missing = 0
    for feature in links:
        props = _props(feature)
        start_id, end_id = _id(props.get("start_id")), _id(props.get("end_id"))
        lines = _lines(feature)
        line = lines[0] if len(lines) == 1 and len(lines[0]) >= 2 else []
        start = points.get(start_id or "") or (line[0] if line else None)
        end = points.get(end_id or "") or (line[-1] if line else None)
        if start_id is None or end_id is None or start is None or end is None:
            missing += 1
            continue
        try:
            recorded = float(props.get("distance") or 0.0)
        except (TypeError, ValueError):
            recorded = 0.0
        u = builder.node(start_id, *start)
        v = builder.node(end_id, *end)
        builder.edge(
            u,
            v,
            line or [start, end],
            flags=mlit_flags(props, later_spec),
            length_m=recorded if math.isfinite(recorded) else None,
        )
    if missing and not builder.edge_u:
        raise NetworkFileError(
            "nodes_missing",
            f"{name}: リンクの始点・終点（start_id・end_id）の位置がわかりません。ノードのファイル（node_id, lat, lon）を"
            f"指定してください（{missing} 件） / {name}: the links' start_id/end_id cannot be placed: "
            f"give the node file (node_id, lat, lon) ({missing} links)",
        )
    if missing:
        log.warning("%s: %d links skipped (no position for start_id or end_id)", name, missing)


def _attribution(header: Mapping[str, Any]) -> str:
    source = header.get("dataSource")
    if isinstance(source, dict):
        name = str(source.get("name") or "")
        license_url = str(source.get("license") or "")
        if name == "OpenStreetMap":
            return f"© OpenStreetMap contributors, ODbL 1.0 ({license_url or 'https://opendatacommons.org/licenses/odbl/1-0/'})"
        return " ".join(part for part in (name, license_url) if part)
    for key in ("attribution", "license", "licence"):
        if isinstance(header.get(key), str):
            return str(header[key])
    return ""


def build_network(
    main: Path,
    nodes: Path | None = None,
    *,
    name: str = "",
    blobs: tuple[bytes, bytes] | None = None,
) -> PedestrianNetwork:
    """Compile a network from its file(s) (``blobs``: their bytes, when already read)."""
    main_raw, nodes_raw = blobs or (_read_bytes(main), _read_bytes(nodes) if nodes else b"")
    header, features = _features(main_raw, main)
    kind = detect_format(features)
    if not kind:
        points = sum(1 for f in features if _point(f) is not None)
        hint = (
            "（点だけのファイルです。ノードのファイルではなく、エッジ・リンクのファイルを指定してください） / "
            "(only points: this looks like a nodes file; give the edges or link file)"
            if points == len(features)
            else ""
        )
        raise NetworkFileError(
            "no_lines",
            f"{main.name} に線（LineString）の地物がありません。歩行者ネットワークには線が必要です / "
            f"{main.name} has no LineString features: a pedestrian network is made of lines {hint}".strip(),
        )
    node_features = _features(nodes_raw, nodes)[1] if nodes is not None else []
    builder = NetworkBuilder()
    if kind == FORMAT_OSW:
        _read_osw(builder, features, node_features)
    elif kind == FORMAT_MLIT:
        _read_mlit(builder, features, node_features, main.name)
    else:
        _read_lines(builder, features)
    if not builder.edge_u:
        raise NetworkFileError(
            "no_lines",
            f"{main.name} に歩ける線がありません（座標は経度・緯度の度で書きます。投影座標系は読めません。"
            f"または、すべて foot=no などです） / {main.name} has no walkable lines (coordinates must be "
            f"longitude, latitude in degrees, not a projected system; or all are foot=no and the like)",
        )
    source = str(main) if nodes is None else f"{main} + {nodes.name}"
    return builder.build(
        name=name or _stem(main), source=source, format=kind, attribution=_attribution(header)
    )


# --- the cache ---------------------------------------------------------------------------

_STATE_FIELDS = tuple(
    f.name for f in dataclasses.fields(PedestrianNetwork) if not f.name.startswith("_")
)


def _code_fingerprint() -> bytes:
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for module in ("network.py", "loaders.py"):
        digest.update(Path(__file__).with_name(module).read_bytes())
    return digest.digest()


def cache_key(blobs: tuple[bytes, bytes]) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    for blob in blobs:
        digest.update(len(blob).to_bytes(8, "little"))
        digest.update(blob)
    return digest.hexdigest()[:24]


def _save(network: PedestrianNetwork, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: getattr(network, name) for name in _STATE_FIELDS}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".building-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _load(path: Path) -> PedestrianNetwork | None:
    try:
        with path.open("rb") as handle:
            state = pickle.load(handle)  # noqa: S301 (our own cache file)
        return PedestrianNetwork(**state)
    except FileNotFoundError:
        return None
    except Exception:  # a cache file from a crash or another version: rebuild it
        log.warning("ignoring the unreadable pedestrian network cache %s", path, exc_info=True)
        return None


_loaded: dict[str, PedestrianNetwork] = {}
_loaded_lock = Lock()


def load_network(
    path: Path | str,
    *,
    nodes: Path | str | None = None,
    name: str = "",
    cache: bool = True,
    cache_dir: Path | None = None,
) -> PedestrianNetwork:
    """A pedestrian network from a GeoJSON file or folder (any of the three layouts).

    The compiled graph is kept per file content in CACHE_DIR/pedestrian/ (``cache=False``
    skips it) and in this process, so loading the same file again costs only reading it.
    Raises :class:`NetworkFileError` (a ``ValueError``) with a bilingual message when the
    file cannot be used.
    """
    main, companion = resolve_files(Path(path), Path(nodes) if nodes is not None else None)
    blobs = (_read_bytes(main), _read_bytes(companion) if companion else b"")
    key = cache_key(blobs)
    network = _loaded.get(key)
    if network is None:
        cache_file = (cache_dir or config.cache_dir()) / "pedestrian" / f"{key}.pickle"
        network = _load(cache_file) if cache else None
        if network is None:
            network = build_network(main, companion, blobs=blobs)
            if cache:
                try:
                    _save(network, cache_file)
                except OSError:
                    log.warning("cannot write the pedestrian network cache %s", cache_file)
        with _loaded_lock:
            network = _loaded.setdefault(key, network)
    wanted = name or _stem(main)
    return network if network.name == wanted else dataclasses.replace(network, name=wanted)
