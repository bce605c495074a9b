"""Uploading tables: encodings, validation against the standard, drift, bad files, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DEMO_DATA, create_dataset, upload

BAD = DEMO_DATA / "bad"
AED_HEADER = (
    "都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,住所,方書,緯度,経度,"
    "設置位置,電話番号,内線番号,法人番号,団体名,利用可能曜日,開始時間,終了時間,"
    "利用可能日時特記事項,小児対応設備の有無,URL,備考"
)


def aed_row(number: int, **changes: str) -> str:
    values = {
        "code": "132047", "no": str(number), "name": f"三鷹市役所{number}", "lat": "35.6834",
        "lon": "139.5596", "phone": "0422-45-1151", "url": "https://www.city.mitaka.lg.jp/",
        "start": "08:30", "end": "17:15",
    }  # fmt: skip
    values.update(changes)
    return (
        f"{values['code']},{values['no']},東京都,三鷹市,{values['name']},,東京都三鷹市野崎一丁目1番1号,,"
        f"{values['lat']},{values['lon']},1階,{values['phone']},,,三鷹市,月火水木金,"
        f"{values['start']},{values['end']},,有,{values['url']},"
    )


def aed_csv(rows: list[str]) -> str:
    return "\n".join([AED_HEADER, *rows]) + "\n"


def report_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()["result"]["validation_report"]
    return report


def search(client: TestClient, resource_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/api/3/action/datastore_search", params={"resource_id": resource_id, **params}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def test_shift_jis_file_is_detected_and_every_row_loads(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    response = upload(client, auth_headers, dataset["id"], DEMO_DATA / "aed_132047_sample_sjis.csv")
    report = report_of(response)
    assert report["encoding"] == "cp932"
    assert report["rows_valid"] == 30
    assert report["rows_invalid"] == 0
    records = search(client, response.json()["result"]["id"], limit=1)["records"]
    assert records[0]["名称"] == "三鷹市役所"
    assert records[0]["緯度"] == 35.68346


def test_utf8_with_bom_and_plain_utf8_read_the_same(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    text = aed_csv([aed_row(1), aed_row(2)])
    with_bom = report_of(
        upload(client, auth_headers, dataset["id"], content=b"\xef\xbb\xbf" + text.encode())
    )
    plain = report_of(
        upload(client, auth_headers, dataset["id"], content=text.encode(), filename="b.csv")
    )
    assert with_bom["encoding"] == "utf-8-sig"
    assert plain["encoding"] == "utf-8"
    assert with_bom["columns"][0]["name"] == "都道府県コード又は市区町村コード"
    assert with_bom["rows_valid"] == plain["rows_valid"] == 2


def test_invalid_rows_are_reported_by_line_and_valid_rows_kept(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    response = upload(client, auth_headers, dataset["id"], BAD / "invalid_values.csv")
    report = report_of(response)
    assert report["rows_read"] == 12
    assert report["rows_valid"] == 8
    assert report["rows_invalid"] == 4
    by_line = {p["line"]: p for p in report["problems"]}
    # Data row N is on line N + 1 (the header is line 1).
    assert by_line[4]["column"] == "緯度"
    assert "緯度" in by_line[4]["message"]
    assert by_line[6]["column"] == "電話番号"
    assert by_line[9]["column"] == "URL"
    assert by_line[12]["column"] == "都道府県コード又は市区町村コード"
    assert "検査数字" in by_line[12]["message"]
    total = search(client, response.json()["result"]["id"])["total"]
    assert total == 8


def test_ragged_rows_are_reported_and_the_rest_loaded(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    report = report_of(upload(client, auth_headers, dataset["id"], BAD / "ragged.csv"))
    assert report["rows_invalid"] == 2
    assert {p["line"] for p in report["problems"]} == {5, 8}
    assert all("列の数" in p["message"] for p in report["problems"])
    assert report["rows_valid"] == 8


def test_japanese_era_dates_and_times_are_standardized(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="events")
    response = upload(client, auth_headers, dataset["id"], DEMO_DATA / "events_132047_sample.csv")
    report = report_of(response)
    assert report["rows_invalid"] == 0
    records = search(client, response.json()["result"]["id"], limit=100)["records"]
    by_name = {r["イベント名"]: r for r in records}
    # 令和8年12月5日 in the file becomes an ISO date in the table.
    assert by_name["太宰治ゆかりの地まち歩き"]["開始日"] == "2026-12-05"
    assert all(r["開始日"][:2] == "20" for r in records)
    assert by_name["冬の星空観察会"]["開始時間"].startswith("18:00")


def test_old_and_official_layouts_are_both_accepted_and_drift_reported(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    report = report_of(upload(client, auth_headers, dataset["id"], BAD / "official_drift.csv"))
    assert report["rows_valid"] == 5
    drift = report["drift"]
    # The header is mostly 正式版 (common prefix, 所在地_連結表記), so it is compared with that.
    assert drift["layout"] == "official"
    assert "内線番号" in drift["missing"]
    assert "管理者メモ" in drift["extra"]
    assert {"from": "方書", "to": "建物名等(方書)"} in drift["renamed"]
    assert any("管理者メモ" in w for w in report["warnings"])
    kinds = {c["name"]: c["kind"] for c in report["columns"]}
    assert kinds["全国地方公共団体コード"] == "lg_code"
    assert kinds["所在地_連結表記"] == "text"
    assert kinds["管理者メモ"] == "text"


def test_official_layout_file_matches_without_drift(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="public_toilets")
    report = report_of(
        upload(
            client,
            auth_headers,
            dataset["id"],
            DEMO_DATA / "ods_public_toilet_132039_musashino.csv",
        )
    )
    assert report["drift"] == {"layout": "official", "missing": [], "extra": [], "renamed": []}
    assert report["rows_valid"] == 4


def test_gsi_shelter_geojson_becomes_the_shelter_schema(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers)
    response = upload(
        client,
        auth_headers,
        dataset["id"],
        DEMO_DATA / "gsi_emergency_evacuation_sites_132047_mitaka.geojson",
        filename="sites.geojson",
    )
    report = report_of(response)
    assert report["source_format"] == "gsi-geojson"
    assert report["schema"] == "emergency_evacuation_sites"
    assert report["rows_valid"] == 80
    shown = client.get("/api/3/action/package_show", params={"id": dataset["id"]}).json()["result"]
    assert shown["schema"] == "emergency_evacuation_sites"
    found = search(
        client, response.json()["result"]["id"], filters='{"名称": "井の頭コミュニティ・センター"}'
    )
    record = found["records"][0]
    assert record["災害種別_洪水"] == "1"
    assert record["災害種別_地震"] is None
    assert record["市区町村コード"] == "132047"
    assert record["経度"] == 139.583483


def test_untyped_csv_gets_inferred_types(client: TestClient, auth_headers: dict[str, str]) -> None:
    dataset = create_dataset(client, auth_headers)
    content = "地区,人数,割合,調査日,郵便番号\n井口,120,0.5,2026-01-01,0180001\n牟礼,95,1.25,2026/02/01,1810002\n"
    response = upload(client, auth_headers, dataset["id"], content=content.encode())
    types = {c["name"]: c["type"] for c in report_of(response)["columns"]}
    assert types == {
        "地区": "text",
        "人数": "int",
        "割合": "numeric",
        "調査日": "date",
        "郵便番号": "text",
    }
    records = search(client, response.json()["result"]["id"], sort="人数 desc")["records"]
    assert [r["人数"] for r in records] == [120, 95]
    assert records[0]["郵便番号"] == "0180001"  # leading zero kept


def bad_upload(
    client: TestClient, headers: dict[str, str], path: Path | None = None, **kwargs: Any
) -> dict[str, Any]:
    dataset = create_dataset(client, headers, schema="aed")
    response = upload(client, headers, dataset["id"], path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    # Nothing half-written: the dataset has no resource left behind.
    shown = client.get(
        "/api/3/action/package_show", params={"id": dataset["id"]}, headers=headers
    ).json()
    assert shown["result"]["resources"] == []
    return body["error"]


def test_empty_file_is_refused(client: TestClient, auth_headers: dict[str, str]) -> None:
    error = bad_upload(client, auth_headers, BAD / "empty.csv")
    assert "空" in error["message"]
    assert "empty" in error["message"]


def test_header_only_file_is_refused(client: TestClient, auth_headers: dict[str, str]) -> None:
    error = bad_upload(client, auth_headers, BAD / "header_only.csv")
    assert "header" in error["message"]


def test_binary_file_named_csv_is_refused(client: TestClient, auth_headers: dict[str, str]) -> None:
    error = bad_upload(client, auth_headers, BAD / "binary.csv")
    assert "CSV" in error["message"]


def test_mixed_encodings_name_the_line(client: TestClient, auth_headers: dict[str, str]) -> None:
    error = bad_upload(client, auth_headers, BAD / "mixed_encoding.csv")
    assert "6" in error["message"]


def test_excel_file_is_refused_with_advice(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    error = bad_upload(
        client, auth_headers, content=b"PK\x03\x04" + b"\x00" * 100, filename="book.csv"
    )
    assert "Excel" in error["message"]


def test_file_with_no_valid_row_writes_nothing(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    content = aed_csv([aed_row(1, lat="99"), aed_row(2, phone="x")]).encode()
    error = bad_upload(client, auth_headers, content=content)
    assert error["validation_report"]["rows_invalid"] == 2


def test_upload_past_the_limit_is_413(client: TestClient, auth_headers: dict[str, str]) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    big = b"a,b\n" + b"1,2\n" * (6 * 1024 * 1024 // 4)
    response = upload(client, auth_headers, dataset["id"], content=big)
    assert response.status_code == 413
    assert response.json()["error"]["__type"] == "Bad request"
    shown = client.get("/api/3/action/package_show", params={"id": dataset["id"]}).json()
    assert shown["result"]["resources"] == []


def test_replace_and_append_make_versions_and_old_files_stay_downloadable(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    first = aed_csv([aed_row(1), aed_row(2)]).encode()
    response = upload(client, auth_headers, dataset["id"], content=first, filename="v1.csv")
    resource_id = response.json()["result"]["id"]
    second = aed_csv([aed_row(3)]).encode()
    appended = client.post(
        "/api/3/action/resource_update",
        data={"id": resource_id, "upload_mode": "append"},
        files={"upload": ("v2.csv", second, "text/csv")},
        headers=auth_headers,
    )
    assert appended.status_code == 200, appended.text
    assert search(client, resource_id)["total"] == 3
    replaced = client.post(
        "/api/3/action/resource_update",
        data={"id": resource_id, "upload_mode": "replace"},
        files={"upload": ("v3.csv", second, "text/csv")},
        headers=auth_headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["result"]["version"] == 3
    assert search(client, resource_id)["total"] == 1
    old = client.get(f"/dataset/{dataset['id']}/resource/{resource_id}/version/1/download/v1.csv")
    assert old.status_code == 200
    assert old.content == first
    latest = client.get(f"/dataset/{dataset['id']}/resource/{resource_id}/download/v3.csv")
    assert latest.content == second


def test_failed_new_version_keeps_the_previous_data(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    response = upload(client, auth_headers, dataset["id"], content=aed_csv([aed_row(1)]).encode())
    resource_id = response.json()["result"]["id"]
    broken = client.post(
        "/api/3/action/resource_update",
        data={"id": resource_id},
        files={"upload": ("bad.csv", (BAD / "mixed_encoding.csv").read_bytes(), "text/csv")},
        headers=auth_headers,
    )
    assert broken.status_code == 409
    assert search(client, resource_id)["records"][0]["名称"] == "三鷹市役所1"
    shown = client.get("/api/3/action/resource_show", params={"id": resource_id}).json()["result"]
    assert shown["version"] == 1


def test_addresses_are_standardized_into_the_address_block(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="aed")
    rows = [
        aed_row(1),
        aed_row(2).replace("東京都三鷹市野崎一丁目1番1号", "ｼﾓﾚﾝｼﾞｬｸ３丁目22の14"),
        aed_row(3).replace("東京都三鷹市野崎一丁目1番1号", "どこか遠く"),
    ]
    response = upload(client, auth_headers, dataset["id"], content=aed_csv(rows).encode())
    report = report_of(response)
    assert report["rows_valid"] == 3  # an unreadable address is reported, the row kept
    assert report["address"]["column"] == "住所"
    assert report["address"]["recognized"] == 2
    assert report["address"]["unrecognized_lines"] == [{"line": 4, "value": "どこか遠く"}]
    assert report["address"]["added_columns"] == [
        "所在地_都道府県",
        "所在地_市区町村",
        "所在地_町字",
        "所在地_番地以下",
    ]
    records = search(client, response.json()["result"]["id"], sort="_id asc")["records"]
    assert [r["所在地_町字"] for r in records] == ["野崎一丁目", "下連雀三丁目", None]
    assert records[1]["所在地_番地以下"] == "22-14"
    assert records[1]["住所"] == "ｼﾓﾚﾝｼﾞｬｸ３丁目22の14"  # what the department wrote stays
    assert records[0]["所在地_市区町村"] == "三鷹市"


def test_an_official_layout_file_keeps_its_own_address_block(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    dataset = create_dataset(client, auth_headers, schema="public_toilets")
    response = upload(
        client, auth_headers, dataset["id"], DEMO_DATA / "ods_public_toilet_132039_musashino.csv"
    )
    report = report_of(response)
    assert report["address"]["added_columns"] == []
    record = search(
        client, response.json()["result"]["id"], filters='{"名称": "三鷹駅北口公衆トイレ"}'
    )["records"][0]
    assert record["所在地_町字"] == "中町1丁目"  # given in the file: kept as written
    assert record["所在地_番地以下"] == "14"
