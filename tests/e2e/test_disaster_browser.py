"""Disaster pages in a real browser: a resident on a phone finds an open shelter from the
phone's location and tells the family; staff switch disaster mode on and publish an alert.

Every page a test visits is checked with axe-core against WCAG 2.1 A/AA.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from cityos.core.models import User
from cityos.disaster import scenario, service
from cityos.settings import Settings
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import axe_violations, describe
from tests.e2e.test_portal_browser import log_in, png_size, screenshot_script, visit

pytestmark = pytest.mark.e2e

Check = Callable[..., None]
# A resident at home in 北野三丁目, near 北野小学校.
KITANO = {"latitude": 35.6785, "longitude": 139.5815}


def open_shelters(app: FastAPI, admin: User, *names: str) -> None:
    with app.state.db.session() as session:
        actor = session.get(User, admin.id)
        for shelter in service.list_shelters(session):
            if shelter.name in names:
                service.update_status(
                    session, actor, shelter.id, {"is_open": True, "people": 30, "wifi": True}
                )


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A phone-sized tab that shares its location (北野) with the site."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="ja-JP",
        geolocation=KITANO,
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the pages: {errors}"


def check_phone(axe: Any, page: Page, what: str) -> None:
    page.wait_for_load_state("load")
    violations = axe_violations(axe, page)
    assert not violations, f"axe found violations on {what}:\n" + describe(violations)
    # Nothing wider than the phone: no sideways scrolling on a small screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), what


def test_resident_finds_the_nearest_open_shelter_from_the_phones_location_and_checks_in(
    phone: Page, app: FastAPI, demo: list[str], admin: User, axe: Any
) -> None:
    open_shelters(app, admin, "北野小学校（校舎・体育館）", "南浦小学校（校舎・体育館）")
    phone.goto("/disaster")
    check_phone(axe, phone, "disaster home")
    expect(phone.get_by_text("開設中の避難所: 2 か所")).to_be_visible()
    phone.get_by_role("button", name="現在地から探す").click()
    expect(phone).to_have_url(re.compile(r"/disaster/nearest\?lat=35\.678"))
    results = phone.locator("ol.results > li")
    expect(results.first).to_contain_text("北野小学校（校舎・体育館）")
    expect(results.first).to_contain_text("徒歩")
    expect(phone.get_by_text("直線距離です")).to_be_visible()
    # The map draws the resident and both shelters.
    expect(phone.locator("#map")).to_have_attribute("data-ready", "3")
    check_phone(axe, phone, "nearest shelters")

    results.first.get_by_role("link").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("北野小学校（校舎・体育館）")
    check_phone(axe, phone, "shelter page")
    phone.get_by_label("家族に伝えるお名前（任意）").fill("三鷹 花子")
    phone.get_by_label("ひとこと（任意）").fill("無事です")
    phone.get_by_role("button", name="到着を記録する").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("到着を記録しました")
    check_phone(axe, phone, "check-in done")
    link = phone.locator("#family-link").inner_text()
    expect(phone.get_by_role("link", name="LINE で送る")).to_have_attribute(
        "href", re.compile(r"^https://line\.me/R/share\?text=")
    )
    # The link names the city's public site (settings.site_url); follow its path here.
    assert link.startswith("http://testserver/f/")
    phone.goto(urlsplit(link).path)
    expect(phone.locator("main")).to_contain_text("三鷹 花子 さんは次の避難所に到着しました。")
    expect(phone.locator("main")).to_contain_text("無事です")
    check_phone(axe, phone, "family page")


def test_typed_address_that_cannot_be_placed_says_so(
    phone: Page, demo: list[str], axe: Any
) -> None:
    phone.goto("/disaster")
    phone.get_by_label("住所（例: 下連雀3-22）").fill("どこか遠いところ")
    phone.get_by_role("button", name="探す", exact=True).click()
    expect(phone.get_by_role("alert")).to_contain_text("場所がわかりませんでした")
    check_phone(axe, phone, "nearest with an error")


def test_in_calm_times_the_nearest_designated_places_are_shown_on_a_map(
    phone: Page, demo: list[str], axe: Any
) -> None:
    phone.goto("/disaster")
    phone.get_by_label("または町名").select_option("大沢")
    phone.get_by_role("button", name="探す", exact=True).click()
    expect(phone.get_by_text("条件に合う開設中の避難所は今ありません")).to_be_visible()
    expect(phone.locator("ol.results > li").first).to_contain_text("未開設")
    expect(phone.locator("#map")).to_have_attribute("data-ready", "6")
    check_phone(axe, phone, "nearest designated places")


def test_staff_switch_disaster_mode_on_and_every_page_leads_with_it(
    page: Page, demo: list[str], admin: User, check_accessibility: Check
) -> None:
    page.goto("/staff/disaster")
    log_in(page, "admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("災害対応")
    check_accessibility("disaster console")
    mode = page.locator("form[action='/staff/disaster/mode']")
    mode.get_by_label("災害モードにする").check()
    mode.get_by_label("災害の種類").select_option("flood")
    mode.get_by_label("大沢").check()
    mode.get_by_label("住民へのメッセージ（日本語）").fill("野川が増水しています。")
    mode.get_by_role("button", name="災害モードを保存").click()
    expect(page.get_by_text("災害モード中")).to_be_visible()

    visit(page, check_accessibility, "/")
    banner = page.get_by_role("region", name="災害情報")
    expect(banner).to_contain_text("災害対応中: 洪水")
    expect(banner).to_contain_text("野川が増水しています。")
    banner.get_by_role("link", name="近くの開設中の避難所を探す").click()
    expect(page).to_have_url(re.compile(r"/disaster/nearest$"))


def test_staff_publish_an_alert_that_residents_read_in_easy_japanese_and_english(
    page: Page, demo: list[str], admin: User, check_accessibility: Check
) -> None:
    page.goto("/staff/disaster")
    log_in(page, "admin")
    form = page.locator("form[action='/staff/disaster/alerts']")
    form.get_by_label("警戒レベル").select_option("4")
    form.get_by_label("災害の種類").select_option("flood")
    form.get_by_label("野崎").check()
    form.get_by_label("見出し（日本語）").fill("野崎に避難指示")
    form.get_by_label("本文（日本語）").fill("野川沿いの方は直ちに避難してください。")
    form.get_by_label("本文（英語）").fill("Residents along the Nogawa: evacuate now.")
    form.get_by_label("やさしい日本語").fill("かわ の ちかく の ひと は すぐ にげて ください。")
    form.get_by_role("button", name="発表する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("野崎に避難指示")
    check_accessibility("alert page")

    visit(page, check_accessibility, "/disaster/alerts")
    expect(page.get_by_role("link", name=re.compile("野崎に避難指示"))).to_be_visible()
    visit(page, check_accessibility, "/disaster?lang=en")
    expect(page.locator("main")).to_contain_text("Evacuation order")
    page.goto("/disaster/alerts")
    page.get_by_role("link", name=re.compile("Evacuation order|野崎に避難指示")).first.click()
    expect(page.locator("main")).to_contain_text("Residents along the Nogawa: evacuate now.")
    check_accessibility("alert page in English")


def test_readme_disaster_screenshots_after_the_flood_scenario(
    browser: Browser,
    live_server: LiveServer,
    app: FastAPI,
    demo: list[str],
    admin: User,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """scripts/screenshots.py photographs the flood: it keeps working as the pages change."""
    report = scenario.run_flood(app.state.db, settings, admin)
    assert report.opened
    paths = screenshot_script().take_disaster_screenshots(
        browser, live_server.url, tmp_path, "admin", ADMIN_PASSWORD
    )
    assert [(p.name, png_size(p)) for p in paths] == [
        ("disaster-phone.png", (780, 1688)),
        ("river-station.png", (1280, 900)),
        ("disaster-staff.png", (1280, 900)),
        ("sns-queue.png", (1280, 900)),
        ("sns-summaries.png", (1280, 900)),
    ]
