"""Screenshots for the README, taken with Debian's Chromium (1280x900; a phone at 390x844).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Serves the app on a loopback port with a throw-away SQLite database holding the demo catalog,
then saves portal-home.png, resource-map.png and validation-report.png; then plays the flood
scenario (`cityos demo --scenario flood`) and saves disaster-phone.png (a resident's nearest
open shelter, on a phone), river-station.png (the 野川 gauge past its thresholds) and
disaster-staff.png (the staff console). Map tiles are off (no network is needed), so maps show
their markers on a plain background.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser settings and the live server are the tests' own

from tests.conftest import LiveServer, free_port  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402

from cityos.app import create_app  # noqa: E402
from cityos.core import auth  # noqa: E402
from cityos.db import create_db_engine, upgrade_schema  # noqa: E402
from cityos.disaster.scenario import RESIDENT_POINT, run_flood  # noqa: E402
from cityos.opendata.demo import demo_file, load_demo  # noqa: E402
from cityos.settings import Settings  # noqa: E402

USER = "shashin"
NAMES = ("portal-home.png", "resource-map.png", "validation-report.png")
DISASTER_NAMES = (
    "disaster-phone.png",
    "river-station.png",
    "disaster-staff.png",
    "sns-queue.png",
    "sns-summaries.png",
)
PHONE: ViewportSize = {"width": 390, "height": 844}


def take_screenshots(
    browser: Browser, base_url: str, out: Path, user: str, password: str
) -> list[Path]:
    """Photograph a running portal that holds the demo catalog; ``user`` may write to it."""
    out.mkdir(parents=True, exist_ok=True)
    home, resource_map, report = (out / name for name in NAMES)
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto("/")
        page.screenshot(path=home)

        page.goto("/dataset/mitaka-designated-shelters")
        page.get_by_role("region", name="データとダウンロード").get_by_role("link").first.click()
        expect(page.locator("#map")).to_have_attribute("data-ready", re.compile("^[1-9]"))
        page.screenshot(path=resource_map)

        _log_in(page, user, password)
        page.goto("/staff/datasets/mitaka-aed")
        form = page.get_by_role("region", name="ファイルを追加").locator("form")
        form.get_by_label("リソース名").fill("AED設置箇所一覧（更新）")
        form.get_by_label("ファイル（CSV・TSV・GeoJSON）").set_input_files(
            demo_file("bad/invalid_values.csv")
        )
        form.get_by_role("button", name="アップロード").click()
        page.wait_for_url(re.compile(r"/staff/resources/.+/versions/\d+$"))
        page.screenshot(path=report)
    finally:
        context.close()
    return [home, resource_map, report]


def take_disaster_screenshots(
    browser: Browser, base_url: str, out: Path, user: str, password: str
) -> list[Path]:
    """Photograph a portal after the flood scenario: a phone finding the nearest open
    shelter, the river gauge's chart with its thresholds, the staff console, and the SNS
    triage queue and area summaries."""
    out.mkdir(parents=True, exist_ok=True)
    phone_shot, station_shot, staff_shot, queue_shot, areas_shot = (
        out / name for name in DISASTER_NAMES
    )
    lat, lon = RESIDENT_POINT
    phone = browser.new_context(
        base_url=base_url, viewport=PHONE, locale="ja-JP", device_scale_factor=2, is_mobile=True
    )
    try:
        page = phone.new_page()
        page.goto(f"/disaster/nearest?lat={lat}&lon={lon}&hazard=flood")
        expect(page.locator("#map")).to_have_attribute("data-ready", re.compile("^[1-9]"))
        page.screenshot(path=phone_shot)
    finally:
        phone.close()
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto("/sensors/mitaka-nogawa-osawa")
        chart = page.get_by_role("img", name=re.compile("水位"))
        chart.first.evaluate("element => element.scrollIntoView({block: 'center'})")
        page.screenshot(path=station_shot)
        _log_in(page, user, password)
        page.goto("/staff/disaster")
        page.screenshot(path=staff_shot)
        page.goto("/staff/sns")
        expect(page.locator("#sns-map")).to_have_attribute("data-ready", re.compile("^[1-9]"))
        page.screenshot(path=queue_shot)
        page.goto("/staff/sns/summaries?hours=3")
        expect(page.locator("#sns-map")).to_have_attribute("data-ready", re.compile("^[1-9]"))
        page.screenshot(path=areas_shot)
    finally:
        context.close()
    return [phone_shot, station_shot, staff_shot, queue_shot, areas_shot]


def _log_in(page: Page, user: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(user)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/staff$"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        url = f"sqlite:///{tmp}/cityos.db"
        engine = create_db_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        settings = Settings(
            data_dir=Path(tmp),
            database_url=url,
            secret_key=secrets.token_urlsafe(32),
            site_url=base_url,
            map_tile_url="",
        )
        app = create_app(settings)
        password = secrets.token_urlsafe(16)
        with app.state.db.session() as session:
            user = auth.create_user(session, USER, "admin", password, display_name="撮影")
            load_demo(session, user, app.state.files, site_url=base_url)
        try:
            with LiveServer(app, port), sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    paths = take_screenshots(browser, base_url, args.out, USER, password)
                    run_flood(app.state.db, settings, user)
                    paths += take_disaster_screenshots(browser, base_url, args.out, USER, password)
                finally:
                    browser.close()
        finally:
            app.state.db.dispose()
    for path in paths:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
