"""The open data portal and its staff console in a real browser (Chromium through Playwright).

Every page a test visits is checked with axe-core against WCAG 2.1 A/AA (JIS X 8341-3:2016),
in Japanese (the default) and, for some pages, in English.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from cityos.core.models import User
from cityos.opendata import service
from tests.conftest import ADMIN_PASSWORD, DEMO_DATA, LiveServer, load_script

pytestmark = pytest.mark.e2e

Check = Callable[..., None]
AED_ROWS = 30
MITAKA_SHELTERS = 72
PREVIEW_ROWS = 20


def resource_id(app: FastAPI, dataset: str, index: int = 0) -> str:
    with app.state.db.session() as session:
        found = service.get_dataset(session, dataset, None)
        return str(found.resources[index].id)


def visit(page: Page, check: Check, path: str) -> None:
    """Open a page as a user would (from its address) and check its accessibility."""
    response = page.goto(path)
    assert response is not None, path
    assert response.ok, f"{path} answered {response.status}"
    check(path)


def wait_until(page: Page, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(20)


def log_in(page: Page, name: str, password: str = ADMIN_PASSWORD) -> None:
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def aed_csv_with_one_bad_row() -> bytes:
    """Three rows of the demo AED file (Shift_JIS) as UTF-8; the second is 95° north."""
    text = (DEMO_DATA / "aed_132047_sample_sjis.csv").read_bytes().decode("cp932")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:4]
    body[1][header.index("緯度")] = "95.0"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body])
    return out.getvalue().encode("utf-8")


# --- public portal --------------------------------------------------------------------------


def test_home_page_shows_the_catalog_and_themes(
    page: Page, demo: list[str], check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/")

    expect(page).to_have_title(re.compile("三鷹市オープンデータ"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("三鷹市のオープンデータ")
    expect(page.locator("#results-heading")).to_have_text(f"{len(demo)} 件のデータセット")
    themes = page.get_by_role("region", name="分野から探す").get_by_role("listitem")
    expect(themes).to_have_count(6)
    expect(themes.first).to_contain_text("防災・安全")
    expect(page.get_by_role("link", name="三鷹市 AED設置箇所一覧（サンプル）")).to_be_visible()


def test_search_box_finds_shelters_and_facets_narrow_the_list(
    page: Page, demo: list[str], check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/")
    page.get_by_role("searchbox", name="データセットを検索").fill("避難所")
    page.get_by_role("search").get_by_role("button", name="検索").click()

    expect(page).to_have_url(re.compile(r"/dataset\?q="))
    heading = page.locator("#results-heading")
    results = page.locator("ul.results > li")
    titles = results.get_by_role("heading", level=3)
    expect(heading).to_have_text("3 件のデータセット — “避難所”")
    expect(titles).to_have_text(
        ["武蔵野市 指定避難所一覧", "三鷹市 指定避難所一覧", "三鷹市 指定緊急避難場所一覧"]
    )
    check_accessibility("search results")

    facets = page.get_by_role("complementary", name="絞り込み")
    selected = facets.locator('a[aria-current="true"]')
    facets.get_by_role("link", name=re.compile("^三鷹市 防災課")).click()
    expect(page).to_have_url(re.compile(r"organization=mitaka-bousai"))
    expect(heading).to_have_text("2 件のデータセット — “避難所”")
    expect(titles).to_have_text(["三鷹市 指定避難所一覧", "三鷹市 指定緊急避難場所一覧"])
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("三鷹市 防災課（選択中・押すと解除）")
    expect(page.get_by_role("searchbox")).to_have_value("避難所")
    check_accessibility("search with an organization selected")

    # A tag narrows further; clicking a selected facet again removes only that filter.
    facets.get_by_role("link", name=re.compile("^避難所")).click()
    expect(heading).to_have_text("1 件のデータセット — “避難所”")
    expect(titles).to_have_text(["三鷹市 指定避難所一覧"])
    expect(selected).to_have_count(2)
    facets.get_by_role("link", name=re.compile("^三鷹市 防災課 ?（選択中")).click()
    expect(page).not_to_have_url(re.compile("organization="))
    expect(heading).to_have_text("2 件のデータセット — “避難所”")
    expect(titles).to_have_text(["武蔵野市 指定避難所一覧", "三鷹市 指定避難所一覧"])
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("避難所（選択中・押すと解除）")
    check_accessibility("search with a tag selected")


def test_dataset_page_lists_resources_with_download_links(
    page: Page, app: FastAPI, demo: list[str], check_accessibility: Check
) -> None:
    aed = resource_id(app, "mitaka-aed")
    visit(page, check_accessibility, "/dataset/mitaka-aed")

    expect(page.get_by_role("heading", level=1)).to_have_text("三鷹市 AED設置箇所一覧（サンプル）")
    expect(
        page.get_by_role("link", name=re.compile("自治体標準オープンデータセット"))
    ).to_have_attribute("href", "/standards/aed")
    downloads = page.get_by_role("region", name="データとダウンロード")
    expect(downloads.get_by_role("heading", level=3)).to_have_text(
        "AED設置箇所一覧（Shift_JIS CSV）"
    )
    expect(downloads).to_contain_text(f"{AED_ROWS} 行")
    links = {
        "CSV (UTF-8)": f"/datastore/dump/{aed}?format=csv",
        "CSV (Excel用 Shift_JIS)": f"/datastore/dump/{aed}?format=csv&encoding=shift_jis",
        "JSON": f"/datastore/dump/{aed}?format=json",
        "GeoJSON": f"/datastore/dump/{aed}?format=geojson",
    }
    for label, href in links.items():
        # Each button names its resource for screen readers ("CSV (UTF-8) AED設置箇所一覧...").
        name = f"{label} AED設置箇所一覧（Shift_JIS CSV）"
        link = downloads.get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("href", href)

    # A dataset with two files offers two sets of downloads; the map data also as GeoJSON.
    visit(page, check_accessibility, "/dataset/mitaka-emergency-evacuation-sites")
    downloads = page.get_by_role("region", name="データとダウンロード")
    expect(downloads.get_by_role("heading", level=3)).to_have_count(2)
    expect(downloads.get_by_role("link", name=re.compile("^GeoJSON"))).to_have_count(2)


def test_resource_page_shows_preview_table_map_and_api_snippet(
    page: Page, app: FastAPI, demo: list[str], check_accessibility: Check
) -> None:
    shelters = resource_id(app, "mitaka-designated-shelters")
    page.goto(f"/dataset/mitaka-designated-shelters/resource/{shelters}")

    the_map = page.locator("#map")
    expect(the_map).to_have_attribute("data-ready", str(MITAKA_SHELTERS))
    expect(the_map.locator("path.leaflet-interactive")).to_have_count(MITAKA_SHELTERS)
    expect(page.get_by_text(f"{MITAKA_SHELTERS} 地点を表示しています")).to_be_visible()
    check_accessibility("resource page with a map")

    preview = page.get_by_role("region", name="データのプレビュー").get_by_role("table")
    expect(preview.locator("caption")).to_have_text(
        f"先頭 {PREVIEW_ROWS} 行（全 {MITAKA_SHELTERS} 行）"
    )
    headers = preview.get_by_role("columnheader")
    for column in ("名称", "住所", "緯度", "経度"):
        expect(headers.filter(has_text=re.compile(f"^{column}$"))).to_have_count(1)
    expect(preview.locator("tbody tr")).to_have_count(PREVIEW_ROWS)
    expect(preview.locator("tbody")).to_contain_text("東京都三鷹市")

    # Hovering a marker names the place (the tooltip comes from the data, as text).
    the_map.locator("path.leaflet-interactive").first.hover()
    expect(page.locator(".leaflet-tooltip")).to_have_text(re.compile(r"\S"))

    api = page.get_by_role("region", name="このデータを API で使う")
    snippets = api.locator("pre")
    expect(snippets.first).to_contain_text(
        f"/api/3/action/datastore_search?resource_id={shelters}&limit=5"
    )
    expect(snippets.nth(1)).to_contain_text(f'datastore_search(resource_id="{shelters}"')
    # The snippet really works: the same call from the page answers with the rows.
    answer = page.request.get(f"/api/3/action/datastore_search?resource_id={shelters}&limit=5")
    assert answer.ok
    assert len(answer.json()["result"]["records"]) == 5

    page.goto(f"/dataset/mitaka-designated-shelters/resource/{shelters}?lang=en")
    expect(page.get_by_role("heading", name="Data preview")).to_be_visible()
    expect(page.locator("#map")).to_have_attribute("data-ready", str(MITAKA_SHELTERS))
    check_accessibility("resource page in English")


def test_download_buttons_download_csv_with_bom_and_shift_jis(
    page: Page, app: FastAPI, demo: list[str], check_accessibility: Check
) -> None:
    aed = resource_id(app, "mitaka-aed")
    visit(page, check_accessibility, f"/dataset/mitaka-aed/resource/{aed}")

    with page.expect_download() as caught:
        page.get_by_role("link", name="CSV をダウンロード").click()
    download = caught.value
    assert download.suggested_filename.endswith(".csv")
    body = Path(download.path()).read_bytes()
    assert body.startswith(codecs.BOM_UTF8), body[:20]
    lines = body.decode("utf-8-sig").splitlines()
    assert "名称" in lines[0].split(",")
    assert len(lines) == AED_ROWS + 1
    assert "三鷹市役所" in lines[1]

    with page.expect_download() as caught:
        page.get_by_role("link", name="Excel 用 CSV（Shift_JIS）").click()
    body = Path(caught.value.path()).read_bytes()
    assert not body.startswith(codecs.BOM_UTF8)
    assert "名称" in body.decode("cp932").splitlines()[0].split(",")

    with page.expect_download() as caught:
        page.get_by_role("link", name="GeoJSON").click()
    assert caught.value.suggested_filename.endswith(".geojson")
    collection = json.loads(Path(caught.value.path()).read_bytes())
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == AED_ROWS


def test_language_switch_shows_english_and_is_remembered(
    page: Page, context: BrowserContext, demo: list[str], check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/dataset?q=AED")
    page.get_by_role("link", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find datasets")
    # The search survives the switch.
    expect(page.get_by_role("searchbox", name="Search datasets")).to_have_value("AED")
    expect(page.locator("#results-heading")).to_have_text("1 dataset — “AED”")
    expect(page.get_by_role("link", name="Mitaka AED locations (sample)")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("lang") == "en"
    check_accessibility("English search page")

    # The next page, without ?lang, is English too.
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Organizations"
    ).click()
    expect(page).to_have_url(re.compile(r"/organization$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizations publishing data")
    expect(page.get_by_role("link", name="Musashino City")).to_be_visible()
    check_accessibility("English organizations page")

    page.get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("データを公開している組織")


# (address, its main heading, something the page must show)
INFORMATION_PAGES = [
    ("/organization", "データを公開している組織", "三鷹市 防災課"),
    ("/group", "分野から探す", "防災・安全"),
    ("/standards", "対応している標準データセット", "AED設置箇所一覧"),
    ("/standards/aed", "AED設置箇所一覧 (AED locations)", "緯度"),
    ("/developers", "API・開発者向け情報", "/api/3/action/package_search"),
    ("/about", "このサイトについて", "国土地理院"),
    ("/login", "職員ログイン", "ユーザー名"),
]
INFORMATION_PAGES_EN = [
    ("/group?lang=en", "Browse by theme", "Disaster prevention and safety"),
    ("/standards?lang=en", "Supported standard datasets", "AED locations"),
    ("/standards/aed?lang=en", "AED設置箇所一覧 (AED locations)", "Required"),
    ("/developers?lang=en", "API for developers", "CKAN-compatible API"),
    ("/about?lang=en", "About this site", "Geospatial Information Authority of Japan"),
]


# One test per language rather than per page: each test starts a server and loads the catalog.
@pytest.mark.parametrize("pages", [INFORMATION_PAGES, INFORMATION_PAGES_EN], ids=["ja", "en"])
def test_information_pages_show_their_content_accessibly(
    page: Page, demo: list[str], check_accessibility: Check, pages: list[tuple[str, str, str]]
) -> None:
    for path, heading, shows in pages:
        visit(page, check_accessibility, path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.locator("main")).to_contain_text(shows)


def test_phone_sized_pages_reflow_and_their_wide_parts_scroll_by_keyboard(
    page: Page, app: FastAPI, demo: list[str], check_accessibility: Check
) -> None:
    aed = resource_id(app, "mitaka-aed")
    page.set_viewport_size({"width": 320, "height": 720})
    paths = ["/", "/dataset/mitaka-aed", f"/dataset/mitaka-aed/resource/{aed}", "/developers"]
    for path in [*paths, "/standards/aed", "/developers?lang=en"]:
        visit(page, check_accessibility, path)
        # WCAG 1.4.10: the page itself never scrolls sideways on a 320 CSS px wide screen...
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
    # ...only tables and code do, and a keyboard user can reach them to scroll them.
    visit(page, check_accessibility, f"/dataset/mitaka-aed/resource/{aed}?lang=ja")
    preview = page.get_by_role("region", name="データのプレビュー")
    assert preview.evaluate("e => e.scrollWidth > e.clientWidth")
    preview.focus()
    expect(preview).to_be_focused()
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: preview.evaluate("e => e.scrollLeft") > 0)


def test_skip_link_is_first_and_moves_focus_to_main(
    page: Page, demo: list[str], check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/dataset")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="本文へ移動")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues inside the main content, at the search box.
    page.keyboard.press("Tab")
    expect(page.get_by_role("searchbox", name="データセットを検索")).to_be_focused()


# --- staff console -------------------------------------------------------------------------


def test_staff_pages_redirect_to_login_and_back(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/staff/datasets/new")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstaff%2Fdatasets%2Fnew$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("職員ログイン")
    check_accessibility("login page")

    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff/datasets/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("データセットを作る")


def test_wrong_password_shows_the_error(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/login")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        log_in(page, "yamada.t", "not the password")
    assert answer.value.status == 401
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("ユーザー名またはパスワードが違います。")
    expect(page.get_by_label("ユーザー名")).to_have_value("yamada.t")
    expect(page.get_by_label("ユーザー名")).to_have_accessible_description(
        "ユーザー名またはパスワードが違います。"
    )
    expect(page.get_by_role("link", name="職員ログイン")).to_be_visible()
    check_accessibility("login page with an error")

    page.goto("/staff")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstaff$"))


def test_staff_creates_a_dataset_uploads_a_csv_and_publishes_it(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/login")
    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("職員メニュー")
    expect(page.locator("main")).to_contain_text("山田 太郎 さん（staff）")
    expect(page.get_by_role("region", name="データセット").get_by_role("row")).to_have_count(
        len(demo) + 1
    )
    check_accessibility("staff console")

    page.get_by_role("link", name="データセットを作る").click()
    expect(page).to_have_url(re.compile(r"/staff/datasets/new$"))
    check_accessibility("new dataset form")
    page.get_by_label("タイトル（日本語）").fill("三鷹市 AED設置箇所（職員テスト）")
    page.get_by_label("タイトル（英語）").fill("Mitaka AED staff test")
    page.get_by_label("URL名").fill("e2e-aed")
    page.get_by_label("公開組織").select_option(label="三鷹市 健康推進課")
    page.get_by_label("自治体標準オープンデータセット").select_option("aed")
    page.get_by_label("タグ（カンマ区切り）").fill("AED、救命")
    page.get_by_role("checkbox", name="健康・医療").check()
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(r"/staff/datasets/e2e-aed$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("三鷹市 AED設置箇所（職員テスト）")
    expect(page.locator("main")).to_contain_text("AED設置箇所一覧")
    check_accessibility("staff dataset page")

    # Hold the upload's answer so that the progress bar can be seen while it is on its way.
    held: list[Route] = []
    page.route("**/staff/datasets/e2e-aed/upload", lambda route: held.append(route))
    form = page.get_by_role("region", name="ファイルを追加").locator("form")
    form.get_by_label("リソース名").fill("AED設置箇所一覧")
    form.get_by_label("ファイル（CSV・TSV・GeoJSON）").set_input_files(
        {"name": "aed.csv", "mimeType": "text/csv", "buffer": aed_csv_with_one_bad_row()}
    )
    progress = form.locator(".upload-progress")
    expect(progress).to_be_hidden()
    form.get_by_role("button", name="アップロード").click()
    expect(progress).to_be_visible()
    expect(progress.get_by_label("送信中")).to_be_visible()
    expect(form.get_by_role("button", name="アップロード")).to_be_disabled()
    wait_until(page, lambda: len(held) == 1)
    held[0].continue_()

    expect(page).to_have_url(re.compile(r"/staff/resources/[0-9a-f-]+/versions/1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("検査結果: AED設置箇所一覧 — 版 1")
    expect(page.get_by_role("status")).to_have_text(
        "2 行を取り込みました。誤りのある 1 行は取り込んでいません（下の一覧）。"
    )
    problems = page.get_by_role("region", name="誤りのある行").get_by_role("table")
    expect(problems.locator("tbody tr")).to_have_count(1)
    cells = problems.locator("tbody tr td")
    expect(cells.nth(0)).to_have_text("3")  # the header is line 1: the second row is line 3
    expect(cells.nth(1)).to_have_text("緯度")
    expect(cells.nth(2)).to_contain_text("95")
    check_accessibility("validation report")

    page.get_by_role("link", name="公開ページで見る").click()
    expect(page).to_have_url(re.compile(r"/dataset/e2e-aed/resource/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("AED設置箇所一覧")
    preview = page.get_by_role("region", name="データのプレビュー").get_by_role("table")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator("tbody")).to_contain_text("三鷹市役所")
    expect(preview.locator("tbody")).not_to_contain_text("三鷹市公会堂")
    expect(page.locator("#map")).to_have_attribute("data-ready", "2")
    check_accessibility("the new resource's public page")

    # Residents find it by searching.
    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="データセット"
    ).click()
    page.get_by_role("searchbox").fill("職員テスト")
    page.get_by_role("search").get_by_role("button", name="検索").click()
    expect(page.locator("ul.results > li")).to_have_count(1)
    expect(page.locator("ul.results > li")).to_contain_text("三鷹市 健康推進課")


def test_upload_of_a_file_that_is_not_text_says_why(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/login?next=/staff/datasets/mitaka-aed")
    log_in(page, "yamada.t")
    expect(page.get_by_role("heading", level=1)).to_have_text("三鷹市 AED設置箇所一覧（サンプル）")
    form = page.get_by_role("region", name="ファイルを追加").locator("form")
    form.get_by_label("ファイル（CSV・TSV・GeoJSON）").set_input_files(
        DEMO_DATA / "bad" / "binary.csv"
    )
    form.get_by_role("button", name="アップロード").click()

    # The script shows the page the server answered with: the same page, saying what is wrong.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("アップロードできませんでした")
    expect(alert).to_contain_text("CSV ではなく PNG 画像")
    expect(page).to_have_url(re.compile(r"/staff/datasets/mitaka-aed$"))
    check_accessibility("staff dataset page with an upload error")
    # Nothing was published: the dataset still has its one file.
    expect(page.locator("main section h2[id^='r-']")).to_have_count(1)


def test_staff_adds_an_organization_in_the_console(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/login?next=/staff/organizations")
    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff/organizations$"))
    check_accessibility("organizations page")
    form = page.get_by_role("form", name="組織を追加")
    form.get_by_label("名前（日本語）").fill("道路管理課")
    form.get_by_label("URL名").fill("mitaka-doboku")
    form.get_by_role("button", name="追加").click()
    expect(page.get_by_role("region", name="組織（データを公開する部署）")).to_contain_text(
        "道路管理課"
    )
    form = page.get_by_role("form", name="組織を追加")
    form.get_by_label("名前（日本語）").fill("重複")
    form.get_by_label("URL名").fill("mitaka-doboku")
    form.get_by_role("button", name="追加").click()
    expect(page.get_by_role("alert").first).to_contain_text("既に使われています")
    check_accessibility("organizations page with an error")


def test_staff_creates_an_api_token_shown_once(
    page: Page, demo: list[str], staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/login?next=/staff/tokens")
    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff/tokens$"))
    expect(page.get_by_role("cell", name="まだありません")).to_be_visible()
    check_accessibility("tokens page")

    page.get_by_label("用途（メモ）").fill("ckanapi での一括登録")
    page.get_by_role("button", name="発行").click()
    token = page.locator("#new-token")
    expect(token).to_have_text(re.compile(r"^cityos_\S+$"))
    expect(page.get_by_role("status")).to_contain_text("二度と表示されません")
    rows = page.get_by_role("region", name="発行済みのトークン").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ckanapi での一括登録")
    check_accessibility("tokens page with a new token")

    page.goto("/staff/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    expect(rows).to_have_count(1)


# --- README screenshots --------------------------------------------------------------------


def screenshot_script() -> Any:
    """scripts/screenshots.py, loaded as a module."""
    return load_script("scripts/screenshots.py")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_readme_screenshots_are_taken_at_1280x900(
    browser: Browser, live_server: LiveServer, demo: list[str], tmp_path: Path
) -> None:
    """scripts/screenshots.py makes docs/screenshots/; it keeps working as the pages change."""
    paths = screenshot_script().take_screenshots(
        browser, live_server.url, tmp_path, "admin", ADMIN_PASSWORD
    )

    assert [p.name for p in paths] == [
        "portal-home.png",
        "resource-map.png",
        "validation-report.png",
    ]
    for path in paths:
        assert png_size(path) == (1280, 900), path
