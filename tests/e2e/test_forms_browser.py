"""Online forms in a real browser on a phone-sized screen, checked with axe-core: a resident
with a profile opens the 転入届 form, finds the known fields prefilled and marked, meets a
clear message for a wrong マイナンバー, files it, downloads the PDF and sees it on my page;
staff then move it along to 完了 and the resident sees that."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from cityos.core.models import User
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import field, fits_the_screen, sign_up_with_profile

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


def test_a_resident_files_a_prefilled_form_and_staff_complete_it(
    phone: Page, axe_check: Check, browser: Browser, live_server: LiveServer, staff_user: User
) -> None:
    page = phone
    sign_up_with_profile(page)

    page.goto("/forms")
    axe_check(page, "the list of forms")
    page.get_by_role("link", name="転入届 事前入力", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("転入届 事前入力")
    expect(field(page, "氏名")).to_have_value("三鷹 花子")
    expect(field(page, "フリガナ")).to_have_value("ミタカ ハナコ")
    expect(page.locator("#name-prefilled")).to_have_text("✔ 登録済みの情報から入力しました")
    expect(page.locator(".prefilled-mark")).to_have_count(4)
    axe_check(page, "the prefilled form")
    fits_the_screen(page)

    new_address = field(page, "新しい住所")
    new_address.fill("")
    field(page, "新しい住所の郵便番号").fill("181-8555")
    field(page, "新しい住所の郵便番号").blur()
    expect(new_address).to_have_value("東京都三鷹市野崎一丁目")  # looked up from the postcode
    new_address.fill("東京都三鷹市野崎1-1-1")
    field(page, "前の住所").fill("東京都武蔵野市緑町2-2-28")
    field(page, "引っ越した日").fill("令和8年4月1日")
    field(page, "電話番号").fill("0422-45-1151")
    field(page, "個人番号（マイナンバー）").fill("123456789010")
    page.get_by_label("はい（転入届の特例）").check()
    page.get_by_role("button", name="申請する").click()
    expect(page.locator("#my_number-error")).to_contain_text("個人番号が正しくありません")
    axe_check(page, "the form with an error")
    field(page, "個人番号（マイナンバー）").fill("1234 5678 9018")
    page.get_by_role("button", name="申請する").click()

    expect(page.get_by_role("status")).to_contain_text("申請を受け付けました")
    expect(page.locator("dl.values")).to_contain_text("●●●●●●●●9018")
    axe_check(page, "the application")
    fits_the_screen(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="印刷用PDFをダウンロード").click()
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    assert "三鷹市野崎一丁目1-1" in pdf.pages[0].extract_text()

    page.goto("/my")
    expect(page.locator("#applications + ul")).to_contain_text("転入届 事前入力")
    expect(page.locator("#applications + ul")).to_contain_text("受付")

    staff = browser.new_context(base_url=live_server.url, locale="ja-JP").new_page()
    staff.goto("/staff/forms")
    staff.get_by_label("ユーザー名").fill(staff_user.name)
    staff.get_by_label("パスワード").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name="ログイン").click()
    staff.get_by_label("担当課").select_option("市民課")
    staff.get_by_role("button", name="絞り込む").click()
    axe_check(staff, "the staff inbox")
    staff.locator("table a").first.click()
    staff.get_by_label("審査中").check()
    staff.get_by_label("申請者へのコメント").fill("窓口で本人確認書類をお見せください")
    staff.get_by_role("button", name="保存する").click()
    expect(staff.get_by_role("status")).to_contain_text("保存しました")
    staff.get_by_label("完了").check()
    staff.get_by_role("button", name="保存する").click()
    expect(staff.locator("strong.status")).to_have_text("完了")
    axe_check(staff, "a submission for staff")
    staff.context.close()

    page.goto("/my")
    expect(page.locator("#applications + ul")).to_contain_text("完了")
    page.get_by_role("link", name="転入届 事前入力", exact=True).click()
    expect(page.locator("ol.history")).to_contain_text("窓口で本人確認書類をお見せください")


def test_a_resident_switches_a_form_to_easy_japanese(phone: Page, axe_check: Check) -> None:
    page = phone
    page.goto("/residents/signup")
    page.get_by_label("メールアドレス").fill("jiro@example.jp")
    page.get_by_label("パスワード").fill("mitaka-jiro-2026")
    page.get_by_role("button", name="アカウントを作る").click()
    page.goto("/forms/juminhyo-request")
    expect(page.get_by_role("heading", level=1)).to_have_text("住民票の写し等交付請求書")
    page.get_by_role("link", name="やさしい にほんご").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("じゅうみんひょうを たのむ")
    expect(field(page, "たのむ ひとの なまえ")).to_be_visible()
    expect(page.get_by_text("カタカナで かいて")).to_have_count(0)  # no help on this field
    axe_check(page, "the form in easy Japanese")
    fits_the_screen(page)
    field(page, "たのむ ひとの なまえ").fill("三鷹 次郎")
    field(page, "なまえ（カタカナ）").fill("Jiro")
    page.get_by_role("button", name="もうしこむ").click()
    # Told next to the field in easy Japanese, and the page stays in easy Japanese.
    expect(page.locator("#kana-error")).to_have_text("カタカナ か ひらがなで かいて ください")
    expect(page.locator("#birth_date-error")).to_have_text("かならず かいて ください")
    expect(field(page, "なまえ（カタカナ）")).to_have_value("Jiro")
    axe_check(page, "the easy form with errors")
    fits_the_screen(page)
    page.get_by_role("navigation", name="ことば").get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Request for a copy of the residence record"
    )
