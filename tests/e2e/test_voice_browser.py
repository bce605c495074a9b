"""The citizens' voice in a real browser (Chromium through Playwright), each page checked
with axe-core against WCAG 2.1 A/AA: a resident on a phone-sized screen posts an opinion with
a phone number in it, staff see it masked in the moderation queue and publish it, and the
analysis page shows the demo's topics and sentiment."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from cityos.core.models import User
from cityos.voice import demo
from tests.e2e.test_portal_browser import log_in

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


@pytest.fixture
def voice_demo(app: FastAPI, admin: User) -> demo.DemoReport:
    with app.state.db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        return demo.load_demo(session, user)


def test_a_resident_posts_an_opinion_staff_publish_it_masked_and_see_the_analysis(
    page: Page, voice_demo: demo.DemoReport, staff_user: User, check_accessibility: Check
) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto("/voice")
    check_accessibility("consultation list")
    page.get_by_role("link", name=re.compile("公園・緑と暮らし")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("公園・緑と暮らし")
    expect(page.get_by_text("サンプル（デモ用）").first).to_be_visible()
    check_accessibility("open consultation on a phone")
    written = "ドッグランを作ってほしいです。相談は090-1234-5678までお電話ください。"
    page.get_by_label("ご意見（必須）").fill(written)
    page.get_by_label("お名前・ニックネーム（任意・公開されます）").fill("いぬ好き")
    page.get_by_label("お住まいの町（任意）").select_option("井の頭")
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ご意見を受け付けました")
    expect(page.locator("blockquote")).to_have_text(
        "ドッグランを作ってほしいです。相談は●●●までお電話ください。"
    )
    check_accessibility("thank-you page")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/staff/voice/moderation")
    log_in(page, "yamada.t")
    expect(page.get_by_role("heading", level=1)).to_have_text("ご意見の確認")
    mine = page.locator("article.voice-opinion", has_text="ドッグラン")
    expect(mine.locator(".voice-masked")).to_have_text(
        "ドッグランを作ってほしいです。相談は●●●までお電話ください。"
    )
    expect(mine.locator(".voice-findings")).to_contain_text("電話番号")
    check_accessibility("moderation queue")
    mine.get_by_label("理由（必須）").fill("電話番号を伏せて公開")
    mine.get_by_role("button", name=re.compile("伏せ字のまま公開")).click()
    expect(page.get_by_role("status")).to_contain_text("を処理しました")
    expect(page.locator("article.voice-opinion", has_text="ドッグラン")).to_have_count(0)

    page.goto("/voice")
    page.get_by_role("link", name=re.compile("公園・緑と暮らし")).click()
    published = page.locator("article.voice-opinion", has_text="ドッグラン")
    expect(published).to_contain_text("相談は●●●までお電話ください")
    expect(published).not_to_contain_text("090")
    expect(published).to_contain_text("いぬ好き")

    page.goto("/staff/voice")
    expect(page.get_by_role("heading", level=1)).to_have_text("市民の声の分析")
    topics = page.locator("li.voice-topic")
    expect(topics.first).to_be_visible()
    assert topics.count() >= 5
    expect(topics.first.locator("svg")).to_be_visible()
    expect(topics.first.locator(".voice-quotes li").first).to_be_visible()
    expect(page.locator("#sent-all")).to_contain_text("肯定的")
    expect(page.locator("#sent-all")).to_contain_text("否定的")
    check_accessibility("analysis page")
    page.get_by_label("種別").select_option("inquiry")
    page.get_by_role("button", name="表示").click()
    expect(page).to_have_url(re.compile(r"source=inquiry"))
    expect(page.locator("#overall")).to_contain_text(f"{voice_demo.inquiries} 件")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVで書き出す").click()
    data = download.value.path().read_bytes()
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").count("\r\n") == voice_demo.inquiries + 2
