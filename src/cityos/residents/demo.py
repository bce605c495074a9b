"""A resident account for the demo, so that the resident side (my page, pre-filled forms, the
life-event checklist, reservations) can be tried at once after ``make run``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.db import utcnow
from cityos.residents import service
from cityos.residents.models import Resident

# example.jp is reserved for documentation (RFC 6761 / JPRS): no mail ever reaches anyone.
EMAIL = "demo.resident@example.jp"
PROFILE = service.ProfileInput(
    name="三鷹 花子", kana="みたか はなこ", birth_date="1988-04-12", address="東京都三鷹市野崎1-1-1"
)
CHILD = {
    "name": "三鷹 陽太",
    "kana": "みたか ようた",
    "relation": "child",
    "birth_date": "2021-06-03",
}


@dataclass(frozen=True)
class DemoResident:
    email: str
    password: str  # "" when the account was already there (its password is not changed)


def load_demo_resident(session: Session, *, city: str) -> DemoResident:
    """The demo resident (confirmed e-mail address, a profile in the city, a child), created
    with a new random password unless it is there already."""
    if session.scalar(select(Resident.id).where(Resident.email == EMAIL)) is not None:
        return DemoResident(EMAIL, "")
    password = secrets.token_urlsafe(12)
    resident = service.sign_up(session, EMAIL, password)
    resident.email_confirmed_at = utcnow()
    service.update_profile(session, resident, PROFILE, prefer_city=city)
    service.add_member(session, resident, **CHILD)
    session.flush()
    return DemoResident(EMAIL, password)
