"""Counter reservations in a real browser on a 360x740 phone, checked with axe-core: a resident
books a slot, changes it and finds it on my page; staff mark the arrival and the public page
shows the wait."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from cityos.core.models import User
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import PHONE, axe_violations, describe, fits_the_screen

pytestmark = pytest.mark.e2e


def new_phone(browser: Browser, live_server: LiveServer) -> Page:
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ja-JP", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def phones(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, Page]]:
    """The resident's phone and the counter clerk's (a tablet would do too)."""
    pages = (new_phone(browser, live_server), new_phone(browser, live_server))
    errors: list[str] = []
    for page in pages:
        page.on("pageerror", lambda error: errors.append(str(error)))
    yield pages
    for page in pages:
        page.context.close()
    assert not errors, f"script errors on the pages: {errors}"


def accessible(axe: Axe, page: Page, what: str) -> None:
    page.wait_for_load_state("load")
    violations = axe_violations(axe, page)
    assert not violations, f"axe found violations on {what}:\n" + describe(violations)


def test_a_resident_books_changes_and_staff_mark_the_arrival(
    phones: tuple[Page, Page], axe: Axe, admin: User
) -> None:
    page, clerk = phones
    page.goto("/reservations")
    expect(page.get_by_role("heading", level=1)).to_have_text("窓口予約と待ち時間")
    accessible(axe, page, "the counters and waiting times")
    fits_the_screen(page)
    page.locator("#counter-shimin-ido").get_by_role("link", name="この窓口を予約する").click()
    expect(page.get_by_text("予約するにはログインが必要です")).to_be_visible()
    page.get_by_role("link", name="新規登録").click()
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("パスワード").fill("mitaka-hanako-2026")
    page.get_by_role("button", name="アカウントを作る").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("市民課 住民異動")
    accessible(axe, page, "the slot picker")
    fits_the_screen(page)
    # Booking without choosing a time: the message is next to the picker.
    page.get_by_role("button", name="この日時で予約する").click()
    expect(page.locator("#slot-error")).to_contain_text("時間枠を選んでください")
    accessible(axe, page, "the slot picker with an error")

    open_slots = page.locator("input[name=slot]:not([disabled])")
    first = open_slots.nth(2)
    first_value = first.get_attribute("value") or ""
    first.check()
    page.get_by_label("手続き（任意）").select_option(label="転入届")
    page.get_by_role("button", name="この日時で予約する").click()
    expect(page.get_by_role("status")).to_contain_text("予約しました")
    expect(page.locator("dd.when")).to_have_text(first_value.replace("T", " "))
    expect(page.locator("dl.booking")).to_contain_text("転入届")
    accessible(axe, page, "the booking")
    fits_the_screen(page)

    change_slots = page.locator("form[action$='/change'] input[name=slot]:not([disabled])")
    second = change_slots.nth(4)
    second_value = second.get_attribute("value") or ""
    assert second_value != first_value
    second.check()
    page.get_by_role("button", name="この日時に変更する").click()
    expect(page.get_by_role("status")).to_contain_text("予約を変更しました")
    expect(page.locator("dd.when")).to_have_text(second_value.replace("T", " "))

    page.get_by_role("link", name="マイページ").first.click()
    section = page.locator("#reservations")
    expect(section).to_contain_text(second_value.replace("T", " "))
    expect(section).to_contain_text("予約済み")
    accessible(axe, page, "my page with a booking")
    fits_the_screen(page)

    clerk.goto("/login?next=/staff/reservations/shimin-ido?day=" + second_value[:10])
    clerk.get_by_label("ユーザー名").fill(admin.name)
    clerk.get_by_label("パスワード").fill(ADMIN_PASSWORD)
    clerk.get_by_role("button", name="ログイン").click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("市民課 住民異動")
    entry = clerk.locator("ol.queue > li")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(second_value[11:])
    accessible(axe, clerk, "the day's queue")
    fits_the_screen(clerk)
    entry.get_by_role("button", name="来庁 :").click()
    expect(clerk.locator("ol.queue > li .status")).to_have_text("来庁・お待ちください")
    accessible(axe, clerk, "the queue after an arrival")

    page.reload()
    expect(page.locator("#reservations")).to_contain_text("来庁・お待ちください")
