"""``cityos mobility route`` and ``cityos mobility info`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cityos.mobility.cli import app
from cityos.mobility.loaders import sample_network_path
from cityos.mobility.network import PedestrianNetwork
from tests.mobility.conftest import MLIT_LINKS, node_pairs

runner = CliRunner()


def test_info_describes_the_shipped_network() -> None:
    result = runner.invoke(app, ["info", "--network", str(sample_network_path().parent)])
    assert result.exit_code == 0, result.output
    assert "format: opensidewalks" in result.output
    assert "nodes: 3695" in result.output
    assert "steps_edges: 112" in result.output
    assert "ODbL" in result.output
    as_json = runner.invoke(app, ["info", "--network", str(MLIT_LINKS), "--json"])
    assert json.loads(as_json.stdout)["format"] == "mlit"


def test_route_prints_distance_time_and_path(redmond: PedestrianNetwork) -> None:
    a, b = node_pairs(redmond, 1, 600, 900, seed=9)[0]
    (lat1, lon1), (lat2, lon2) = redmond.node_point(a), redmond.node_point(b)
    network = str(sample_network_path())
    args = ["route", "--network", network, "--from", f"{lat1},{lon1}", "--to", f"{lat2},{lon2}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "via the pedestrian network" in result.output
    assert " m, " in result.output
    assert "min" in result.output
    assert "path: " in result.output

    plain = json.loads(runner.invoke(app, [*args, "--json"]).stdout)[0]
    mid_lat, mid_lon = plain["path"][len(plain["path"]) // 2]
    avoided = json.loads(
        runner.invoke(app, [*args, "--json", "--avoid", f"{mid_lat},{mid_lon},30"]).stdout
    )[0]
    assert avoided["distance_m"] >= plain["distance_m"]
    level = json.loads(runner.invoke(app, [*args, "--json", "--step-free"]).stdout)[0]
    assert level["walking_minutes"] > plain["walking_minutes"]  # 3 km/h instead of 4


def test_route_without_a_network_says_it_is_a_straight_line() -> None:
    result = runner.invoke(app, ["route", "--from", "35.7027,139.5608", "--to", "35.7031,139.5798"])
    assert result.exit_code == 0, result.output
    assert "STRAIGHT LINE" in result.output
    assert "直線距離" in result.output


def test_bad_files_and_points_are_refused_clearly(tmp_path: Path) -> None:
    not_geojson = tmp_path / "network.geojson"
    not_geojson.write_text("<html>", encoding="utf-8")
    result = runner.invoke(app, ["info", "--network", str(not_geojson)])
    assert result.exit_code == 1
    assert "is not GeoJSON" in result.output
    assert "ではありません" in result.output
    swapped = runner.invoke(app, ["route", "--from", "139.56,35.70", "--to", "35.70,139.57"])
    assert swapped.exit_code == 1
    assert "latitude" in swapped.output
    malformed = runner.invoke(app, ["route", "--from", "35.70", "--to", "35.70,139.57"])
    assert malformed.exit_code == 2
    nothing = runner.invoke(app, ["info"])
    assert nothing.exit_code == 1
    assert "CITYOS_PEDESTRIAN_NETWORK" in nothing.output
