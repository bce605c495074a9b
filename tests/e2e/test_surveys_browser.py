"""Surveys and push notices in a real browser on a 360x740 phone, checked with axe-core:
staff publish a survey, a resident opens it from its URL (the QR code's), answers it (a
conditional question appears, a missing answer is told next to the question) and staff see
the tally change; a resident who opted in on my page receives a targeted notice with the
reason, and stops that topic."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import urlsplit

import pytest
import segno
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from cityos.core.models import User
from cityos.db import Database
from cityos.residents import service as residents
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.e2e.conftest import PHONE, fits_the_screen

pytestmark = pytest.mark.e2e

Check = Callable[[Page, str], None]
PASSWORD = "mitaka-hanako-2026"


@pytest.fixture
def new_phone(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """360x740 phones, one per person; a script error on any page fails the test."""
    contexts = []
    errors: list[str] = []

    def make() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE, locale="ja-JP", is_mobile=True,
            has_touch=True,
        )  # fmt: skip
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"script errors on the pages: {errors}"


def staff_log_in(page: Page) -> None:
    page.get_by_label("ユーザー名").fill("admin")
    page.get_by_label("パスワード").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def qr_modules_match(png: bytes, url: str) -> None:
    """The PNG is segno's QR code of ``url``, module for module (8 px each, border 4)."""
    code = segno.make(url, error="m", micro=False)
    image = Image.open(io.BytesIO(png)).convert("L")
    for row, line in enumerate(code.matrix):
        for col, dark in enumerate(line):
            assert (image.getpixel(((col + 4) * 8 + 4, (row + 4) * 8 + 4)) == 0) == bool(dark)


def test_a_resident_answers_a_survey_from_its_url_and_staff_see_the_tally(
    new_phone: Callable[[], Page], axe_check: Check, admin: User
) -> None:
    staff = new_phone()
    staff.goto("/staff/surveys/new")
    staff_log_in(staff)
    staff.get_by_label("題名").fill("公園の使い方アンケート")
    staff.get_by_role("button", name="保存").click()
    expect(staff.get_by_role("status")).to_contain_text("保存しました")
    staff.get_by_role("button", name="公開する").click()
    url = staff.locator("#survey-url").inner_text()
    axe_check(staff, "the survey's staff page")
    survey_page = staff.url.split("?")[0]
    qr_modules_match(staff.request.get(survey_page + "/qr.png").body(), url)
    assert url in staff.request.get(survey_page + "/qr.svg").text()
    staff.goto(survey_page + "/results")
    expect(staff.locator("#total")).to_contain_text("回答数: 0")
    axe_check(staff, "the results page")

    resident = new_phone()
    resident.goto(urlsplit(url).path)
    expect(resident.get_by_role("heading", level=1)).to_have_text("公園の使い方アンケート")
    follow_up = resident.locator("#question-q2")
    expect(follow_up).to_be_hidden()  # asked only of those who use the parks
    axe_check(resident, "the answer page")
    fits_the_screen(resident)
    resident.get_by_label("はい / Yes").check()
    expect(follow_up).to_be_visible()
    resident.get_by_label("散歩 / Walks").check()
    resident.get_by_label("ご意見 / Your opinion").fill("ベンチを増やしてほしい")
    resident.get_by_role("button", name="回答を送る").click()
    # The required scale was skipped: told next to the question, the other answers kept.
    expect(resident.locator("#q3-error")).to_contain_text("この質問は回答が必要です")
    expect(resident.get_by_label("散歩 / Walks")).to_be_checked()
    axe_check(resident, "the answer page with a missing answer")
    resident.locator('input[name="q3"][value="4"]').check()
    resident.get_by_role("button", name="回答を送る").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("回答を受け付けました")
    axe_check(resident, "the thank-you page")

    staff.get_by_role("link", name="最新の集計に更新").click()
    expect(staff.locator("#total")).to_contain_text("回答数: 1")
    expect(staff.locator('table[data-question="q2"] tr', has_text="散歩 / Walks")).to_contain_text(
        "1"
    )
    expect(staff.get_by_text("ベンチを増やしてほしい")).to_be_visible()
    fits_the_screen(staff)


def test_an_opted_in_resident_gets_a_targeted_notice_with_the_reason(
    new_phone: Callable[[], Page], axe_check: Check, admin: User, db: Database
) -> None:
    with db.session() as session:
        hanako = residents.sign_up(session, "hanako@example.jp", PASSWORD)
        given = residents.ProfileInput(
            name="三鷹 花子", kana="ミタカ ハナコ", birth_date="1990-04-01",
            address="東京都三鷹市下連雀3-22-14",
        )  # fmt: skip
        residents.update_profile(session, hanako, given, prefer_city="三鷹市")
        born = date(date.today().year - 3, 1, 1).isoformat()
        residents.add_member(
            session, hanako, name="三鷹 太郎", kana="", relation="child", birth_date=born
        )

    resident = new_phone()
    resident.goto("/residents/login?next=/my")
    resident.get_by_label("メールアドレス").fill("hanako@example.jp")
    resident.get_by_label("パスワード").fill(PASSWORD)
    resident.get_by_role("button", name="ログイン").click()
    resident.get_by_role("link", name="お知らせの受け取り設定").click()
    axe_check(resident, "the notice settings")
    fits_the_screen(resident)
    resident.get_by_label("お知らせを受け取る").check()
    resident.get_by_label("子どもの年齢").check()
    resident.get_by_label("住んでいる町").check()
    resident.get_by_label("子育て").check()
    resident.get_by_role("button", name="保存").click()
    expect(resident.get_by_role("status")).to_contain_text("保存しました")

    staff = new_phone()
    staff.goto("/staff/notices")
    staff_log_in(staff)
    staff.get_by_label("件名").fill("1歳6か月児健診のお知らせ")
    staff.get_by_label("本文").fill("下連雀の子育て家庭へ。健診日程のご案内です。")
    staff.get_by_label("町名（いずれか、読点区切り）").fill("下連雀")
    staff.get_by_label("子育て").check()
    staff.get_by_label("子どもの年齢（例: 0-5）").fill("0-5")
    staff.get_by_role("button", name="対象の人数を確認").click()
    expect(staff.locator("#audience")).to_contain_text("1 人")
    axe_check(staff, "the notice form with the audience")
    staff.get_by_role("button", name="この内容で送る").click()
    expect(staff.get_by_role("status")).to_contain_text("1 人に送りました")

    resident.goto("/my")
    notice = resident.locator(".notice-item", has_text="1歳6か月児健診のお知らせ")
    expect(notice).to_contain_text(
        "あなたが『子育て』を選んでいる、お子さんが3歳、お住まいが下連雀三丁目だから"
    )
    axe_check(resident, "my page with a notice")
    fits_the_screen(resident)
    notice.get_by_role("button", name="この分野のお知らせを止める").click()
    expect(resident.get_by_label("子育て")).not_to_be_checked()
    expect(resident.get_by_label("お知らせを受け取る")).to_be_checked()
