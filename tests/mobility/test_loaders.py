"""Reading networks: OpenSidewalks (the real Redmond sample), plain LineStrings, the MLIT
歩行空間ネットワークデータ layout, the cache, and clear errors for files that are no network."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cityos.core.geo import distance_m
from cityos.mobility import loaders
from cityos.mobility.loaders import NetworkFileError, load_network, sample_network_path
from cityos.mobility.network import (
    EDGE_FORWARD_ONLY,
    EDGE_LEVEL_STEP,
    EDGE_STEPS,
    NODE_RAISED_KERB,
    PedestrianNetwork,
)
from cityos.mobility.service import walking_routes
from tests.mobility.conftest import MLIT_LINKS, node_pairs


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def line(coordinates: list[list[float]], **props: Any) -> dict[str, Any]:
    geometry = {"type": "LineString", "coordinates": coordinates}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


# --- OpenSidewalks ---------------------------------------------------------------------------


def test_the_redmond_sample_loads_with_its_barriers_and_license(
    redmond: PedestrianNetwork,
) -> None:
    summary = redmond.summary()
    assert summary["format"] == "opensidewalks"
    assert "OpenStreetMap" in summary["attribution"]
    assert "ODbL" in summary["attribution"]
    # 4,368 edges less 5 closed service ways; nodes on no edge (lone kerb points) dropped.
    assert summary["edges"] == 4363
    assert summary["nodes"] == 3695
    assert summary["steps_edges"] == 112  # highway=steps
    assert summary["raised_kerb_nodes"] == 91  # kerb=raised, from the nodes file
    assert summary["largest_component_nodes"] > 0.9 * summary["nodes"]


def test_edge_lengths_agree_with_the_lengths_opensidewalks_records(
    redmond: PedestrianNetwork,
) -> None:
    with gzip.open(sample_network_path(), "rt", encoding="utf-8") as handle:
        recorded = sum(
            f["properties"]["length"]
            for f in json.load(handle)["features"]
            if f["properties"]["_u_id"] != f["properties"]["_v_id"]
        )
    assert sum(redmond.edge_length) == pytest.approx(recorded, rel=0.02)


def test_a_folder_or_the_edges_file_finds_the_nodes_file(tmp_path: Path) -> None:
    folder = sample_network_path().parent
    main, nodes = loaders.resolve_files(folder)
    assert main.name == "redmond_wa.edges.OSW.geojson.gz"
    assert nodes is not None
    assert nodes.name == "redmond_wa.nodes.OSW.geojson.gz"
    assert loaders.resolve_files(main) == (main, nodes)
    alone = tmp_path / "edges.geojson.gz"
    shutil.copyfile(main, alone)
    without_nodes = load_network(alone)
    assert without_nodes.summary()["raised_kerb_nodes"] == 0  # kerbs live in the nodes file
    assert without_nodes.edge_count == 4363


# --- plain LineStrings -------------------------------------------------------------------


def test_linestrings_join_where_their_vertices_coincide(tmp_path: Path) -> None:
    lon, lat = 139.5600, 35.7000
    path = write(
        tmp_path / "footways.geojson",
        collection(
            line([[lon, lat], [lon + 0.001, lat]], highway="footway"),
            # Starts 4e-9° off the first line's end: the same vertex at 1e-7°.
            line([[lon + 0.001 + 4e-9, lat], [lon + 0.001, lat + 0.001]], highway="footway"),
            line([[lon + 0.001, lat + 0.001], [lon, lat + 0.001]], highway="steps", incline="up"),
            line([[lon, lat + 0.001], [lon, lat]], highway="footway", foot="no"),
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [
                        [[lon, lat], [lon - 0.001, lat]],
                        [[lon - 0.001, lat], [lon - 0.001, lat - 0.001]],
                    ],
                },
                "properties": {"highway": "footway", "incline": "-10%"},
            },
            point(lon + 0.001, lat + 0.001, barrier="kerb", kerb="raised"),
        ),
    )
    network = load_network(path, cache=False)
    assert network.format == "linestrings"
    assert network.node_count == 6  # the foot=no line adds no vertex of its own
    assert network.edge_count == 5
    assert network.component_sizes == [6]
    flags = list(network.edge_flags)
    assert sum(1 for f in flags if f & EDGE_STEPS) == 1
    assert sum(1 for f in network.node_flags if f & NODE_RAISED_KERB) == 1
    assert sorted(round(abs(i), 3) for i in network.edge_incline if i == i) == [0.1, 0.1]
    route = walking_routes((lat, lon), [("corner", lat + 0.001, lon + 0.001)], network=network)[0]
    assert route.via_network
    assert route.distance_m == pytest.approx(
        distance_m(lat, lon, lat, lon + 0.001)
        + distance_m(lat, lon + 0.001, lat + 0.001, lon + 0.001),
        rel=1e-6,
    )


def test_redmond_as_plain_linestrings_gives_the_same_distances(
    redmond: PedestrianNetwork, tmp_path: Path
) -> None:
    """An OSM footway extract without node ids routes like the OpenSidewalks graph."""
    with gzip.open(sample_network_path(), "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    for feature in data["features"]:
        for key in ("_id", "_u_id", "_v_id"):
            feature["properties"].pop(key)
    plain = load_network(write(tmp_path / "redmond_lines.geojson", data), cache=False)
    assert plain.format == "linestrings"
    assert plain.node_count > redmond.node_count  # every vertex is a node
    for a, b in node_pairs(redmond, 10, 300, 1500, seed=3):
        origin, target = redmond.node_point(a), redmond.node_point(b)
        ours = walking_routes(origin, [("t", *target)], network=redmond)[0]
        theirs = walking_routes(origin, [("t", *target)], network=plain)[0]
        assert ours.via_network
        assert theirs.via_network
        assert theirs.distance_m == pytest.approx(ours.distance_m, rel=1e-6)


# --- MLIT 歩行空間ネットワークデータ ----------------------------------------------------------


def test_the_mlit_layout_reads_links_nodes_and_their_codes(mlit: PedestrianNetwork) -> None:
    assert mlit.format == "mlit"
    assert mlit.node_count == 7
    assert mlit.edge_count == 9
    assert mlit.source.endswith("mlit_node.geojson")  # found beside mlit_link.geojson
    flags = list(mlit.edge_flags)
    # L2 stairs (route_type 6) and L8 escalator (5) are steps; L9 has a step over 2 cm.
    assert [bool(f & EDGE_STEPS) for f in flags] == [
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    assert bool(flags[8] & EDGE_LEVEL_STEP)
    assert bool(flags[7] & EDGE_FORWARD_ONLY)  # direction 2: start to end only
    # The recorded distance counts where the drawn line is shorter (stairs, the elevator).
    assert list(mlit.edge_length)[1] == pytest.approx(25.0)
    assert list(mlit.edge_length)[4] == pytest.approx(8.0)  # L5 has no geometry at all


def test_the_later_mlit_classes_are_told_apart(tmp_path: Path) -> None:
    data = json.loads(MLIT_LINKS.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["lev_diff"] = 4  # 5-10 cm: only the later spec has it
    links = write(tmp_path / "later_link.geojson", data)
    shutil.copyfile(MLIT_LINKS.with_name("mlit_node.geojson"), tmp_path / "later_node.geojson")
    network = load_network(links, cache=False)
    flags = list(network.edge_flags)
    assert flags[0] & EDGE_LEVEL_STEP  # 5-10 cm is a step
    assert not flags[8] & EDGE_LEVEL_STEP  # code 2 now means 0-2 cm: no step


def test_mlit_links_without_a_node_file_or_geometry_are_refused(tmp_path: Path) -> None:
    data = json.loads(MLIT_LINKS.read_text(encoding="utf-8"))
    for feature in data["features"]:
        feature["geometry"] = None
    with pytest.raises(NetworkFileError) as caught:
        load_network(write(tmp_path / "alone.geojson", data), cache=False)
    assert caught.value.reason == "nodes_missing"
    assert "node_id" in caught.value.detail
    assert "ノード" in caught.value.detail


# --- bad files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason", "english"),
    [
        (b"node_id,lat,lon\n1,35.7,139.5\n", "not_json", "not GeoJSON"),
        (
            b'{"type": "Feature", "geometry": null, "properties": {}}',
            "not_feature_collection",
            "not a GeoJSON FeatureCollection",
        ),
        (b'{"type": "FeatureCollection", "features": []}', "empty", "has no features"),
        (
            b'{"type": "FeatureCollection", "features": {}}',
            "not_feature_collection",
            "no features array",
        ),
        (
            json.dumps(
                collection(point(139.5, 35.7, node_id=1), point(139.6, 35.7, node_id=2))
            ).encode(),
            "no_lines",
            "nodes file",
        ),
        (
            json.dumps(collection(line([[139.5, 35.7], [139.5, 35.7001]], foot="no"))).encode(),
            "no_lines",
            "no walkable lines",
        ),
        (
            json.dumps(collection(line([[999, 999], [998, 998]]))).encode(),
            "no_lines",
            "no walkable lines",
        ),
        (b"\x1f\x8b\x08\x00broken", "not_json", "broken"),
    ],
)
def test_files_that_are_no_network_get_a_clear_bilingual_error(
    tmp_path: Path, content: bytes, reason: str, english: str
) -> None:
    path = tmp_path / "network.geojson"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=english) as caught:
        load_network(path, cache=False)
    assert isinstance(caught.value, NetworkFileError)
    assert caught.value.reason == reason
    assert " / " in caught.value.detail
    assert any("\u3040" <= ch <= "\u9fff" for ch in caught.value.detail)  # and in Japanese
    assert caught.value.status == 422  # an API answers 422 problem details


def test_a_missing_file_or_an_ambiguous_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match="no such file"):
        load_network(tmp_path / "nothing.geojson")
    for name in ("a_edges.geojson", "b_edges.geojson"):
        write(tmp_path / name, collection(line([[139.5, 35.7], [139.5, 35.7001]])))
    with pytest.raises(NetworkFileError, match="exactly one"):
        load_network(tmp_path)


# --- the cache ---------------------------------------------------------------------------


def test_the_compiled_network_is_cached_and_a_broken_cache_is_rebuilt(tmp_path: Path) -> None:
    source = write(
        tmp_path / "walk.geojson",
        collection(line([[139.5, 35.7], [139.5, 35.7001], [139.5001, 35.7001]])),
    )
    cache = tmp_path / "cache"
    first = load_network(source, cache_dir=cache)
    (cached,) = (cache / "pedestrian").glob("*.pickle")
    loaders._loaded.clear()
    again = load_network(source, cache_dir=cache)
    assert again is not first
    assert list(again.edge_length) == list(first.edge_length)
    cached.write_bytes(b"not a pickle")
    loaders._loaded.clear()
    rebuilt = load_network(source, cache_dir=cache)
    assert rebuilt.edge_count == 2
    assert cached.read_bytes() != b"not a pickle"  # written again
