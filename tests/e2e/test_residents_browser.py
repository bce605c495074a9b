"""Resident services in a real browser on a phone-sized screen, checked with axe-core: a new
resident answers the moving-in questions, gets the checklist, signs up, saves it and finds it
on my page; then edits the profile and meets a clear message for a bad reading."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


def test_a_new_resident_gets_the_moving_in_checklist_and_keeps_it(
    phone: Page, axe_check: Check
) -> None:
    page = phone
    page.goto("/procedures/navi")
    expect(page.get_by_role("heading", level=1)).to_have_text("手続きナビ")
    axe_check(page, "the questions")
    fits_the_screen(page)

    page.get_by_role("button", name="チェックリストを作る").click()
    expect(page.get_by_role("alert").first).to_contain_text("入力内容に誤りがあります")
    expect(page.locator("#event-error")).to_contain_text("できごとを選んでください")

    page.get_by_label("転入（市外から引っ越してきた）").check()
    page.get_by_label("あなたの年齢").fill("34")
    page.get_by_label("一緒に住む家族の年齢").fill("33, 4")
    page.get_by_label("国民健康保険（国保）").check()
    page.get_by_role("button", name="チェックリストを作る").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("あなたの手続きチェックリスト")
    items = page.locator("ol.checklist > li h2")
    expect(items.first).to_have_text("転入届")
    names = items.all_inner_texts()
    assert len(names) == len(set(names))
    assert "児童手当" in names
    assert "子ども医療費助成（乳幼児・マル乳）" in names
    expect(page.locator("#item-jido_teate")).to_contain_text("オンラインでできます")
    axe_check(page, "the checklist")
    fits_the_screen(page)

    switch = page.locator("nav.switch")  # the checklist's own ja / en / やさしい日本語 switch
    switch.get_by_role("link", name="English").click()
    expect(items.first).to_have_text("Moving-in notification")
    switch.get_by_role("link", name="やさしい にほんご").click()
    expect(items.first).to_have_text("ひっこして きた ときの とどけ")
    axe_check(page, "the checklist in やさしい日本語")
    switch.get_by_role("link", name="日本語").click()
    expect(items.first).to_have_text("転入届")

    page.get_by_role("button", name="マイページに保存する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("住民アカウントの作成")
    expect(page.get_by_role("status")).to_contain_text("もう一度「マイページに保存する」")
    axe_check(page, "sign-up")
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("パスワード").fill("mitaka-hanako-2026")
    page.get_by_role("button", name="アカウントを作る").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("あなたの手続きチェックリスト")
    page.get_by_role("button", name="マイページに保存する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    expect(page.locator("#checklists + ul")).to_contain_text("転入")
    expect(page.locator("#checklists + ul")).to_contain_text("転入届")
    expect(page.get_by_role("heading", name="窓口の予約")).to_be_visible()
    axe_check(page, "my page")
    fits_the_screen(page)

    page.get_by_role("link", name="プロフィールと世帯").click()
    page.get_by_label("氏名", exact=True).fill("三鷹 花子")
    page.get_by_label("フリガナ", exact=True).fill("Mitaka Hanako")
    page.get_by_label("生年月日", exact=True).fill("昭和60年4月1日")
    page.get_by_role("button", name="プロフィールを保存").click()
    expect(page.locator("#kana-error")).to_contain_text("カタカナ")
    expect(page.get_by_label("フリガナ", exact=True)).to_have_attribute("aria-invalid", "true")
    axe_check(page, "the profile with an error")
    page.get_by_label("フリガナ", exact=True).fill("みたか はなこ")
    page.get_by_role("button", name="プロフィールを保存").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました")
    expect(page.get_by_label("フリガナ", exact=True)).to_have_value("ミタカ ハナコ")
    expect(page.get_by_label("生年月日", exact=True)).to_have_value("1985-04-01")
    fits_the_screen(page)
