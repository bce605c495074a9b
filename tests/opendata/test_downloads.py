"""Downloads of tables: CSV for Excel (BOM / Shift_JIS), JSON, GeoJSON, DCAT-AP."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import DCAT, DCTERMS, RDF

from tests.conftest import DEMO_DATA, create_dataset, upload


@pytest.fixture
def sites(client: TestClient, auth_headers: dict[str, str]) -> dict[str, Any]:
    org = client.post(
        "/api/3/action/organization_create",
        json={"name": "bousai", "title": "防災課"},
        headers=auth_headers,
    )
    assert org.status_code == 200
    dataset = create_dataset(
        client, auth_headers, name="sites", title="指定緊急避難場所一覧", title_en="Evacuation sites",
        owner_org="bousai", tags=["避難場所"], schema="emergency_evacuation_sites", frequency="annual",
        temporal_start="令和8年4月1日", maintainer_email="bousai@example.jp",
    )  # fmt: skip
    response = upload(
        client,
        auth_headers,
        dataset["id"],
        DEMO_DATA / "gsi_emergency_evacuation_sites_132047_mitaka.geojson",
        filename="sites.geojson",
    )
    assert response.status_code == 200
    return {"dataset": dataset, "resource_id": response.json()["result"]["id"]}


def test_csv_download_opens_in_excel_with_the_bom(
    client: TestClient, sites: dict[str, Any]
) -> None:
    response = client.get(f"/datastore/dump/{sites['resource_id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["NO", "名称"]
    assert len(rows) == 81
    assert "filename*=UTF-8''" in response.headers["content-disposition"]


def test_shift_jis_csv_for_older_excel(client: TestClient, sites: dict[str, Any]) -> None:
    response = client.get(
        f"/datastore/dump/{sites['resource_id']}", params={"encoding": "shift_jis"}
    )
    text = response.content.decode("cp932")
    assert "井の頭コミュニティ・センター" in text
    assert not response.content.startswith(b"\xef\xbb\xbf")


def test_characters_outside_shift_jis_become_geta_marks(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, name="names")
    content = "名称\n𠮷野家\n髙島屋\n".encode()
    rid = upload(client, auth_headers, dataset["id"], content=content).json()["result"]["id"]
    sjis = client.get(f"/datastore/dump/{rid}", params={"encoding": "shift_jis"}).content.decode(
        "cp932"
    )
    assert "〓野家" in sjis  # 𠮷 is not in Shift_JIS
    assert "髙島屋" in sjis  # 髙 is in CP932
    utf8 = client.get(f"/datastore/dump/{rid}").content.decode("utf-8-sig")
    assert "𠮷野家" in utf8


def test_json_and_geojson_downloads(client: TestClient, sites: dict[str, Any]) -> None:
    records = client.get(
        f"/datastore/dump/{sites['resource_id']}", params={"format": "json"}
    ).json()
    assert len(records) == 80
    assert records[0]["_id"] == 1
    geo = client.get(f"/datastore/dump/{sites['resource_id']}", params={"format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 80
    first = collection["features"][0]
    assert first["geometry"]["type"] == "Point"
    lon, lat = first["geometry"]["coordinates"]
    assert 139.4 < lon < 139.7
    assert 35.6 < lat < 35.8
    assert "緯度" not in first["properties"]
    assert first["properties"]["名称"]


def test_geojson_of_a_table_without_coordinates_is_refused(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, name="counts")
    rid = upload(client, auth_headers, dataset["id"], content=b"a,b\n1,2\n").json()["result"]["id"]
    response = client.get(f"/datastore/dump/{rid}", params={"format": "geojson"})
    assert response.status_code == 422
    assert "座標" in response.text
    assert client.get(f"/datastore/dump/{rid}", params={"format": "xlsx"}).status_code == 422
    assert client.get("/datastore/dump/no-such-resource").status_code == 404


def test_dcat_catalog_parses_as_rdf_with_the_dataset_and_distributions(
    client: TestClient, sites: dict[str, Any]
) -> None:
    response = client.get("/catalog.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    graph = rdflib.Graph().parse(data=response.text, format="json-ld")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == [rdflib.URIRef("http://testserver/dataset/sites")]
    dataset = datasets[0]
    titles = {(str(t), t.language) for t in graph.objects(dataset, DCTERMS.title)}
    assert titles == {("指定緊急避難場所一覧", "ja"), ("Evacuation sites", "en")}
    assert (
        dataset,
        DCTERMS.accrualPeriodicity,
        rdflib.URIRef("http://publications.europa.eu/resource/authority/frequency/ANNUAL"),
    ) in graph
    assert (
        dataset,
        DCTERMS.license,
        rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/deed.ja"),
    ) in graph
    downloads = {
        str(u)
        for d in graph.objects(dataset, DCAT.distribution)
        for u in graph.objects(d, DCAT.downloadURL)
    }
    assert f"http://testserver/datastore/dump/{sites['resource_id']}?format=geojson" in downloads
    assert any(u.endswith("/download/sites.geojson") for u in downloads)
    publisher = next(graph.objects(dataset, DCTERMS.publisher))
    assert str(next(graph.objects(publisher, rdflib.FOAF.name))) == "防災課"
    period = next(graph.objects(dataset, DCTERMS.temporal))
    assert str(next(graph.objects(period, DCAT.startDate))) == "2026-04-01"
    conforms = next(graph.objects(dataset, DCTERMS.conformsTo))
    assert str(conforms).endswith("/standards/emergency_evacuation_sites")


def test_dcat_of_one_dataset(client: TestClient, sites: dict[str, Any]) -> None:
    body = client.get("/dataset/sites.jsonld").json()
    assert body["@type"] == "dcat:Dataset"
    assert body["dcat:contactPoint"]["vcard:hasEmail"] == {"@id": "mailto:bousai@example.jp"}
    assert json.dumps(body, ensure_ascii=False).count("dcat:Distribution") >= 4
