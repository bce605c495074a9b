"""The staff console through HTTP: dataset forms, uploads and the validation report."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityos.core.models import User
from tests.conftest import DEMO_DATA, csrf_of, login


def new_dataset(client: TestClient, **fields: str) -> object:
    token = csrf_of(client.get("/staff/datasets/new").text)
    return client.post(
        "/staff/datasets/new",
        data={"csrf_token": token, "license_id": "CC-BY-4.0", **fields},
        follow_redirects=False,
    )


def test_the_form_keeps_what_was_typed_and_names_each_mistake(
    client: TestClient, admin: User
) -> None:
    login(client)
    response = new_dataset(
        client, title="", name="Bad Name", temporal_start="いつか", tags="公園, 遊具"
    )
    assert response.status_code == 422
    page = response.text  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in page
    assert "タイトルは必須です" in page
    assert "URL名は半角英小文字" in page
    assert "日付として読めません" in page
    assert 'value="公園, 遊具"' in page
    assert client.get("/api/3/action/package_list").json()["result"] == []


def test_create_then_edit_a_dataset(client: TestClient, admin: User) -> None:
    login(client)
    created = new_dataset(
        client, title="公園一覧", title_en="Parks", schema="public_facilities", tags="公園、遊具"
    )
    assert created.status_code == 303  # type: ignore[attr-defined]
    assert created.headers["location"] == "/staff/datasets/parks"  # type: ignore[attr-defined]
    form = client.get("/staff/datasets/parks/edit")
    assert 'value="公園一覧"' in form.text
    edited = client.post(
        "/staff/datasets/parks/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "title": "公園・遊具一覧",
            "frequency": "annual",
            "tags": "公園",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    shown = client.get("/api/3/action/package_show", params={"id": "parks"}).json()["result"]
    assert shown["title"] == "公園・遊具一覧"
    assert shown["frequency"] == "annual"
    assert [t["name"] for t in shown["tags"]] == ["公園"]
    assert shown["schema"] == "public_facilities"


def test_upload_from_the_console_lands_on_the_report(client: TestClient, admin: User) -> None:
    login(client)
    new_dataset(client, title="AED", name="aed", schema="aed")
    page = client.get("/staff/datasets/aed")
    response = client.post(
        "/staff/datasets/aed/upload",
        data={"csrf_token": csrf_of(page.text), "resource_name": "AED一覧"},
        files={
            "file": (
                "invalid_values.csv",
                (DEMO_DATA / "bad" / "invalid_values.csv").read_bytes(),
                "text/csv",
            )
        },
    )
    assert response.status_code == 200
    assert "/staff/resources/" in str(response.url)
    assert "8 行を取り込みました" in response.text
    assert "javascript:alert(1)" in response.text  # the bad value is shown as text, escaped
    assert '<a href="javascript' not in response.text


def test_a_broken_upload_from_the_console_explains_itself(client: TestClient, admin: User) -> None:
    login(client)
    new_dataset(client, title="AED", name="aed", schema="aed")
    page = client.get("/staff/datasets/aed")
    response = client.post(
        "/staff/datasets/aed/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("empty.csv", b"", "text/csv")},
    )
    assert response.status_code == 422
    assert "ファイルが空です" in response.text
    assert (
        client.get("/api/3/action/package_show", params={"id": "aed"}).json()["result"]["resources"]
        == []
    )


def test_staff_add_organizations_and_themes(client: TestClient, admin: User) -> None:
    login(client)
    page = client.get("/staff/organizations")
    assert page.status_code == 200
    token = csrf_of(page.text)
    added = client.post(
        "/staff/organizations",
        data={
            "csrf_token": token,
            "kind": "organization",
            "name": "mitaka-doboku",
            "title": "道路管理課",
            "title_en": "Roads",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    theme = client.post(
        "/staff/organizations",
        data={"csrf_token": token, "kind": "group", "name": "roads", "title": "道路・交通"},
        follow_redirects=False,
    )
    assert theme.status_code == 303
    assert client.get("/api/3/action/organization_list").json()["result"] == ["mitaka-doboku"]
    assert client.get("/api/3/action/group_list").json()["result"] == ["roads"]
    again = client.post(
        "/staff/organizations",
        data={
            "csrf_token": token,
            "kind": "organization",
            "name": "mitaka-doboku",
            "title": "重複",
        },
    )
    assert again.status_code == 422
    assert "既に使われています" in again.text
    assert 'value="重複"' in again.text


def test_staff_delete_a_resource_and_its_table(client: TestClient, admin: User) -> None:
    login(client)
    new_dataset(client, title="AED", name="aed", schema="aed")
    page = client.get("/staff/datasets/aed")
    client.post(
        "/staff/datasets/aed/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={
            "file": ("aed.csv", (DEMO_DATA / "aed_132047_sample_sjis.csv").read_bytes(), "text/csv")
        },
    )
    shown = client.get("/api/3/action/package_show", params={"id": "aed"}).json()["result"]
    resource_id = shown["resources"][0]["id"]
    deleted = client.post(
        f"/staff/resources/{resource_id}/delete",
        data={"csrf_token": csrf_of(client.get("/staff/datasets/aed").text)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert (
        client.get("/api/3/action/package_show", params={"id": "aed"}).json()["result"]["resources"]
        == []
    )
    gone = client.get("/api/3/action/datastore_search", params={"resource_id": resource_id})
    assert gone.status_code == 404
