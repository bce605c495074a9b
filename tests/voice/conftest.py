"""Voice fixtures: consultations made through the service, as staff make them on the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.voice import service


@pytest.fixture
def make_consultation(db: Database, admin: User) -> Callable[..., int]:
    def make(title: str = "公園の使い方についての意見募集", *, open_days: int = 10,
             started_days: int = 5) -> int:  # fmt: skip
        now = utcnow()
        with db.session() as session:
            user = session.get(User, admin.id)
            assert user is not None
            consultation = service.create_consultation(
                session, user, title=title, description="公園のルールを見直します。",
                opens_at=now - timedelta(days=started_days),
                closes_at=now + timedelta(days=open_days),
            )  # fmt: skip
            return consultation.id

    return make
