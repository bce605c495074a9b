"""The CKAN Action API: envelope, catalog reads, search, DataStore, writes and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database
from tests.conftest import DEMO_DATA, create_dataset, upload


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["help"].endswith(
        "/api/3/action/help_show?name=" + response.url.path.rsplit("/", 1)[-1]
    )
    return body["result"]


def error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["__type"] == error_type
    result: dict[str, Any] = body["error"]
    return result


@pytest.fixture
def catalog(client: TestClient, auth_headers: dict[str, str]) -> dict[str, Any]:
    """Two organizations, a group, and three datasets with tables."""
    for name, title in (("bousai", "防災課"), ("kenko", "健康推進課")):
        ok(
            client.post(
                "/api/3/action/organization_create",
                json={"name": name, "title": title, "title_en": name},
                headers=auth_headers,
            )
        )
    ok(
        client.post(
            "/api/3/action/group_create",
            json={"name": "safety", "title": "防災・安全"},
            headers=auth_headers,
        )
    )
    shelters = create_dataset(
        client, auth_headers, name="shelters", title="指定緊急避難場所一覧", title_en="Evacuation sites",
        owner_org="bousai", tags=["避難場所", "防災"], groups=[{"name": "safety"}], schema="emergency_evacuation_sites",
        notes="災害時に緊急的に避難する場所",
    )  # fmt: skip
    sites = upload(
        client, auth_headers, shelters["id"], DEMO_DATA / "shelters_recommended_132047_sample.csv"
    )
    aed = create_dataset(
        client,
        auth_headers,
        name="aed",
        title="AED設置箇所一覧",
        owner_org="kenko",
        tags=["AED", "防災"],
        schema="aed",
    )
    aed_resource = upload(client, auth_headers, aed["id"], DEMO_DATA / "aed_132047_sample_sjis.csv")
    population = create_dataset(
        client,
        auth_headers,
        name="population",
        title="地域・年齢別人口",
        owner_org="kenko",
        tags=["人口"],
        schema="population",
    )
    pop = upload(client, auth_headers, population["id"], DEMO_DATA / "population_132047_sample.csv")
    return {
        "shelters": shelters,
        "sites_resource": sites.json()["result"]["id"],
        "aed_resource": aed_resource.json()["result"]["id"],
        "population_resource": pop.json()["result"]["id"],
    }


def test_status_show_and_unknown_action(client: TestClient) -> None:
    status = ok(client.get("/api/3/action/status_show"))
    assert "datastore" in status["extensions"]
    body = error(client.get("/api/3/action/no_such_action"), 400, "Bad request")
    assert "no_such_action" in body["message"]


def test_get_and_post_with_json_body_give_the_same_answer(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    by_get = ok(client.get("/api/3/action/package_show", params={"id": "shelters"}))
    by_post = ok(client.post("/api/action/package_show", json={"id": "shelters"}))
    assert by_get == by_post
    assert by_get["title_translated"] == {"ja": "指定緊急避難場所一覧", "en": "Evacuation sites"}
    assert by_get["organization"]["name"] == "bousai"
    assert [t["name"] for t in by_get["tags"]] == sorted(["防災", "避難場所"])
    assert by_get["resources"][0]["datastore_active"] is True
    assert by_get["license_id"] == "CC-BY-4.0"


def test_package_list_and_organization_list(client: TestClient, catalog: dict[str, Any]) -> None:
    assert ok(client.get("/api/3/action/package_list")) == ["aed", "population", "shelters"]
    assert ok(client.get("/api/3/action/package_list", params={"limit": 1, "offset": 1})) == [
        "population"
    ]
    orgs = ok(client.get("/api/3/action/organization_list", params={"all_fields": "true"}))
    counts = {o["name"]: o["package_count"] for o in orgs}
    assert counts == {"bousai": 1, "kenko": 2}
    org = ok(
        client.get(
            "/api/3/action/organization_show", params={"id": "kenko", "include_datasets": "true"}
        )
    )
    assert sorted(p["name"] for p in org["packages"]) == ["aed", "population"]
    assert ok(client.get("/api/3/action/group_list")) == ["safety"]
    assert ok(client.get("/api/3/action/tag_list")) == sorted(["AED", "人口", "防災", "避難場所"])


def test_package_search_japanese_text_filters_and_facets(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    found = ok(client.get("/api/3/action/package_search", params={"q": "避難"}))
    assert [p["name"] for p in found["results"]] == ["shelters"]
    # Full-width and half-width, katakana and case all match.
    assert ok(client.get("/api/3/action/package_search", params={"q": "ａｅｄ"}))["count"] == 1
    by_tag = ok(
        client.get(
            "/api/3/action/package_search",
            params={"fq": 'tags:"防災"', "facet.field": '["organization","res_format"]'},
        )
    )
    assert by_tag["count"] == 2
    assert by_tag["facets"]["organization"] == {"bousai": 1, "kenko": 1}
    assert by_tag["search_facets"]["res_format"]["items"] == [
        {"name": "CSV", "display_name": "CSV", "count": 2}
    ]
    by_org = ok(
        client.get(
            "/api/3/action/package_search", params={"fq": "organization:kenko", "sort": "name asc"}
        )
    )
    assert [p["name"] for p in by_org["results"]] == ["aed", "population"]
    excluded = ok(client.get("/api/3/action/package_search", params={"q": "-organization:kenko"}))
    assert [p["name"] for p in excluded["results"]] == ["shelters"]
    paged = ok(
        client.get(
            "/api/3/action/package_search", params={"rows": 1, "start": 1, "sort": "name asc"}
        )
    )
    assert paged["count"] == 3
    assert [p["name"] for p in paged["results"]] == ["population"]
    schema = ok(client.get("/api/3/action/package_search", params={"fq": "schema:aed"}))
    assert [p["name"] for p in schema["results"]] == ["aed"]


def test_package_search_rejects_bad_parameters_as_ckan_does(client: TestClient) -> None:
    error(
        client.get("/api/3/action/package_search", params={"sort": "nonsense desc"}),
        409,
        "Search Query Error",
    )
    error(
        client.get("/api/3/action/package_search", params={"fq": "color:red"}),
        409,
        "Search Query Error",
    )
    body = error(
        client.get("/api/3/action/package_search", params={"rows": "many"}), 409, "Validation Error"
    )
    assert body["rows"] == ["Invalid integer"]
    error(
        client.get("/api/3/action/package_search", params={"rows": "5000"}), 409, "Validation Error"
    )
    error(
        client.get("/api/3/action/package_search", params={"facet.field": "[broken"}),
        409,
        "Validation Error",
    )


def test_unknown_ids_are_not_found_errors(client: TestClient) -> None:
    error(client.get("/api/3/action/package_show", params={"id": "nope"}), 404, "Not Found Error")
    error(client.get("/api/3/action/resource_show", params={"id": "nope"}), 404, "Not Found Error")
    error(
        client.get("/api/3/action/organization_show", params={"id": "nope"}), 404, "Not Found Error"
    )
    error(
        client.get("/api/3/action/datastore_search", params={"resource_id": "nope"}),
        404,
        "Not Found Error",
    )
    body = error(client.get("/api/3/action/package_show"), 409, "Validation Error")
    assert body["id"] == ["Missing value"]


def test_datastore_search_filters_q_fields_sort_limit_offset_total(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    rid = catalog["sites_resource"]
    everything = ok(
        client.get("/api/3/action/datastore_search", params={"resource_id": rid, "limit": 5})
    )
    assert everything["total"] == 80
    assert len(everything["records"]) == 5
    assert everything["fields"][0] == {"id": "_id", "type": "int"}
    assert {"id": "緯度", "type": "numeric", "info": {"kind": "latitude"}} in everything["fields"]
    flood = ok(client.post("/api/3/action/datastore_search", json={
        "resource_id": rid, "filters": {"災害種別_洪水": "1"}, "fields": ["名称", "住所"], "sort": "名称 asc", "limit": 3,
    }))  # fmt: skip
    assert list(flood["records"][0]) == ["名称", "住所"]
    names = [r["名称"] for r in flood["records"]]
    assert names == sorted(names)
    assert 0 < flood["total"] < 80
    page_two = ok(client.get("/api/3/action/datastore_search", params={
        "resource_id": rid, "filters": json.dumps({"災害種別_洪水": "1"}), "sort": "名称 asc", "limit": 3, "offset": 3, "fields": "名称",
    }))  # fmt: skip
    assert [r["名称"] for r in page_two["records"]] != names
    assert page_two["total"] == flood["total"]
    # q searches all text, Japanese substrings, ignoring width: 「コミュニティ」 in full or half width.
    community = ok(
        client.get("/api/3/action/datastore_search", params={"resource_id": rid, "q": "ｺﾐｭﾆﾃｨ"})
    )
    assert community["total"] >= 7
    assert all("コミュニティ" in r["名称"] for r in community["records"])
    both = ok(
        client.get(
            "/api/3/action/datastore_search", params={"resource_id": rid, "q": "井の頭 小学校"}
        )
    )
    assert all("井の頭" in r["住所"] and "小学校" in r["名称"] for r in both["records"])
    by_field = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "q": json.dumps({"名称": "中学校"})},
        )
    )
    assert by_field["total"] > 0
    assert all("中学校" in r["名称"] for r in by_field["records"])
    lists = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={
                "resource_id": rid,
                "records_format": "lists",
                "limit": 1,
                "fields": "_id,名称",
            },
        )
    )
    assert lists["records"] == [[1, everything["records"][0]["名称"]]]
    no_total = ok(
        client.get(
            "/api/3/action/datastore_search", params={"resource_id": rid, "include_total": "false"}
        )
    )
    assert "total" not in no_total


def test_datastore_search_typed_filters_and_distinct(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    rid = catalog["population_resource"]
    rows = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={
                "resource_id": rid,
                "filters": json.dumps({"地域名": ["井口一丁目", "牟礼一丁目"]}),
            },
        )
    )
    assert {r["地域名"] for r in rows["records"]} == {"井口一丁目", "牟礼一丁目"}
    assert all(isinstance(r["総人口"], int) for r in rows["records"])
    assert rows["records"][0]["調査年月日"] == "2026-01-01"
    by_date = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "filters": json.dumps({"調査年月日": "2026-01-01"})},
        )
    )
    assert by_date["total"] == 62
    distinct = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "fields": "調査年月日", "distinct": "true"},
        )
    )
    assert distinct["records"] == [{"調査年月日": "2026-01-01"}]
    assert distinct["total"] == 1
    largest = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "sort": "総人口 desc", "limit": 1},
        )
    )
    smallest = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "sort": "総人口 asc", "limit": 1},
        )
    )
    assert largest["records"][0]["総人口"] >= smallest["records"][0]["総人口"]


def test_datastore_search_bad_parameters_are_validation_errors(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    rid = catalog["population_resource"]
    cases = [
        {"filters": json.dumps({"no_column": 1})},
        {"filters": json.dumps({"総人口": "many"})},
        {"filters": "{broken"},
        {"filters": "[1, 2]"},
        {"sort": "総人口 sideways"},
        {"sort": "missing asc"},
        {"fields": "missing"},
        {"limit": "-1"},
        {"limit": "100000"},
        {"offset": "x"},
        {"records_format": "xml"},
        {"q": json.dumps({"missing": "x"})},
    ]
    for params in cases:
        response = client.get(
            "/api/3/action/datastore_search", params={"resource_id": rid, **params}
        )
        error(response, 409, "Validation Error")


def test_datastore_search_sql_reads_and_refuses_writes(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    rid = catalog["population_resource"]
    result = ok(
        client.get(
            "/api/3/action/datastore_search_sql",
            params={"sql": f'SELECT COUNT(*) AS n, SUM("総人口") AS people FROM "{rid}"'},
        )
    )
    assert result["records"][0]["n"] == 62
    assert result["records"][0]["people"] == 190218
    joined = ok(client.post("/api/3/action/datastore_search_sql", json={
        "sql": f'SELECT "地域名" FROM "{rid}" WHERE "地域名" LIKE \'%牟礼%\' ORDER BY "地域名"'
    }))  # fmt: skip
    assert [r["地域名"] for r in joined["records"]][:2] == ["牟礼一丁目", "牟礼七丁目"] or len(
        joined["records"]
    ) == 7
    for sql in (
        f'DELETE FROM "{rid}"',
        f'UPDATE "{rid}" SET "総人口" = 0',
        f'SELECT 1; DELETE FROM "{rid}"',
        "DROP TABLE users",
        "SELECT * FROM users",
        "SELECT password_hash FROM users",
        "WITH x AS (SELECT * FROM api_tokens) SELECT * FROM x",
        "SELECT set_config('role', 'cityos', false)",
        "",
    ):
        body = error(
            client.get("/api/3/action/datastore_search_sql", params={"sql": sql}),
            409,
            "Validation Error",
        )
        assert body["message"]
    count = ok(
        client.get("/api/3/action/datastore_search", params={"resource_id": rid, "limit": 0})
    )
    assert count["total"] == 62


def test_datastore_search_sql_stops_long_queries(
    client: TestClient, catalog: dict[str, Any]
) -> None:
    rid = catalog["population_resource"]
    slow = (
        f'SELECT COUNT(*) FROM "{rid}" a, "{rid}" b, "{rid}" c, "{rid}" d, "{rid}" e '
        f'WHERE a."総人口" + b."総人口" + c."総人口" + d."総人口" + e."総人口" > 0'
    )
    body = error(
        client.get("/api/3/action/datastore_search_sql", params={"sql": slow}),
        409,
        "Validation Error",
    )
    assert body["query"] == ["Query took too long"]


def test_private_datasets_are_hidden_from_anonymous_clients(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    secret = create_dataset(client, auth_headers, name="internal", private=True)
    rid = upload(client, auth_headers, secret["id"], content=b"a,b\n1,2\n").json()["result"]["id"]
    error(
        client.get("/api/3/action/package_show", params={"id": "internal"}), 404, "Not Found Error"
    )
    assert ok(client.get("/api/3/action/package_list")) == []
    error(
        client.get("/api/3/action/datastore_search", params={"resource_id": rid}),
        404,
        "Not Found Error",
    )
    error(
        client.get("/api/3/action/datastore_search_sql", params={"sql": f'SELECT * FROM "{rid}"'}),
        409,
        "Validation Error",
    )
    assert (
        ok(
            client.get(
                "/api/3/action/package_show", params={"id": "internal"}, headers=auth_headers
            )
        )["private"]
        is True
    )


def test_writes_need_a_token_of_a_staff_member(
    client: TestClient, db: Database, admin: User
) -> None:
    error(
        client.post("/api/3/action/package_create", json={"name": "x-data", "title": "x"}),
        403,
        "Authorization Error",
    )
    error(
        client.post(
            "/api/3/action/package_create",
            json={"name": "x-data", "title": "x"},
            headers={"Authorization": "cityos_wrong"},
        ),
        403,
        "Authorization Error",
    )
    with db.session() as session:
        analyst = auth.create_user(session, "analyst1", "analyst", "a-long-password")
        token = auth.issue_token(session, analyst)
    body = error(
        client.post(
            "/api/3/action/package_create",
            json={"name": "x-data", "title": "x"},
            headers={"Authorization": token},
        ),
        403,
        "Authorization Error",
    )
    assert "analyst1" in body["message"]
    assert ok(client.get("/api/3/action/package_list")) == []


def test_package_create_validates_everything_at_once(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    body = error(client.post("/api/3/action/package_create", json={
        "name": "Bad Name!", "license_id": "nope", "owner_org": "ghost", "schema": "unknown", "temporal_start": "someday",
    }, headers=auth_headers), 409, "Validation Error")  # fmt: skip
    assert {"name", "title", "license_id", "owner_org", "schema", "temporal_start"} <= set(body)
    create_dataset(client, auth_headers, name="taken")
    body = error(
        client.post(
            "/api/3/action/package_create",
            json={"name": "taken", "title": "x"},
            headers=auth_headers,
        ),
        409,
        "Validation Error",
    )
    assert "already in use" in body["name"][0]
    error(
        client.post(
            "/api/3/action/package_create",
            content=b"{not json",
            headers={**auth_headers, "Content-Type": "application/json"},
        ),
        400,
        "Bad request",
    )


def test_update_patch_delete(client: TestClient, auth_headers: dict[str, str]) -> None:
    created = create_dataset(
        client, auth_headers, name="park-data", title="公園", tags=["公園"], notes="古い説明"
    )
    patched = ok(
        client.post(
            "/api/3/action/package_patch",
            json={"id": "park-data", "notes": "新しい説明"},
            headers=auth_headers,
        )
    )
    assert patched["notes"] == "新しい説明"
    assert patched["title"] == "公園"
    assert patched["tags"][0]["name"] == "公園"
    updated = ok(
        client.post(
            "/api/3/action/package_update",
            json={"id": created["id"], "title": "公園一覧"},
            headers=auth_headers,
        )
    )
    assert updated["title"] == "公園一覧"
    assert updated["notes"] == ""
    assert updated["tags"] == []
    ok(client.post("/api/3/action/package_delete", json={"id": "park-data"}, headers=auth_headers))
    error(
        client.get("/api/3/action/package_show", params={"id": "park-data"}), 404, "Not Found Error"
    )
    assert (
        ok(
            client.get(
                "/api/3/action/package_show", params={"id": "park-data"}, headers=auth_headers
            )
        )["state"]
        == "deleted"
    )


def test_datastore_create_upsert_and_delete(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, name="counts")
    created = ok(client.post("/api/3/action/datastore_create", json={
        "resource": {"package_id": dataset["id"], "name": "来館者数"},
        "fields": [{"id": "施設", "type": "text"}, {"id": "日付", "type": "date"}, {"id": "人数", "type": "int"}],
        "primary_key": ["施設", "日付"],
        "records": [{"施設": "図書館", "日付": "2026-11-01", "人数": 120}, {"施設": "美術館", "日付": "2026-11-01", "人数": 40}],
    }, headers=auth_headers))  # fmt: skip
    rid = created["resource_id"]
    assert created["primary_key"] == ["施設", "日付"]
    ok(client.post("/api/3/action/datastore_upsert", json={
        "resource_id": rid, "records": [{"施設": "図書館", "日付": "2026-11-01", "人数": 130}, {"施設": "図書館", "日付": "2026-11-02", "人数": 90}],
    }, headers=auth_headers))  # fmt: skip
    rows = ok(
        client.get(
            "/api/3/action/datastore_search",
            params={"resource_id": rid, "sort": "施設 asc, 日付 asc"},
        )
    )
    assert [(r["施設"], r["日付"], r["人数"]) for r in rows["records"]] == [
        ("図書館", "2026-11-01", 130), ("図書館", "2026-11-02", 90), ("美術館", "2026-11-01", 40),
    ]  # fmt: skip
    bad = error(client.post("/api/3/action/datastore_upsert", json={
        "resource_id": rid, "records": [{"施設": "公園", "日付": "2026-11-03", "人数": 5}, {"施設": "公園", "日付": "not a date", "人数": "x"}],
    }, headers=auth_headers), 409, "Validation Error")  # fmt: skip
    assert len(bad["records"]) == 2
    assert (
        ok(client.get("/api/3/action/datastore_search", params={"resource_id": rid}))["total"] == 3
    )  # all or nothing
    deleted = ok(
        client.post(
            "/api/3/action/datastore_delete",
            json={"resource_id": rid, "filters": {"施設": "美術館"}},
            headers=auth_headers,
        )
    )
    assert deleted["deleted"] == 1
    info = ok(client.get("/api/3/action/datastore_info", params={"id": rid}))
    assert info["meta"]["count"] == 2


def test_html_in_metadata_is_stored_as_text_and_escaped_on_pages(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create_dataset(
        client,
        auth_headers,
        name="xss",
        title='<script>alert("x")</script>',
        notes="<img src=x onerror=alert(1)>",
    )
    shown = ok(client.get("/api/3/action/package_show", params={"id": "xss"}))
    assert shown["title"] == '<script>alert("x")</script>'
    for path in ("/dataset/xss", "/dataset", "/"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert" in page.text
        assert "<img src=x" not in page.text


def test_resource_delete_removes_the_table_and_the_link(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, name="two-files")
    first = upload(
        client, auth_headers, dataset["id"], content=b"a,b\n1,2\n", filename="one.csv"
    ).json()["result"]["id"]
    second = upload(
        client, auth_headers, dataset["id"], content=b"a,b\n3,4\n", filename="two.csv"
    ).json()["result"]["id"]
    ok(client.post("/api/3/action/resource_delete", json={"id": first}, headers=auth_headers))
    shown = ok(client.get("/api/3/action/package_show", params={"id": "two-files"}))
    assert [r["id"] for r in shown["resources"]] == [second]
    error(client.get("/api/3/action/resource_show", params={"id": first}), 404, "Not Found Error")
    error(
        client.get("/api/3/action/datastore_search", params={"resource_id": first}),
        404,
        "Not Found Error",
    )
    assert (
        ok(client.get("/api/3/action/datastore_search", params={"resource_id": second}))["total"]
        == 1
    )
