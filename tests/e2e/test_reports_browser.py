"""Citizen reports in a real browser (Chromium through Playwright), checked with axe-core:
a resident on a 360 px phone reports with a photo and a tapped place and watches the status
under "my reports" while staff move it to 対応中 and 完了 with an after photo."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect

from cityos.core.models import User
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import axe_violations, describe
from tests.reports.photos import camera_jpeg

pytestmark = pytest.mark.e2e

Check = Callable[..., None]
PHONE: ViewportSize = {"width": 360, "height": 740}


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_resident_reports_from_a_phone_and_watches_staff_handle_it(
    browser: Browser,
    page: Page,
    live_server: LiveServer,
    staff_user: User,
    check_accessibility: Check,
    axe: Axe,
) -> None:
    phone_context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ja-JP", has_touch=True, is_mobile=True
    )
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))

    def check_phone(what: str) -> None:
        phone.wait_for_load_state("load")
        violations = axe_violations(axe, phone)
        assert not violations, f"axe found violations on {what} (360 px):\n" + describe(violations)

    try:
        phone.goto("/reports")
        expect(phone.get_by_role("heading", level=1)).to_have_text("まちの困りごと報告")
        check_phone("public list")
        phone.get_by_role("link", name="報告する").first.click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("困りごとを報告する")
        check_phone("report form")
        assert fits_the_width(phone)

        phone.get_by_label("種類").select_option(label="落書き")
        phone.get_by_label("写真", exact=True).set_input_files(
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(1600, 1200)}
        )
        place_map = phone.locator("#place-map")
        expect(place_map).to_have_attribute("data-ready", "1")
        place_map.scroll_into_view_if_needed()
        box = place_map.bounding_box()
        assert box is not None
        phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(phone.locator("#place-status")).to_contain_text("地図で選んだ場所")
        phone.get_by_label("内容").fill("駅前の壁にスプレーの落書きがあります")
        phone.get_by_label("メールアドレス（任意・非公開）").fill("hanako@example.jp")
        phone.get_by_role("button", name="送信する").click()

        expect(phone.get_by_role("status").first).to_contain_text("報告を受け付けました")
        heading = phone.get_by_role("heading", level=1).inner_text()
        number = re.search(r"受付番号 (\d+)", heading)
        assert number is not None, heading
        report_id = number.group(1)
        expect(phone.locator(".report-status-line")).to_contain_text("受付")
        expect(phone.get_by_role("img", name="報告の写真")).to_be_visible()
        check_phone("report page")
        assert fits_the_width(phone)

        phone.get_by_role("link", name="自分の報告").first.click()
        mine = phone.locator(f"#report-{report_id}")
        expect(mine).to_contain_text("受付")
        check_phone("my reports")
        assert fits_the_width(phone)

        # Staff, on a desktop, take it in hand and then finish it with an after photo.
        page.goto(f"/login?next=/staff/reports/{report_id}")
        page.get_by_label("ユーザー名").fill(staff_user.name)
        page.get_by_label("パスワード").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"受付番号 {report_id}")
        check_accessibility("staff report page")
        page.get_by_label("状態").select_option(label="対応中")
        page.get_by_label("公開するメモ").fill("清掃業者を手配しました")
        page.get_by_role("button", name="記録する").click()
        expect(page.locator("#current-state")).to_contain_text("対応中")

        phone.reload()
        expect(phone.locator(f"#report-{report_id}")).to_contain_text("対応中")

        page.get_by_label("状態").select_option(label="完了")
        page.get_by_label("公開するメモ").fill("落書きを消しました")
        page.get_by_label("写真（任意）").set_input_files(
            {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(1200, 900)}
        )
        page.get_by_role("button", name="記録する").click()
        expect(page.locator("#current-state")).to_contain_text("完了")
        page.goto("/staff/reports?state=")
        expect(page.locator(f"#row-{report_id}")).to_contain_text("完了")
        check_accessibility("staff inbox")
        page.goto("/staff/reports/numbers")
        check_accessibility("staff numbers")

        phone.reload()
        expect(phone.locator(f"#report-{report_id}")).to_contain_text("完了")
        phone.locator(f"#report-{report_id} a").click()
        expect(phone.get_by_role("img", name="対応後")).to_be_visible()
        expect(phone.locator(".report-history")).to_contain_text("落書きを消しました")
        check_phone("report page, done")
        assert fits_the_width(phone)
        assert "hanako@example.jp" not in phone.content()

        # The same phone at 200% text zoom lays out as a 180 px wide page: nothing may need
        # sideways scrolling there either.
        phone.set_viewport_size({"width": 180, "height": 370})
        for path in ("/reports/new", "/reports/mine", f"/reports/{report_id}", "/reports"):
            phone.goto(path)
            assert fits_the_width(phone), f"{path} scrolls sideways at 200% zoom"
    finally:
        phone_context.close()
    assert not errors, f"script errors on the phone: {errors}"


def test_a_resident_places_a_report_by_gps_or_by_address_and_sees_errors_on_the_form(
    browser: Browser, live_server: LiveServer, axe: Axe
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale="ja-JP",
        geolocation={"latitude": 35.7010, "longitude": 139.5610},  # 三鷹駅前
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        # Nothing chosen: the form says what is missing, keeps what was typed, and stays
        # accessible with its errors.
        phone.goto("/reports/new")
        phone.get_by_label("種類").select_option(label="街路灯の故障")
        symptom = phone.locator("#attr-streetlight-symptom")
        expect(symptom).to_be_visible()
        expect(phone.locator("#attr-road_damage-size")).to_be_hidden()  # another kind's
        phone.get_by_label("内容").fill("駅前の街路灯")
        phone.get_by_role("button", name="送信する").click()
        alert = phone.get_by_role("alert")
        expect(alert).to_contain_text("場所を指定してください")
        expect(alert).to_contain_text("どのような状態ですか")
        expect(phone.get_by_label("内容")).to_have_value("駅前の街路灯")
        violations = axe_violations(axe, phone)
        assert not violations, describe(violations)

        # By GPS.
        symptom.select_option(label="点滅している")
        phone.get_by_role("button", name="現在地を使う").click()
        expect(phone.locator("#place-status")).to_contain_text("現在地: 35.701000, 139.561000")
        phone.get_by_role("button", name="送信する").click()
        expect(phone.get_by_role("status").first).to_contain_text("報告を受け付けました")
        expect(phone.locator(".report-status-line")).to_contain_text("受付")

        # By a typed address: placed at its 町丁目.
        phone.goto("/reports/new")
        phone.get_by_label("種類").select_option(label="不法投棄")
        phone.get_by_label("住所（地図を使わない場合）").fill("三鷹市野崎1-1-1")
        phone.get_by_role("button", name="送信する").click()
        expect(phone.get_by_role("status").first).to_contain_text("報告を受け付けました")
        expect(phone.locator("dl.meta-table")).to_contain_text("野崎")
        phone.goto("/reports/mine")
        expect(phone.locator(".report-card")).to_have_count(2)
    finally:
        context.close()
