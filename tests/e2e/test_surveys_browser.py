"""Surveys and push notices in a real browser on a 360x740 phone, checked with axe-core:
staff build a survey by clicking (a conditional question, reordering, preview) and publish it, a resident opens it from its URL (the QR code's), answers it (a
conditional question appears, a missing answer is told next to the question) and staff see
the tally change; a resident reads a survey in やさしい日本語; a resident who opted in on my page receives a targeted notice with the
reason, and stops that topic."""

from __future__ import annotations

import io
import json
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
from cityos.surveys import service as surveys
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


def add_question(staff: Page, kind: str, label: str, **fields: str) -> None:
    """Fill the builder's 「質問を追加」 form by clicking and typing, then add the question."""
    form = staff.locator("form[data-question-builder]")
    form.get_by_label(kind).check()
    form.get_by_label("質問文", exact=True).fill(label)
    for field_label, value in fields.items():
        target = form.get_by_label(field_label.replace("_", " "), exact=False)
        if field_label == "表示する条件":
            target.select_option(label=value)
        else:
            target.fill(value)
    form.get_by_role("button", name="質問を追加する").click()
    expect(staff.get_by_role("status")).to_contain_text("保存しました")


def test_staff_build_a_survey_by_clicking_and_a_resident_answers_it(
    new_phone: Callable[[], Page], axe_check: Check, admin: User
) -> None:
    staff = new_phone()
    staff.goto("/staff/surveys/new")
    staff_log_in(staff)
    staff.get_by_label("題名", exact=True).fill("公園の使い方アンケート")
    staff.get_by_label("題名（英語）").fill("How do you use the parks?")
    staff.get_by_label("題名（やさしい日本語）").fill("こうえんの アンケート")
    axe_check(staff, "the new survey page")
    fits_the_screen(staff)
    staff.get_by_role("button", name="作成して質問を追加する").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("アンケートを組み立てる")
    # Only the fields of the chosen kind are shown (the script); a choice question needs two.
    form = staff.locator("form[data-question-builder]")
    form.get_by_label("単一選択").check()
    expect(form.get_by_label("1 の言葉（例: 不満）")).to_be_hidden()
    form.get_by_label("質問文", exact=True).fill("公園をよく使いますか")
    form.get_by_label("選択肢（1行に1つ、2つ以上）").fill("はい / Yes")
    form.get_by_role("button", name="質問を追加する").click()
    expect(staff.locator("#new-choices-error")).to_contain_text("2〜30個")
    axe_check(staff, "the builder with an error next to the field")
    staff.locator("form[data-question-builder]").get_by_label("選択肢（1行に1つ、2つ以上）").fill(
        "はい / Yes\nいいえ / No"
    )
    staff.locator("form[data-question-builder]").get_by_label("回答を必須にする").check()
    staff.locator("form[data-question-builder]").get_by_role(
        "button", name="質問を追加する"
    ).click()
    expect(staff.get_by_role("status")).to_contain_text("保存しました")
    add_question(
        staff, "複数選択", "何に使いますか / What for?",
        **{"選択肢（1行に1つ、2つ以上）": "散歩 / Walks\n運動 / Exercise",
           "表示する条件": "この答えのときだけ: 1. 公園をよく使いますか → はい / Yes"},
    )  # fmt: skip
    add_question(
        staff, "段階評価", "満足度 / How satisfied are you?",
        **{"5 の言葉（例: 満足）": "満足", "5 の言葉（やさしい日本語）": "とても よい"},
    )  # fmt: skip
    staff.locator("#question-q3").get_by_label("回答を必須にする").check()
    staff.locator("#question-q3").get_by_role("button", name="保存").click()
    expect(staff.get_by_role("status")).to_contain_text("保存しました")
    add_question(staff, "自由記述", "ご意見 / Your opinion")
    # The free text goes up one place with the buttons; the conditional one cannot go above
    # the question it depends on.
    staff.locator("#question-q4").get_by_role("button", name="上へ").click()
    expect(staff.locator("ol.builder > li").nth(2)).to_have_id("question-q4")
    staff.locator("#question-q2").get_by_role("button", name="上へ").click()
    expect(staff.locator("#question-q2-error")).to_contain_text("そこへは動かせません")
    axe_check(staff, "the builder with four questions")
    fits_the_screen(staff)
    staff.get_by_role("link", name="プレビュー（住民が見る画面）").click()
    expect(staff.locator("#question-q2")).to_be_hidden()
    staff.get_by_label("はい / Yes").check()
    expect(staff.locator("#question-q2")).to_be_visible()
    axe_check(staff, "the preview")
    staff.get_by_role("link", name="組み立てに戻る").click()
    staff.get_by_role("button", name="公開する").click()
    url = staff.locator("#survey-url").inner_text()
    axe_check(staff, "the published survey's builder")
    survey_page = staff.url.split("?")[0].removesuffix("/edit")
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
    # A second resident says no: the follow-up question goes away again.
    other = new_phone()
    other.goto(urlsplit(url).path)
    other.get_by_label("はい / Yes").check()
    other.get_by_label("散歩 / Walks").check()
    other.get_by_label("いいえ / No").check()
    expect(other.locator("#question-q2")).to_be_hidden()
    other.locator('input[name="q3"][value="2"]').check()
    other.get_by_role("button", name="回答を送る").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("回答を受け付けました")

    staff.get_by_role("link", name="最新の集計に更新").click()
    expect(staff.locator("#total")).to_contain_text("回答数: 2")
    expect(staff.locator('table[data-question="q2"] tr', has_text="散歩 / Walks")).to_contain_text(
        "1"
    )
    expect(staff.locator('table[data-question="q1"] tr', has_text="いいえ / No")).to_contain_text(
        "1"
    )
    expect(staff.get_by_text("ベンチを増やしてほしい")).to_be_visible()
    fits_the_screen(staff)
    # In やさしい日本語 the survey has the easy title and the scale's easy word.
    other.goto(urlsplit(url).path + "?easy=1")
    expect(other.get_by_role("heading", level=1)).to_have_text("こうえんの アンケート")
    expect(other.get_by_label("5 (とても よい)")).to_be_visible()


