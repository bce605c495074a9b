"""Resident services in a real browser on a phone-sized screen, checked with axe-core: from the
手続きナビ checklist a resident applies online (the form prefilled, nothing asked twice), sees
what was filed on the checklist, and corrects and resubmits an application staff returned;
and confirms the e-mail address of the account, then changes it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cityos.core.models import User
from cityos.db import Database
from cityos.notify.models import Delivery, Subscription
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import field, fits_the_screen, sign_up_with_profile

pytestmark = pytest.mark.e2e

Check = Callable[..., None]
CHECKLIST = "/procedures/navi/checklist?event=move_in&age=35&household_ages=3&moving_from=japan"


def return_as_staff(browser: Browser, live_server: LiveServer, user: User, comment: str) -> None:
    staff = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    staff.goto("/staff/forms")
    staff.get_by_label("ユーザー名").fill(user.name)
    staff.get_by_label("パスワード").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name="ログイン").click()
    staff.get_by_role("link", name=re.compile(r"^\d+$")).last.click()  # the first one filed
    staff.get_by_label("差戻し").check()
    staff.get_by_label("申請者へのコメント").fill(comment)
    staff.get_by_role("button", name="保存する").click()
    expect(staff.locator("strong.status")).to_have_text("差戻し")
    staff.context.close()


def test_from_the_checklist_to_filed_applications_and_a_corrected_one(
    phone: Page, axe_check: Check, browser: Browser, live_server: LiveServer, staff_user: User
) -> None:
    page = phone
    sign_up_with_profile(page)

    page.goto(CHECKLIST)
    tennyu = page.get_by_role("link", name=re.compile("^オンラインで申請 ?: 転入届"))
    expect(tennyu).to_be_visible()
    axe_check(page, "the checklist with online forms")
    fits_the_screen(page)
    tennyu.click()
    expect(page.locator("#name-prefilled")).to_have_text("✔ 登録済みの情報から入力しました")
    field(page, "新しい住所の郵便番号").fill("181-8555")
    field(page, "新しい住所").fill("東京都三鷹市野崎1-1-1")
    field(page, "前の住所").fill("東京都武蔵野市緑町2-2-28")
    field(page, "引っ越した日").fill("令和8年4月1日")
    field(page, "電話番号").fill("0422-45-1151")
    page.get_by_label("はい（転入届の特例）").check()
    page.get_by_role("button", name="申請する").click()
    expect(page.get_by_role("status")).to_contain_text("申請を受け付けました")

    page.get_by_role("link", name="手続きチェックリストに戻る").click()
    expect(page.locator("#item-tennyu .filed")).to_contain_text("申請済み")
    expect(page.locator("#item-tennyu .filed")).to_contain_text("受付")
    axe_check(page, "the checklist with a filed item")
    page.get_by_role("link", name=re.compile("^オンラインで申請 ?: 児童手当")).click()
    expect(field(page, "電話番号")).to_have_value("0422-45-1151")  # not asked twice
    expect(page.locator("#phone-prefilled")).to_have_text("✔ この手続きで入力済み")
    axe_check(page, "a form prefilled from the checklist")
    fits_the_screen(page)

    return_as_staff(browser, live_server, staff_user, "電話番号がつながりませんでした")
    page.goto("/my")
    page.get_by_role("link", name="転入届 事前入力", exact=True).click()
    expect(page.locator(".return-reason")).to_contain_text("電話番号がつながりませんでした")
    axe_check(page, "a returned application")
    page.get_by_role("link", name="修正して再提出する").click()
    expect(field(page, "電話番号")).to_have_value("0422-45-1151")
    axe_check(page, "the correction page")
    fits_the_screen(page)
    field(page, "電話番号").fill("0422-29-9000")
    page.get_by_role("button", name="再提出する").click()
    expect(page.get_by_role("status")).to_contain_text("再提出しました")
    expect(page.locator("strong.status")).to_have_text("受付")
    expect(page.locator("dl.values")).to_contain_text("0422-29-9000")
    expect(page.locator("ol.history")).to_contain_text("電話番号がつながりませんでした")


def queued_link(db: Database, address: str) -> str:
    """The confirmation link in the e-mail notify queued for ``address`` (its newest)."""
    with db.session() as session:
        bodies = session.scalars(
            select(Delivery.payload)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Subscription.address == address, Delivery.kind == "direct")
            .order_by(Delivery.created_at)
        ).all()
    found = re.search(r"https?://[^/\s]+(/residents/confirm/\S+)", bodies[-1]["body"])
    assert found
    return found.group(1)


def test_a_resident_confirms_the_address_and_changes_it(
    phone: Page, axe_check: Check, db: Database
) -> None:
    page = phone
    sign_up_with_profile(page)
    page.goto("/my")
    banner = page.locator(".email-banner")
    expect(banner).to_contain_text("メールアドレスを確認してください")
    axe_check(page, "my page with the confirmation banner")
    fits_the_screen(page)
    banner.get_by_role("button", name="確認メールを送り直す").click()
    expect(page.locator(".email-banner [role=alert]")).to_contain_text("秒後にもう一度")

    page.goto(queued_link(db, "hanako@example.jp"))
    expect(page.get_by_role("heading", level=1)).to_have_text("メールアドレスを確認しました")
    axe_check(page, "the confirmed page")
    page.get_by_role("link", name="マイページへ").click()
    expect(page.locator(".email-banner")).to_have_count(0)

    page.goto("/residents/confirm/broken-link")
    expect(page.get_by_role("heading", level=1)).to_have_text("確認リンクが使えません")
    axe_check(page, "a broken confirmation link")

    page.goto("/my/profile")
    page.get_by_label("新しいメールアドレス").fill("hanako.new@example.jp")
    page.get_by_label("今のパスワード").fill("mitaka-hanako-2026")
    page.get_by_role("button", name="メールアドレスを変更").click()
    expect(page.get_by_role("status")).to_contain_text("新しいアドレスに確認メールを送りました")
    expect(page.locator("#email").locator("..")).to_contain_text("hanako.new@example.jp")
    axe_check(page, "the profile with a new address waiting")
    fits_the_screen(page)
    page.goto(queued_link(db, "hanako.new@example.jp"))
    expect(page.get_by_role("status")).to_contain_text("hanako.new@example.jp")
