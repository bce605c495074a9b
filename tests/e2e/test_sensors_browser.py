"""The sensor pages in a real browser (Chromium through Playwright), each checked with axe-core
against WCAG 2.1 A/AA: the map and list of stations, a station's chart, the staff upload."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from cityos.core.models import User
from cityos.db import utcnow
from cityos.sensors import demo
from tests.e2e.test_portal_browser import log_in, visit

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


@pytest.fixture
def flood(app: FastAPI) -> None:
    """The sample stations with a flood that ends now."""
    start = utcnow() - timedelta(minutes=60)
    with app.state.db.session() as session:
        demo.load_demo_stations(session, now=start, history_hours=6)
        demo.simulate_flood(session, start, 60)


def test_station_map_list_and_chart(page: Page, flood: None, check_accessibility: Check) -> None:
    visit(page, check_accessibility, "/sensors")
    expect(page.get_by_role("heading", level=1)).to_have_text("河川水位・雨量の観測所")
    expect(page.locator("#map")).to_have_attribute("data-ready", "4")
    rows = page.get_by_role("region", name="観測所の一覧").get_by_role("row")
    expect(rows).to_have_count(5)  # the header and four stations
    osawa = page.get_by_role("row", name=re.compile("野川 大沢"))
    expect(osawa).to_contain_text("氾濫危険")
    expect(osawa).to_contain_text("大沢四丁目")

    page.get_by_role("link", name="野川 大沢（サンプル）").click()
    expect(page).to_have_url(re.compile(r"/sensors/mitaka-nogawa-osawa$"))
    check_accessibility("station page")
    chart = page.get_by_role("img", name=re.compile("野川 大沢（サンプル）の水位"))
    expect(chart).to_be_visible()
    for label in (
        "水防団待機水位 1.2 m",
        "はん濫注意水位 1.6 m",
        "避難判断水位 2 m",
        "はん濫危険水位 2.4 m",
    ):
        expect(chart.get_by_text(label, exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="数値の表")).to_contain_text("2.7")

    page.get_by_role("link", name="7日間").click()
    expect(page.get_by_role("link", name="7日間")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("region", name="数値の表")).to_contain_text("1時間ごとの最高値")
    check_accessibility("station page, 7 days")

    visit(page, check_accessibility, "/sensors/mitaka-city-hall?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rain gauge at Mitaka City Hall (sample)"
    )


def test_staff_uploads_readings_and_reads_the_report(
    page: Page, flood: None, staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/login?next=/staff/sensors")
    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff/sensors$"))
    check_accessibility("staff upload page")
    later = (utcnow() + timedelta(hours=9, minutes=-1)).strftime("%Y-%m-%d %H:%M")  # JST
    csv = f"観測所,観測日時,値\nmitaka-nogawa-osawa,{later},2.65\nmitaka-nogawa-osawa,あした,2.6\n"
    page.get_by_label("ファイル（CSV、UTF-8 または Shift_JIS）").set_input_files(
        files=[{"name": "readings.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="取り込む").click()
    expect(page).to_have_url(re.compile(r"/staff/sensors/uploads/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("readings.csv")
    problems = page.locator("section", has=page.locator("#problems")).get_by_role("table")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr td").nth(0)).to_have_text("3")  # line 3: あした
    expect(problems.locator("tbody tr td").nth(1)).to_have_text("観測日時 / observedAt")
    check_accessibility("upload report")
