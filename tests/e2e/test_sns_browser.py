"""The SNS triage pages in a real browser (Chromium through Playwright), each checked with
axe-core against WCAG 2.1 A/AA: the live queue with its map and marks, the area summaries
with the map coloured by need, and questions answered with evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from cityos.core.models import User
from cityos.db import utcnow
from cityos.sns import demo, gazetteer, service
from tests.e2e.test_portal_browser import log_in

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


@pytest.fixture
def flood_posts(app: FastAPI) -> None:
    """The flood demo's residents' posts, replayed over the last 90 minutes."""
    with app.state.db.session() as session:
        demo.replay_flood(session, utcnow() - timedelta(minutes=90), 90, secret="test", stamp="e2e")


def test_staff_work_the_live_queue_and_pass_a_rescue_to_the_fire_service(
    page: Page, app: FastAPI, flood_posts: None, staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/staff/sns?refresh=2")
    log_in(page, "yamada.t")
    expect(page).to_have_url(re.compile(r"/staff/sns\?refresh=2$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("SNS投稿の分類")
    check_accessibility("triage queue")
    posts = page.locator("article.sns-post")
    expect(posts.first).to_have_attribute("data-urgency", "high")
    expect(posts.first).to_have_attribute("data-category", "rescue_request")
    expect(page.locator("#sns-map")).to_have_attribute("data-ready", re.compile(r"^[1-9]\d*$"))
    relayed = posts.filter(has_text="80代の母")
    expect(relayed.locator(".copies")).to_have_text("×3")
    relayed.get_by_text("判定の理由").click()
    expect(relayed.locator(".why li").first).to_be_visible()
    expect(relayed.locator(".why")).to_contain_text("rescue_request")

    # A new call for rescue arrives while the page is open: the queue shows it by itself.
    with app.state.db.session() as session:
        service.ingest(
            session,
            [
                b'{"id": "late-1", "text": "\\u52a9\\u3051\\u3066 \\u5927\\u6ca2\\u56db\\u4e01\\u76ee\\u3067\\u5c4b\\u6839\\u306e\\u4e0a\\u306b\\u3044\\u307e\\u3059"}'
            ],
            gazetteer.gazetteer_from(session),
            secret="test",
            source="api",
        )
    expect(posts.filter(has_text="屋根の上にいます")).to_have_count(1, timeout=15_000)

    relayed.get_by_label("メモ").fill("三鷹消防署へ電話済み")
    relayed.get_by_role("button", name="消防へ連絡済み").click()
    expect(page.locator("article.sns-post", has_text="80代の母")).to_have_count(0)

    page.get_by_label("対応状況").select_option("fire_service")
    page.get_by_role("button", name="絞り込む").click()
    passed = page.locator("article.sns-post", has_text="80代の母")
    expect(passed.locator(".marked")).to_contain_text("消防へ連絡済み — yamada.t")
    check_accessibility("queue filtered to posts passed to the fire service")

    page.get_by_label("対応状況").select_option("open")
    page.get_by_label("分類").select_option("supplies_need")
    page.get_by_role("button", name="絞り込む").click()
    categories = page.locator("article.sns-post").evaluate_all(
        "nodes => nodes.map(n => n.dataset.category)"
    )
    assert categories
    assert set(categories) == {"supplies_need"}
    with page.expect_download() as download:
        page.get_by_role("link", name="消防向けCSVを出力").click()
    body = download.value.path().read_bytes().decode("utf-8-sig")
    assert body.splitlines()[1].startswith("投稿ID,投稿日時,分類")
    assert "物資の不足" in body


def test_area_summaries_and_questions(
    page: Page, flood_posts: None, staff_user: User, check_accessibility: Check
) -> None:
    page.goto("/login?next=/staff/sns/summaries?hours=3")
    log_in(page, "yamada.t")
    expect(page.get_by_role("heading", level=1)).to_have_text("地域ごとの要約")
    check_accessibility("area summaries")
    expect(page.locator("#sns-map")).to_have_attribute("data-ready", re.compile(r"^[1-9]\d*$"))
    first = page.locator("section.sns-area").first
    expect(first.get_by_role("heading", level=2)).to_contain_text("大沢")
    expect(first.locator(".summary")).to_contain_text("大沢：救助要請")
    expect(first).to_have_class(re.compile("level-3"))

    page.get_by_role("link", name="投稿に質問する").click()
    page.get_by_role("link", name="大沢で何が不足している？").click()
    expect(page.locator("#answer")).to_contain_text("ミルク")
    check_accessibility("question answered")
    expect(page.locator("article.sns-post").first).to_be_visible()
    page.get_by_label("質問").fill("停電しているのはどこ？")
    page.get_by_role("button", name="質問する").click()
    expect(page.locator("#answer")).to_contain_text("停電の報告がある地域")
    expect(page.locator("#answer")).to_contain_text("大沢")
