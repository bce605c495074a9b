"""The reports logic: staff status changes with public notes and the audit log, reporters'
contacts for staff only, numbers per category and town, api keys, RFC 3339 dates, likely
duplicates and merging, floods of identical reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.errors import ConflictProblem, NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.ratelimit import TooManyRequestsProblem
from cityos.db import Database
from cityos.reports import service
from cityos.reports.models import ServiceRequest

CITY = "三鷹市"
START = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def report(
    session: Session, code: str = "graffiti", *, town: str = "下連雀三丁目", days: float = 0
) -> ServiceRequest:
    return service.submit_request(
        session,
        service.NewRequest(
            service_code=code,
            address_id=town,
            email="hanako@example.jp",
            attributes={"symptom": ["off"]} if code == "streetlight" else {},
        ),
        city=CITY,
        submitted_via="tests",
        now=START + timedelta(days=days),
    )


def test_staff_move_a_request_through_its_statuses(db: Database, admin: User) -> None:
    with db.session() as session:
        request_id = report(session).id
    with db.session() as session:
        service.change_status(
            session,
            request_id,
            "in_progress",
            actor=admin,
            note="現地を確認します",
            department="生活環境課",
            expected_at=START + timedelta(days=7),
            now=START + timedelta(days=1),
        )
        done = service.change_status(
            session,
            request_id,
            "done",
            actor=admin,
            note="消去しました",
            now=START + timedelta(days=3),
        )
        assert (done.status, done.state) == ("closed", "done")
        assert done.closed_at == START + timedelta(days=3)
        assert done.status_notes == "消去しました"
    with db.session() as session:
        steps = service.history(session, request_id)
        assert [(s.from_state, s.to_state, s.note, s.by_name) for s in steps] == [
            ("", "received", "", ""),
            ("received", "in_progress", "現地を確認します", "admin"),
            ("in_progress", "done", "消去しました", "admin"),
        ]
        assert steps[1].department_ja == "生活環境課"
        entries = audit.recent(session, target_type="service_request", target_id=str(request_id))
        assert [e.summary for e in entries] == ["対応中 → 完了", "受付 → 対応中"]
        assert all(e.actor_name == "admin" for e in entries)
        # Reopened: open again, no longer closed.
        reopened = service.change_status(
            session, request_id, "in_progress", actor=admin, note="再発"
        )
        assert (reopened.status, reopened.closed_at) == ("open", None)


def test_status_changes_that_make_no_sense_are_refused(db: Database, admin: User) -> None:
    with db.session() as session:
        request_id = report(session).id
        with pytest.raises(ConflictProblem, match="受付"):
            service.change_status(session, request_id, "received", actor=admin)
        service.change_status(session, request_id, "declined", actor=admin, note="私有地のため")
        with pytest.raises(ConflictProblem, match="対応不可"):
            service.change_status(session, request_id, "done", actor=admin)
        with pytest.raises(ValidationProblem) as bad:
            service.change_status(session, request_id, "fixed", actor=admin, department="土木課")
        assert set(bad.value.errors) == {"status", "department"}
        with pytest.raises(NotFoundProblem):
            service.change_status(session, 99999, "done", actor=admin)
        # The same status with a note records the note.
        noted = service.change_status(
            session, request_id, "declined", actor=admin, note="所有者に連絡しました"
        )
        assert noted.status_notes == "所有者に連絡しました"
        assert len(service.history(session, request_id)) == 3


def test_reporter_contact_is_for_staff_and_every_read_is_audited(db: Database, admin: User) -> None:
    with db.session() as session:
        request_id = report(session).id
        contact = service.reporter_contact(session, request_id, actor=admin)
        assert contact["email"] == "hanako@example.jp"
        [entry] = audit.recent(session, target_type="service_request", target_id=str(request_id))
        assert entry.action == "reports.read_contact"
        assert entry.actor_name == "admin"


def test_numbers_per_category_and_town_with_median_days_to_close(db: Database, admin: User) -> None:
    with db.session() as session:
        closing = [
            report(session, "graffiti", town="下連雀三丁目"),
            report(session, "graffiti", town="下連雀三丁目", days=1),
            report(session, "streetlight", town="井口一丁目"),
        ]
        for request, days in zip(closing, (2, 5, 10), strict=True):
            service.change_status(
                session,
                request.id,
                "done",
                actor=admin,
                note="済",
                now=request.requested_at + timedelta(days=days),
            )
        report(session, "graffiti", town="井口一丁目")
        report(session, "other", town="大沢二丁目", days=200)
    with db.session() as session:
        numbers = service.numbers(session, end=START + timedelta(days=90))
    graffiti = numbers.by_service["graffiti"]
    assert (graffiti.open, graffiti.closed) == (1, 2)
    assert graffiti.median_days_to_close == 3.5
    assert numbers.by_service["streetlight"].median_days_to_close == 10
    assert (numbers.by_service["road_damage"].open, numbers.by_service["road_damage"].closed) == (
        0,
        0,
    )
    assert numbers.by_service["road_damage"].median_days_to_close is None
    assert {town: (t.open, t.closed) for town, t in numbers.by_town.items()} == {
        "下連雀三丁目": (0, 2),
        "井口一丁目": (1, 1),
    }
    assert (numbers.total.open, numbers.total.closed) == (1, 3)
    assert numbers.total.median_days_to_close == 5


def test_api_keys_are_stored_as_hashes_and_can_be_revoked(db: Database) -> None:
    with db.session() as session:
        key = service.issue_api_key(session, "mitaka-app", "dev@example.org")
        assert key.startswith("o311_")
    with db.session() as session:
        assert service.poster_for_key(session, key) == "key:mitaka-app"
        assert service.poster_for_key(session, key + "x") is None
        assert service.poster_for_key(session, "cityos_unknown") is None
        assert service.revoke_api_keys(session, ["mitaka-app"]) == 1
        assert service.poster_for_key(session, key) is None
    with db.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT key_hash FROM reports_api_keys").scalar()
        assert stored != key
        assert key not in str(stored)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-09-14T10:00:00+09:00", datetime(2026, 9, 14, 1, 0, tzinfo=UTC)),
        ("2026-09-14t01:00:00.123z", datetime(2026, 9, 14, 1, 0, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0000-01-01T00:00:00+09:00", datetime.min.replace(tzinfo=UTC)),
        ("9999-12-31T23:59:59-05:00", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_rfc3339_dates_are_read_and_extreme_ones_clamped(written: str, expected: datetime) -> None:
    assert service.parse_datetime(written, "start_date") == expected


@pytest.mark.parametrize(
    "written",
    ["2026-09-14", "2026-09-14T10:00", "2026-09-14 10:00:00Z", "2026-09-14T10:00:00",
     "2026-13-01T00:00:00Z", "2026-09-14T24:00:00Z", "2026-09-14T10:00:00+24:00",
     "2026-09-14T10:00:00Z\n"],
)  # fmt: skip
def test_other_dates_are_refused(written: str) -> None:
    with pytest.raises(ValidationProblem) as refused:
        service.parse_datetime(written, "end_date")
    assert list(refused.value.errors) == ["end_date"]


def at(session: Session, lat: float, lon: float, days: float, code: str = "graffiti") -> int:
    return service.submit_request(
        session,
        service.NewRequest(service_code=code, lat=str(lat), long=str(lon)),
        city=CITY,
        submitted_via="tests",
        now=START + timedelta(days=days),
    ).id


def test_likely_duplicates_are_the_same_kind_near_in_place_and_time_and_open(
    db: Database, admin: User
) -> None:
    lat, lon = 35.6830, 139.5597
    metre = 1 / 111_320
    with db.session() as session:
        kept = at(session, lat, lon, 0)
        near = at(session, lat + 40 * metre, lon, 3)  # 40 m, 3 days later
        too_far = at(session, lat + 60 * metre, lon, 1)  # 60 m
        too_late = at(session, lat, lon, 15)  # 15 days later
        other_kind = at(session, lat, lon, 1, "abandoned_bicycle")
        closed = at(session, lat, lon, 1)
        service.change_status(session, closed, "done", actor=admin)
        found = service.likely_duplicates(session, kept)
        assert [d.request.id for d in found] == [near]
        assert 39 < found[0].distance_m < 41
        assert found[0].days_apart == 3.0
        assert {too_far, too_late, other_kind}.isdisjoint(d.request.id for d in found)

        service.merge_into(session, near, kept, actor=admin)
        assert service.likely_duplicates(session, kept) == []
        with pytest.raises(ValidationProblem):
            service.merge_into(session, kept, kept, actor=admin)
        with pytest.raises(ConflictProblem):
            service.change_status(session, near, "in_progress", actor=admin)


def test_the_same_text_twice_from_one_client_is_a_flood_but_not_from_another(
    db: Database,
) -> None:
    def send(client: str, text: str, minutes: float) -> None:
        with db.session() as session:
            service.submit_request(
                session,
                service.NewRequest(
                    service_code="graffiti", lat="35.683", long="139.5597", description=text
                ),
                city=CITY,
                submitted_via="tests",
                client=client,
                now=START + timedelta(minutes=minutes),
            )

    send("a", "同じ落書き", 0)
    with pytest.raises(TooManyRequestsProblem) as refused:
        send("a", "同じ落書き", 10)
    assert int(refused.value.headers["Retry-After"]) == 50 * 60
    send("b", "同じ落書き", 10)  # another client
    send("a", "別の落書き", 11)  # another text
    send("a", "同じ落書き", 61)  # an hour later
    with db.session() as session:
        assert service.count_requests(session) == 4
