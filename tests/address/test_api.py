"""The address API over HTTP and the batch CLI the city uses for evaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the address domain keeps no tables


def test_normalize_one_address(client: TestClient) -> None:
    response = client.get("/api/address/normalize", params={"q": "三鷹市下連雀３丁目22の14 ２F"})
    assert response.status_code == 200
    body = response.json()
    assert body["town"] == "下連雀三丁目"
    assert body["addr"] == "22-14"
    assert body["other"] == "2F"
    assert body["level"] == 8
    assert body["ambiguous"] is False


def test_ambiguous_answers_list_candidates(client: TestClient) -> None:
    body = client.get("/api/address/normalize", params={"q": "野崎1-1-1"}).json()
    assert body["ambiguous"] is True
    assert "東京都三鷹市" in body["candidates"]
    chosen = client.get(
        "/api/address/normalize", params={"q": "野崎1-1-1", "prefer_city": "三鷹市"}
    ).json()
    assert chosen["city"] == "三鷹市"


def test_batch_keeps_the_order_and_survives_bad_lines(client: TestClient) -> None:
    lines = ["東京都三鷹市野崎1-1-1", "", "😀", "大阪府大阪市北区梅田3-1-1"]
    response = client.post("/api/address/normalize", json={"addresses": lines})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["input"] for r in results] == lines
    assert [r["level"] for r in results] == [8, 0, 0, 8]


def test_bad_requests_are_4xx_problems(client: TestClient) -> None:
    too_many = client.post("/api/address/normalize", json={"addresses": ["x"] * 10_001})
    assert too_many.status_code == 422
    assert too_many.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/address/normalize").status_code == 422
    assert (
        client.post("/api/address/normalize", json={"addresses": "not a list"}).status_code == 422
    )
    outside = client.get("/api/address/reverse", params={"lat": 51.5, "lon": -0.12})
    assert outside.status_code == 422
    assert "lat" in outside.json()["detail"]


def test_reverse_gives_the_town_at_a_point(client: TestClient) -> None:
    body = client.get("/api/address/reverse", params={"lat": 35.6835, "lon": 139.5538}).json()
    assert (body["city"], body["town"]) == ("三鷹市", "野崎一丁目")
    far = client.get("/api/address/reverse", params={"lat": 24.0, "lon": 150.0})
    assert far.status_code == 404


def test_cli_batch_writes_exactly_the_promised_fields(tmp_path: Path) -> None:
    source = tmp_path / "addresses.txt"
    source.write_text(
        "東京都三鷹市下連雀三丁目２２番１４号\n\nhello\n〒181-8555 三鷹市野崎1-1-1\n"
        + "x" * 10_000
        + "\n",
        encoding="utf-8",
    )
    output = tmp_path / "normalized.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cityos",
            "address",
            "normalize",
            "--input",
            str(source),
            "--output",
            str(output),
        ],
        env={**os.environ, "CITYOS_DATA_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    assert all(
        list(r) == ["input", "pref", "city", "town", "addr", "other", "level", "lat", "lon"]
        for r in rows
    )
    assert rows[0]["town"] == "下連雀三丁目"
    assert rows[0]["addr"] == "22-14"
    assert rows[1] == dict.fromkeys(rows[1]) | {"input": "", "level": 0}
    assert rows[2]["level"] == 0
    assert rows[3]["town"] == "野崎一丁目"
    assert rows[4]["level"] == 0
    assert "5 addresses" in done.stderr
