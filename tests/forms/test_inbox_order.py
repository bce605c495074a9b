"""The staff inbox's order, through the real HTTP app on SQLite and PostgreSQL: by when an
application last came in (filed, or resubmitted after a 差戻し), newest first, so a corrected
application comes back to the top; its filters still give each application exactly once."""

from __future__ import annotations

import re

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from cityos.db import Database, alembic_config, current_heads, script_heads
from cityos.forms import pages as forms_pages
from cityos.forms.models import Submission, SubmissionEvent
from cityos.residents import service as residents
from cityos.residents.models import Resident
from tests.conftest import login
from tests.forms.conftest import VALID_MY_NUMBER, file_form, resident_with_profile
from tests.forms.test_resubmit import move, send_correction

JUMINHYO = {
    "phone": "0422-45-1151",
    "scope": "self",
    "copies": "1",
    "purpose": "勤務先への提出",
}
JIDO_TEATE = {
    "phone": "0422-45-1151",
    "my_number": VALID_MY_NUMBER,
    "child_name": "三鷹 太郎",
    "child_birth_date": "令和6年5月1日",
    "insurance": "kosei",
}


def filed(
    client: TestClient, form_id: str = "tennyu-pre", changes: dict[str, str] | None = None
) -> int:
    answer = file_form(client, form_id, changes)
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1].split("?", 1)[0])


def listed(staff: TestClient, **params: str) -> list[int]:
    """The application numbers in the staff inbox, top down."""
    page = staff.get("/staff/forms", params=params)
    assert page.status_code == 200
    return [int(n) for n in re.findall(r'href="/staff/forms/submissions/(\d+)"', page.text)]


def row(page: str, submission_id: int) -> str:
    return page.split(f'href="/staff/forms/submissions/{submission_id}"', 1)[1].split("</tr>")[0]


def returned_and_resubmitted(client: TestClient, app: object, submission_id: int) -> None:
    move(app, submission_id, "returned", "電話番号をご確認ください")
    answer = send_correction(client, submission_id, {"phone": "0422-29-9000"})
    assert answer.status_code == 303, answer.text


