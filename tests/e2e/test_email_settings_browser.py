"""'E-mails you receive' in a real browser on a phone-sized screen, checked with axe-core: a
resident with a confirmed address stops one kind of e-mail and sees the saved message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cityos.db import Database
from cityos.residents import service as residents
from cityos.residents.models import Resident
from cityos.settings import Settings
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.e2e

Check = Callable[..., None]
EMAIL = "hanako@example.jp"


def test_a_resident_stops_one_kind_of_email(
    phone: Page, axe_check: Check, db: Database, settings: Settings
) -> None:
    page = phone
    page.goto("/residents/signup")
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_label("パスワード").fill("mitaka-hanako-2026")
    page.get_by_role("button", name="アカウントを作る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    with db.session() as session:  # as if the link in the confirmation e-mail was opened
        resident = session.scalars(select(Resident).where(Resident.email == EMAIL)).one()
        secret = settings.resolved_secret_key
        residents.confirm_email(
            session, secret, residents.confirmation_token(secret, resident, EMAIL)
        )

    page.goto("/my")
    page.get_by_role("link", name="受け取るメールを選ぶ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールの受け取り")
    group = page.get_by_role("group", name="受け取るメール")
    reminders = group.get_by_label("窓口のご予約の前日のお知らせメール")
    expect(reminders).to_be_checked()
    axe_check(page, "the e-mail settings")
    fits_the_screen(page)

    reminders.uncheck()
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました")
    expect(reminders).not_to_be_checked()
    expect(group.get_by_label("ご報告の状況のお知らせメール")).to_be_checked()
    axe_check(page, "the e-mail settings after saving")
