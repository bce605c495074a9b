"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against the live server.

One browser per test session, a fresh context (cookies, storage) per test. Browser tests need
only SQLite: the pages are the same whatever the database, and the API tests cover PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database
from cityos.opendata.demo import load_demo
from tests.conftest import ADMIN_PASSWORD, LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
# WCAG 2.1 level A and AA: what JIS X 8341-3:2016 asks of public-sector sites.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, locale="ja-JP", accept_downloads=True
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab; a script error on any page it shows fails the test (a map that never draws...)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"script errors on the pages: {errors}"


@pytest.fixture
def demo(app: FastAPI, live_server: LiveServer, admin: User) -> list[str]:
    """The real demo catalog, loaded through the service as `cityos demo` does."""
    db: Database = app.state.db
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        return load_demo(session, user, app.state.files, site_url=live_server.url)


@pytest.fixture
def staff_user(db: Database) -> User:
    with db.session() as session:
        return auth.create_user(
            session, "yamada.t", "staff", ADMIN_PASSWORD, display_name="山田 太郎"
        )


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def axe_violations(axe: Axe, page: Page) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page as it is now; the violations found."""
    results = axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return "\n".join(lines)


@pytest.fixture
def check_accessibility(axe: Axe, page: Page) -> Any:
    """Call with the page loaded: fails the test with every WCAG 2.1 A/AA violation axe finds."""

    def check(what: str = "") -> None:
        page.wait_for_load_state("load")
        violations = axe_violations(axe, page)
        assert not violations, f"axe found violations on {what or page.url}:\n" + describe(
            violations
        )

    return check


# The phone every resident-facing browser test uses, and what it checks on each page.
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def axe_check(axe: Axe) -> Callable[[Page, str], None]:
    """Fails the test with axe's findings when a page has accessibility violations."""

    def check(page: Page, what: str) -> None:
        page.wait_for_load_state("load")
        violations = axe_violations(axe, page)
        assert not violations, f"axe found violations on {what}:\n" + describe(violations)

    return check


def resize(page: Page, width: int) -> None:
    """Give the page a new width and wait until its layout has it (a busy renderer applies a
    resize a frame later, and a width read before then is the old layout's)."""
    page.set_viewport_size({"width": width, "height": PHONE["height"]})
    page.wait_for_function("(w) => document.documentElement.clientWidth === w", arg=width)


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone, also at 200% zoom (a 360 px screen then shows 180 CSS px)."""
    for width in (PHONE["width"], PHONE["width"] // 2):
        resize(page, width)
        used = page.evaluate("document.documentElement.scrollWidth")
        assert used <= width, f"{page.url} is {used}px wide on a {width}px wide screen"
    page.set_viewport_size(PHONE)


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A 360x740 phone (downloads allowed); a script error on any page fails the test."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ja-JP", is_mobile=True,
        has_touch=True, accept_downloads=True,
    )  # fmt: skip
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the pages: {errors}"


def field(page: Page, label: str) -> Locator:
    """A form field by its label, with or without the （必須） (easy: （かならず かく）) mark."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\s*(（必須）|（かならず かく）)?$"))


def sign_up_with_profile(page: Page) -> None:
    """A resident signs up (hanako@example.jp) and fills in the profile forms prefill from."""
    page.goto("/residents/signup")
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("パスワード").fill("mitaka-hanako-2026")
    page.get_by_role("button", name="アカウントを作る").click()
    page.goto("/my/profile")
    page.get_by_label("氏名", exact=True).fill("三鷹 花子")
    page.get_by_label("フリガナ", exact=True).fill("みたか はなこ")
    page.get_by_label("生年月日", exact=True).fill("昭和60年4月1日")
    page.get_by_label("住所", exact=True).fill("東京都三鷹市下連雀3-22-14")
    page.get_by_role("button", name="プロフィールを保存").click()
