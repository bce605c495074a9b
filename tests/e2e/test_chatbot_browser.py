"""A resident opens the chatbot widget with the keyboard, asks in Japanese and English, and is
handed off when the FAQ has no answer; the page passes axe and fits a phone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from cityos.chatbot import service
from cityos.db import Database
from tests.chatbot.conftest import SMALL_FAQ
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, fits_the_screen

pytestmark = pytest.mark.e2e


def test_the_widget_answers_hands_off_and_is_accessible(
    page: Page, live_server: LiveServer, db: Database, axe_check: Callable[[Page, str], None]
) -> None:
    with db.session() as session:
        service.store_entries(session, service.read_faq_csv(SMALL_FAQ), None)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    launcher = page.get_by_role("link", name="AIチャットで質問")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="AIチャットで質問")
    expect(dialog).to_be_visible()
    field = page.get_by_label("質問（日本語・English）")
    expect(field).to_be_focused()
    page.keyboard.type("こんにちは")
    page.keyboard.press("Enter")
    log = page.get_by_role("log")
    expect(log).to_contain_text("質問してください")
    expect(log).to_contain_text("質問の例")
    expect(dialog.locator("p[lang=ja]", has_text="こんにちは。")).to_be_visible()
    page.keyboard.type("粗大ゴミってどう出すの")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("粗大ごみは事前申込制です。")
    expect(log).to_contain_text("ごみ対策課")
    page.keyboard.type("How do I get a residence certificate?")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("住民票の写しは市役所市民課の窓口")
    page.keyboard.type("明日の天気は？")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("お答えできませんでした")
    hand_off = dialog.get_by_role("button", name="職員に質問を送る")
    hand_off.focus()
    page.keyboard.press("Enter")
    expect(log).to_contain_text("職員に質問を送りました")
    axe_check(page, "the chatbot dialog")
    for width in (PHONE["width"], PHONE["width"] // 2):  # a phone, and at 200% zoom
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        box = dialog.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('dialog *')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= width, f"the dialog's content is {widest}px wide on {width}px"
    page.set_viewport_size(PHONE)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()


def test_the_chat_page_works_without_javascript(
    page: Page, live_server: LiveServer, db: Database, axe_check: Callable[[Page, str], None]
) -> None:
    with db.session() as session:
        service.store_entries(session, service.read_faq_csv(SMALL_FAQ), None)
    page.goto(f"{live_server.url}/chatbot")
    page.get_by_label("質問").fill("犬を飼い始めた")
    page.get_by_role("button", name="質問する").click()
    expect(page.locator("#answer")).to_contain_text("生後91日以上の犬は")
    axe_check(page, "the chat page")
    fits_the_screen(page)
