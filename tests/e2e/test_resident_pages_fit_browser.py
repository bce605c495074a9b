"""Every public page a resident opens first, on a phone and at 200% zoom, checked with axe.

The domains' own browser tests walk their journeys; this one sweeps their entry pages in all
three text modes (Japanese, English, やさしい日本語), so a wide search box or a long word on one of them cannot slip through."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser

from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, resize

pytestmark = pytest.mark.e2e

# What sticks out past the right edge, to name it in the failure.
WIDE_JS = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().left + e.scrollWidth > width || e.getBoundingClientRect().right > width)
  .slice(-3).map((e) => `${e.tagName}.${e.className} ${e.textContent.trim().slice(0, 30)}`)"""
ENTRY_PAGES = [
    "/",
    "/procedures",
    "/procedures?easy=1",
    "/procedures/navi",
    "/procedures/navi?easy=1",
    "/forms",
    "/reports",
    "/reports/new",
    "/voice",
    "/disaster",
    "/chatbot",
    "/reservations",
    "/sensors",
    "/notify",
]


def test_resident_entry_pages_fit_a_phone_at_200_percent_and_pass_axe(
    browser: Browser, live_server: LiveServer, axe_check: Callable[..., None]
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ja-JP", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    too_wide: list[str] = []
    try:
        for lang, path in [(lang, path) for lang in ("ja", "en") for path in ENTRY_PAGES]:
            # The language is remembered from ?lang=, as a resident's choice is.
            response = page.goto(path + ("&" if "?" in path else "?") + f"lang={lang}")
            assert response is not None, path
            assert response.status == 200, path
            axe_check(page, f"{path} ({lang})")
            for width in (PHONE["width"], PHONE["width"] // 2):
                resize(page, width)
                used = page.evaluate("document.documentElement.scrollWidth")
                if used > width:
                    culprits = page.evaluate(WIDE_JS, width)
                    too_wide.append(f"{path} ({lang}): {used}px on a {width}px screen {culprits}")
            page.set_viewport_size(PHONE)
    finally:
        context.close()
    assert not too_wide, "pages wider than the screen:\n" + "\n".join(too_wide)