def test_a_resident_switches_a_survey_to_easy_japanese(
    phone: Page, axe_check: Check, admin: User, db: Database
) -> None:
    questions = [
        {"id": "q1", "type": "single", "label": "公園をよく使いますか", "required": True,
         "label_easy": "こうえんに よく いきますか", "choices": ["はい", "いいえ"],
         "choices_easy": ["よく いく", "あまり いかない"]},
        {"id": "q2", "type": "text", "label": "ご意見"},
    ]  # fmt: skip
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        given = surveys.SurveyInput(
            title="公園の使い方アンケート", questions=json.dumps(questions, ensure_ascii=False)
        )
        survey = surveys.create_survey(session, user, given)
        surveys.set_published(session, user, survey, True)
        slug = survey.slug
    page = phone
    page.goto(f"/surveys/{slug}")
    expect(page.get_by_role("button", name="回答を送る")).to_be_visible()
    page.get_by_role("navigation", name="表示する言葉").get_by_role(
        "link", name="やさしい にほんご"
    ).click()
    expect(page.get_by_role("button", name="回答（かいとう）を おくる")).to_be_visible()
    expect(page.get_by_label("よく いく")).to_be_visible()
    expect(page.get_by_role("link", name="やさしい にほんご")).to_have_attribute(
        "aria-current", "true"
    )
    axe_check(page, "the survey in easy Japanese")
    fits_the_screen(page)
    page.get_by_role("button", name="回答（かいとう）を おくる").click()
    # Told next to the question in easy Japanese, and the page stays in easy Japanese.
    expect(page.locator("#q1-error")).to_have_text("この しつもんには かならず こたえて ください")
    axe_check(page, "the easy survey with a missing answer")
    page.get_by_label("よく いく").check()
    page.get_by_role("button", name="回答（かいとう）を おくる").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("回答（かいとう）を うけとりました")
    axe_check(page, "the thank-you page in easy Japanese")
    fits_the_screen(page)


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
