"""Acceptance: the real ckanapi package, as a client of the server running on loopback."""

from __future__ import annotations

import io

import ckanapi
import pytest

from tests.conftest import DEMO_DATA, LiveServer


def test_ckanapi_reads_and_writes_through_the_api(
    live_server: LiveServer, admin_token: str
) -> None:
    portal = ckanapi.RemoteCKAN(live_server.url, apikey=admin_token, user_agent="cityos-tests")
    org = portal.action.organization_create(
        name="bousai", title="防災課", title_en="Disaster Prevention"
    )
    group = portal.action.group_create(name="safety", title="防災・安全")
    created = portal.action.package_create(
        name="aed-locations",
        title="AED設置箇所一覧",
        title_en="AED locations",
        owner_org=org["id"],
        tags=[{"name": "AED"}, {"name": "救命"}],
        groups=[{"name": group["name"]}],
        schema="aed",
        notes="市の施設のAED",
    )
    assert created["name"] == "aed-locations"

    with (DEMO_DATA / "aed_132047_sample_sjis.csv").open("rb") as handle:
        resource = portal.action.resource_create(
            package_id=created["id"], name="AED一覧", format="CSV", upload=handle
        )
    assert resource["datastore_active"] is True
    assert resource["validation_report"]["encoding"] == "cp932"
    assert resource["validation_report"]["rows_valid"] == 30

    anonymous = ckanapi.RemoteCKAN(live_server.url, user_agent="cityos-tests")
    assert anonymous.action.package_list() == ["aed-locations"]
    shown = anonymous.action.package_show(id="aed-locations")
    assert shown["organization"]["title"] == "防災課"
    assert shown["resources"][0]["url"].endswith("/download/aed_132047_sample_sjis.csv")
    search = anonymous.action.package_search(q="AED", **{"facet.field": '["tags"]'})
    assert search["count"] == 1
    assert search["facets"]["tags"] == {"AED": 1, "救命": 1}

    rows = anonymous.action.datastore_search(resource_id=resource["id"], q="公会堂", limit=5)
    assert rows["total"] >= 1
    assert all("公会堂" in r["名称"] for r in rows["records"])
    sql = anonymous.action.datastore_search_sql(sql=f'SELECT COUNT(*) AS n FROM "{resource["id"]}"')
    assert sql["records"] == [{"n": 30}]

    table = portal.action.datastore_create(
        resource={"package_id": created["id"], "name": "点検記録"},
        fields=[{"id": "施設", "type": "text"}, {"id": "点検日", "type": "date"}],
        primary_key=["施設"],
        records=[{"施設": "三鷹市役所", "点検日": "令和8年4月1日"}],
    )
    portal.action.datastore_upsert(
        resource_id=table["resource_id"], records=[{"施設": "三鷹市役所", "点検日": "2026-10-01"}]
    )
    checks = anonymous.action.datastore_search(resource_id=table["resource_id"])
    assert checks["records"] == [{"_id": 1, "施設": "三鷹市役所", "点検日": "2026-10-01"}]

    updated = portal.action.package_patch(id="aed-locations", notes="更新しました")
    assert updated["notes"] == "更新しました"
    portal.action.package_delete(id="aed-locations")
    assert anonymous.action.package_list() == []


def test_ckanapi_gets_ckan_exceptions(live_server: LiveServer, admin_token: str) -> None:
    anonymous = ckanapi.RemoteCKAN(live_server.url, user_agent="cityos-tests")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(name="nope", title="x")
    portal = ckanapi.RemoteCKAN(live_server.url, apikey=admin_token, user_agent="cityos-tests")
    with pytest.raises(ckanapi.ValidationError) as invalid:
        portal.action.package_create(name="Bad Name", title="")
    assert "name" in invalid.value.error_dict
    assert "title" in invalid.value.error_dict
    with pytest.raises(ckanapi.SearchQueryError):
        anonymous.action.package_search(sort="colour desc")
    dataset = portal.action.package_create(name="broken-upload", title="壊れたファイル")
    with pytest.raises(ckanapi.ValidationError) as broken:
        portal.action.resource_create(
            package_id=dataset["id"], upload=("empty.csv", io.BytesIO(b""))
        )
    assert "空" in broken.value.error_dict["message"]