def test_a_resubmitted_application_comes_back_to_the_top_of_the_staff_inbox(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    a = filed(client)
    b = filed(client, "juminhyo-request", JUMINHYO)
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        assert listed(staff) == [b, a]  # newest first
        first = staff.get("/staff/forms").text
        assert "再提出" not in row(first, a)

    returned_and_resubmitted(client, app, a)

    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        assert listed(staff) == [a, b]
        assert listed(staff, status="received") == [a, b]
        assert listed(staff, department="市民課") == [a, b]
        page = staff.get("/staff/forms").text
        with db.session() as session:
            found = session.get(Submission, a)
            assert found is not None
            resubmitted = found.history[-1]
            assert resubmitted.idempotency_key is not None
            assert found.received_at == resubmitted.created_at
            assert found.received_at > found.created_at
        shown = row(page, a)
        # Said in words, not by colour only: the badge, and when it came in again.
        assert '<span class="badge warn">再提出</span>' in shown
        when = found.received_at.isoformat()
        assert f'再提出 <time datetime="{when}">' in shown
        assert "初回受付" in shown
        assert "再提出" not in row(page, b)
        english = staff.get("/staff/forms", params={"lang": "en"}).text
        assert "Resubmitted <time" in row(english, a)
        assert "First received" in row(english, a)


def test_the_filters_give_each_application_exactly_once_in_the_new_order(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    a = filed(client)  # 市民課
    b = filed(client, "jido-teate-nintei", JIDO_TEATE)  # 子育て支援課
    c = filed(client, "juminhyo-request", JUMINHYO)  # 市民課
    returned_and_resubmitted(client, app, a)
    move(app, c, "reviewing")

    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        everything = listed(staff)
        assert everything == [a, c, b]
        by_status = {
            s: listed(staff, status=s) for s in ("received", "reviewing", "done", "returned")
        }
        assert by_status == {"received": [a, b], "reviewing": [c], "done": [], "returned": []}
        by_department = {d: listed(staff, department=d) for d in ("市民課", "子育て支援課")}
        assert by_department == {"市民課": [a, c], "子育て支援課": [b]}
        for split in (by_status, by_department):
            together = [n for part in split.values() for n in part]
            assert sorted(together) == sorted(everything)  # each exactly once
        assert listed(staff, department="市民課", status="received") == [a]


def test_applications_received_at_the_same_moment_keep_a_stable_order_by_number(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    ids = [filed(client), filed(client, "juminhyo-request", JUMINHYO), filed(client)]
    with db.session() as session:
        moment = session.get(Submission, ids[0]).received_at  # type: ignore[union-attr]
        for found in session.scalars(select(Submission)):
            found.received_at = moment
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        assert listed(staff) == sorted(ids, reverse=True)
        assert listed(staff) == listed(staff)


def test_the_migration_fills_received_at_from_the_latest_resubmission_or_the_filing(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    a = filed(client)
    b = filed(client, "juminhyo-request", JUMINHYO)
    returned_and_resubmitted(client, app, a)
    with db.session() as session:
        created = {s.id: s.created_at for s in session.scalars(select(Submission))}
        resubmitted = session.scalars(
            select(SubmissionEvent.created_at).where(
                SubmissionEvent.submission_id == a, SubmissionEvent.idempotency_key.is_not(None)
            )
        ).one()
        history = session.scalar(select(func.count()).select_from(SubmissionEvent))

    config = alembic_config(db.engine)
    command.downgrade(config, "0016_resident_services")
    assert "0016_resident_services" in current_heads(db.engine)
    with db.engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM form_submissions")).keys()
        assert "received_at" not in columns
    command.upgrade(config, "heads")
    assert current_heads(db.engine) == script_heads()

    with db.session() as session:
        again = {s.id: s.received_at for s in session.scalars(select(Submission))}
        # The history survives both ways (a SQLite table rebuild would cascade-delete it).
        assert session.scalar(select(func.count()).select_from(SubmissionEvent)) == history
    assert again == {a: resubmitted, b: created[b]}
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        assert listed(staff) == [a, b]


def test_downgrading_past_resident_services_keeps_applications_and_households(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    """Downgrades rebuild SQLite tables (batch mode); the rows that refer to them survive."""
    resident_with_profile(client)
    a = filed(client)
    returned_and_resubmitted(client, app, a)
    filed(client, "juminhyo-request", JUMINHYO)
    with db.session() as session:
        resident = session.scalars(select(Resident)).one()
        residents.add_member(
            session, resident, name="三鷹 陽太", kana="みたか ようた", relation="child",
            birth_date="令和3年6月3日",
        )  # fmt: skip

    def counts() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (
                    "form_submissions", "form_submission_events", "residents",
                    "resident_profiles", "resident_household_members",
                )
            }  # fmt: skip

    before = counts()
    assert min(before.values()) > 0
    config = alembic_config(db.engine)
    # Below 0016 (resident services): its downgrade rebuilds residents, form_submissions and
    # form_submission_events, and every later forms revision goes down with it.
    command.downgrade(config, "0010_forms")
    assert counts() == before
    command.upgrade(config, "heads")
    assert current_heads(db.engine) == script_heads()
    assert counts() == before
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        assert a in listed(staff)


def test_the_inbox_pages_through_every_application_keeping_the_filters(
    client: TestClient, admin: object, app: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms_pages, "INBOX_PAGE", 2)
    resident_with_profile(client)
    ids = [filed(client), filed(client, "juminhyo-request", JUMINHYO), filed(client)]
    filed(client, "jido-teate-nintei", JIDO_TEATE)  # 子育て支援課: filtered out below
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        first = staff.get("/staff/forms", params={"department": "市民課"})
        assert "3 件中 1〜2 件目" in first.text
        assert listed(staff, department="市民課") == sorted(ids, reverse=True)[:2]
        following = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert following is not None
        second = staff.get(following.group(1).replace("&amp;", "&"))
        assert "3 件中 3〜3 件目" in second.text
        assert 'rel="prev"' in second.text
        assert 'rel="next"' not in second.text
        assert listed(staff, department="市民課", page="2") == sorted(ids, reverse=True)[2:]
        assert listed(staff, department="市民課", page="9") == []
        assert staff.get("/staff/forms", params={"page": "0"}).status_code == 422
