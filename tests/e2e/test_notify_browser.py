"""The notify pages in a real browser (Chromium through Playwright), checked with axe-core:
subscribing by e-mail, the settings page, browser notifications and the staff console."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cityos.core.models import User
from cityos.db import Database
from cityos.notify import links, service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, Subscription
from tests.conftest import ADMIN_PASSWORD, LiveServer, free_port

pytestmark = pytest.mark.e2e

Check = Callable[..., None]


@pytest.fixture(autouse=True)
def notify_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # No mail leaves: the relay is a closed loopback port (confirmations wait in the queue).
    monkeypatch.setenv("CITYOS_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_IN_APP", "false")


def visit(page: Page, check: Check, path: str) -> None:
    response = page.goto(path)
    assert response is not None, path
    assert response.ok, f"{path} answered {response.status}"
    check(path)


def test_a_resident_subscribes_by_email_and_changes_the_settings(
    page: Page, app: FastAPI, live_server: LiveServer, check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/notify")
    page.get_by_role("link", name="メールで受け取る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールでお知らせを受け取る")
    check_accessibility("subscribe page")

    page.get_by_label("メールアドレス").fill("hanako@")
    page.get_by_label("下連雀").check()
    page.get_by_role("button", name="確認メールを送る").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "メールアドレスの形式が正しくありません"
    )
    expect(page.get_by_label("メールアドレス")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("下連雀")).to_be_checked()
    check_accessibility("subscribe page with an error")

    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("防犯").check()
    page.get_by_role("button", name="確認メールを送る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("確認メールを送りました")
    check_accessibility("confirmation sent page")

    db: Database = app.state.db
    config = NotifyConfig.from_settings(app.state.settings)
    with db.session() as session:
        confirmation = session.scalars(select(Delivery).where(Delivery.kind == "confirm")).one()
        subscription_id = confirmation.subscription_id
    visit(page, check_accessibility, links.confirm_url("", config.secret_key, confirmation.id))
    page.get_by_role("button", name="登録を完了する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登録が完了しました")
    check_accessibility("confirmed page")

    # Links in e-mails and pages use the public URL (CITYOS_SITE_URL); follow its path here.
    href = page.get_by_role("link", name="配信設定").get_attribute("href")
    assert href is not None
    assert href.startswith("http://testserver/notify/manage/")
    page.goto(urlsplit(href).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("配信設定")
    check_accessibility("settings page")
    page.get_by_label("丁目で選ぶ（任意）").fill("野崎一丁目")
    page.get_by_label("English").check()
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_have_text("保存しました。")
    with db.session() as session:
        row = session.get(Subscription, subscription_id)
        assert row is not None
        assert (row.status, row.towns, row.topics, row.language) == (
            "active", ["下連雀", "野崎一丁目"], ["disaster", "crime"], "en",
        )  # fmt: skip
    page.get_by_role("button", name="配信を停止する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("配信を停止しました")
    check_accessibility("unsubscribed page")


def test_the_browser_notification_page_registers_its_service_worker(
    page: Page, live_server: LiveServer, check_accessibility: Check
) -> None:
    visit(page, check_accessibility, "/notify/push")
    expect(page.get_by_role("button", name="通知を受け取る")).to_be_enabled()
    # The worker installs and activates (its script parses and runs in Chromium).
    state = page.evaluate(
        """() => navigator.serviceWorker.register('/static/js/notify-sw.js').then(r => {
            const worker = r.installing || r.waiting || r.active;
            if (worker.state === 'activated') { return [r.scope, worker.state]; }
            return new Promise(resolve => worker.addEventListener('statechange', () => {
                if (worker.state === 'activated' || worker.state === 'redundant') {
                    resolve([r.scope, worker.state]);
                }
            }));
        })"""
    )
    assert state[0].endswith("/static/js/")
    assert state[1] == "activated"
    # Headless Chromium has no push service: the page says so instead of failing silently.
    page.get_by_label("大沢").check()
    page.get_by_role("button", name="通知を受け取る").click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile("許可されませんでした|設定できませんでした")
    )
    check_accessibility("push page with a message")
    visit(page, check_accessibility, "/notify/push?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get browser notifications")


def test_staff_send_a_notice_from_the_console(
    page: Page, app: FastAPI, live_server: LiveServer, check_accessibility: Check
) -> None:
    db: Database = app.state.db
    from cityos.core import auth

    with db.session() as session:
        auth.create_user(session, "sato.k", "staff", ADMIN_PASSWORD, display_name="佐藤")
        service.subscribe_email(session, "taro@example.jp", towns=["牟礼"])
    page.goto("/staff/notify")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("ユーザー名").fill("sato.k")
    page.get_by_label("パスワード").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お知らせの配信")
    check_accessibility("staff notify page")

    page.get_by_label("分野").first.select_option("disaster")
    page.get_by_label("牟礼").first.check()
    page.get_by_label("題名（日本語）").fill("給水所を開設しました")
    page.get_by_label("本文（日本語）").fill("牟礼地区公会堂で給水を行っています。")
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("status").first).to_contain_text("お知らせを登録しました")
    expect(page.get_by_role("link", name="給水所を開設しました")).to_be_visible()
    check_accessibility("staff notify page after sending")
    page.get_by_role("link", name="給水所を開設しました").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("給水所を開設しました")
    check_accessibility("notice page")
    with db.session() as session:
        user = session.scalars(select(User).where(User.name == "sato.k")).one()
        assert user.role == "staff"
