"""Staff handle reports: the inbox with filters, status changes with public notes and
before/after photos, departments, likely duplicates and merging, the reporter's e-mail on
each change (through notify and a real SMTP server), the numbers with a chart and a CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from cityos.core import audit, auth
from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from cityos.reports import service
from cityos.settings import Settings
from tests.conftest import ADMIN_PASSWORD, csrf_of, login
from tests.notify.conftest import SmtpServer
from tests.reports.conftest import (
    BASE,
    CITY_HALL,
    STATION,
    Open311Client,
    first_photo_path,
)
from tests.reports.photos import camera_jpeg, gps_of


def change(
    client: TestClient, number: str, status: str, note: str = "", photo: bytes | None = None,
    **fields: str,
) -> Any:  # fmt: skip
    page = client.get(f"/staff/reports/{number}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page.text), "status": status, "note": note, **fields}
    files = (
        {"media": ("after.jpg", photo, "image/jpeg")}
        if photo
        else {"media": ("", b"", "application/octet-stream")}
    )
    return client.post(
        f"/staff/reports/{number}/status", data=data, files=files, follow_redirects=False
    )


def test_staff_pages_need_a_login_and_the_permission(
    client: TestClient, db: Database, open311: Open311Client
) -> None:
    number = open311.report()["service_request_id"]
    for path in ("/staff/reports", f"/staff/reports/{number}", "/staff/reports/numbers"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    with db.session() as session:
        auth.create_user(session, "analyst.a", "analyst", ADMIN_PASSWORD)
    login(client, "analyst.a")
    assert client.get("/staff/reports").status_code == 403


def test_staff_move_a_report_through_its_statuses_with_notes_and_an_after_photo(
    staff_client: TestClient, open311: Open311Client, mail_settings: NotifyConfig,
    smtp_server: SmtpServer, db: Database,
) -> None:  # fmt: skip
    reporter = f"taro.{uuid.uuid4().hex[:8]}@example.jp"  # one SMTP server for the session
    entry = open311.report("road_damage", description="穴があります", email=reporter,
                           **{"attribute[size]": "medium"})  # fmt: skip
    number = entry["service_request_id"]
    inbox = staff_client.get("/staff/reports").text
    assert f'href="/staff/reports/{number}"' in inbox

    moved = change(staff_client, number, "in_progress", "明日補修します", department="道路管理課")
    assert moved.status_code == 303, moved.text
    done = change(staff_client, number, "done", "補修しました", photo=camera_jpeg(1200, 900))
    assert done.status_code == 303, done.text

    public = staff_client.get(f"/reports/{number}").text
    assert "完了" in public
    assert "明日補修します" in public
    assert "補修しました" in public
    assert "対応後" in public
    after = staff_client.get(first_photo_path(public))
    assert after.status_code == 200
    assert gps_of(after.content) == {}
    [read] = open311.read("requests/" + number)
    assert read["status"] == "closed"
    assert read["status_notes"] == "補修しました"

    # Who changed what is in the audit log, with the photo.
    with db.session() as session:
        actions = [e.action for e in audit.recent(session, target_type="service_request")]
    assert actions.count("reports.status") == 2
    assert "reports.read_contact" in actions  # the staff page shows the contact: audited

    # The reporter hears of both changes by e-mail.
    counts = notify.deliver_due(db, mail_settings)
    assert counts.sent == 2
    messages = smtp_server.messages(reporter)
    subjects = [str(m["subject"]) for m in messages]
    assert any("対応中" in s and number in s for s in subjects)
    [finished] = [m for m in messages if "完了" in str(m["subject"])]
    body = finished.get_content()
    assert "補修しました" in body
    assert f"/reports/{number}" in body
    assert "配信停止 / Unsubscribe" in body


def test_a_step_that_is_not_allowed_is_shown_as_an_error(
    staff_client: TestClient, open311: Open311Client
) -> None:
    number = open311.report()["service_request_id"]
    assert change(staff_client, number, "done").status_code == 303
    again = change(staff_client, number, "declined")
    assert again.status_code == 409
    assert "には変えられません" in again.text


def test_without_an_email_nobody_is_written_to(
    staff_client: TestClient, open311: Open311Client, mail_settings: NotifyConfig, db: Database
) -> None:
    number = open311.report()["service_request_id"]
    assert change(staff_client, number, "in_progress").status_code == 303
    assert notify.deliver_due(db, mail_settings).sent == 0


def test_the_inbox_filters_by_status_kind_town_department_and_period(
    staff_client: TestClient, open311: Open311Client, db: Database
) -> None:
    road = open311.report("road_damage", lat=STATION[0], long=STATION[1],
                          **{"attribute[size]": "large"})["service_request_id"]  # fmt: skip
    graffiti = open311.report("graffiti")["service_request_id"]
    change(staff_client, graffiti, "done")

    def ids(**params: str) -> set[str]:
        html = staff_client.get("/staff/reports", params=params).text
        return {n for n in (road, graffiti) if f'id="row-{n}"' in html}

    assert ids() == {road}  # open ones by default
    assert ids(state="") == {road, graffiti}
    assert ids(state="done") == {graffiti}
    assert ids(state="", service_code="graffiti") == {graffiti}
    assert ids(state="", department="道路管理課") == {road}
    with db.session() as session:
        town = service.get_request(session, road).town
    assert ids(state="", town=town) == {road}
    assert ids(state="", days="7") == {road, graffiti}
    bad = staff_client.get("/staff/reports", params={"state": "nonsense"})
    assert bad.status_code == 400
    assert "状態の指定が正しくありません" in bad.text


def test_likely_duplicates_are_suggested_and_merged_with_the_reporter_following(
    staff_client: TestClient, open311: Open311Client, mail_settings: NotifyConfig,
    smtp_server: SmtpServer, db: Database,
) -> None:  # fmt: skip
    kept = open311.report("graffiti", description="塀の落書き")["service_request_id"]
    # 20 m away, same kind: a duplicate; 300 m away or another kind: not.
    near = open311.report("graffiti", lat="35.68318", long=CITY_HALL[1],
                          description="塀に落書き", email="jiro@example.jp")["service_request_id"]  # fmt: skip
    far = open311.report("graffiti", lat="35.6857", long=CITY_HALL[1], description="別の落書き")
    other = open311.report("abandoned_bicycle", description="自転車")
    page = staff_client.get(f"/staff/reports/{kept}").text
    assert f'id="dup-{near}"' in page
    assert f'id="dup-{far["service_request_id"]}"' not in page
    assert f'id="dup-{other["service_request_id"]}"' not in page

    merged = staff_client.post(
        f"/staff/reports/{near}/merge",
        data={"csrf_token": csrf_of(page), "into": kept},
        follow_redirects=False,
    )
    assert merged.status_code == 303, merged.text
    [entry] = open311.read("requests/" + near)
    assert entry["status"] == "closed"
    assert f"{kept} 番" in entry["status_notes"]
    public = staff_client.get(f"/reports/{near}").text
    assert "統合済み" in public
    assert f'href="/reports/{kept}"' in public
    assert f'id="dup-{near}"' not in staff_client.get(f"/staff/reports/{kept}").text

    # The duplicate's reporter now hears about the kept report.
    notify.deliver_due(db, mail_settings)
    before = len(smtp_server.messages("jiro@example.jp"))
    change(staff_client, kept, "in_progress", "清掃を手配しました")
    notify.deliver_due(db, mail_settings)
    messages = smtp_server.messages("jiro@example.jp")
    assert len(messages) == before + 1
    assert f"{kept}" in str(messages[-1]["subject"])

    # A merged report cannot move any more, nor be merged again.
    again = staff_client.post(
        f"/staff/reports/{near}/merge",
        data={"csrf_token": csrf_of(page), "into": kept},
        follow_redirects=False,
    )
    assert again.status_code == 409


def test_numbers_page_chart_and_excel_safe_csv(
    staff_client: TestClient, open311: Open311Client, db: Database
) -> None:
    open311.report("graffiti", description='=HYPERLINK("http://evil")')
    closed = open311.report("graffiti", description="消えかけ")["service_request_id"]
    open311.report("road_damage", **{"attribute[size]": "small"})
    with db.session() as session:
        admin = session.scalars(__import__("sqlalchemy").select(User)).first()
        assert admin is not None
        service.change_status(
            session, closed, "done", actor=admin, now=utcnow() + timedelta(days=3)
        )
    page = staff_client.get("/staff/reports/numbers")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert 'role="img"' in page.text
    assert 'id="total-open">2<' in page.text
    assert 'id="total-closed">1<' in page.text
    assert 'id="total-median">3.0<' in page.text

    export = staff_client.get("/staff/reports/numbers.csv")
    assert export.status_code == 200
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["group", "code", "name"]
    assert rows[1][:3] == ["区分", "コード", "名称"]
    by_code = {r[1]: r for r in rows[2:] if r[0] == "service"}
    assert by_code["graffiti"][3:6] == ["1", "1", "2"]
    assert by_code["road_damage"][3:6] == ["1", "0", "1"]
    assert all(not cell.startswith("=") for row in rows for cell in row)

    # A report from 40 days ago counts in "all", not in the last 30 days.
    with db.session() as session:
        service.submit_request(
            session,
            service.NewRequest(service_code="graffiti", lat=CITY_HALL[0], long=CITY_HALL[1]),
            city="三鷹市",
            submitted_via="test",
            now=utcnow() - timedelta(days=40),
        )
    assert 'id="total-open">3<' in staff_client.get("/staff/reports/numbers").text
    assert 'id="total-open">2<' in staff_client.get("/staff/reports/numbers?days=30").text
    recent = staff_client.get("/staff/reports/numbers.csv?days=30").content.decode("utf-8-sig")
    [total] = [r for r in csv.reader(io.StringIO(recent)) if r[0] == "total"]
    assert total[3:6] == ["2", "1", "3"]


def test_staff_json_routes_with_a_token(
    client: TestClient, open311: Open311Client, auth_headers: dict[str, str], db: Database
) -> None:
    number = open311.report("graffiti", email="x@example.jp")["service_request_id"]
    assert client.get("/api/reports/requests").status_code == 401
    listed = client.get("/api/reports/requests", headers=auth_headers).json()["items"]
    assert [str(i["id"]) for i in listed] == [number]
    assert "email" not in listed[0]

    moved = client.post(
        f"/api/reports/requests/{number}/status",
        json={"status": "in_progress", "note": "確認中", "department": "緑と公園課"},
        headers=auth_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "in_progress"
    assert moved.json()["department"] == "緑と公園課"
    bad = client.post(
        f"/api/reports/requests/{number}/status", json={"status": "merged"}, headers=auth_headers
    )
    assert bad.status_code == 422

    photo = client.post(
        f"/api/reports/requests/{number}/photos",
        data={"kind": "before"},
        files={"media": ("b.jpg", camera_jpeg(800, 600), "image/jpeg")},
        headers=auth_headers,
    )
    assert photo.status_code == 201, photo.text
    served = client.get(photo.json()["url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert gps_of(served.content) == {}
    not_photo = client.post(
        f"/api/reports/requests/{number}/photos",
        data={"kind": "before"},
        files={"media": ("b.jpg", b"text", "image/jpeg")},
        headers=auth_headers,
    )
    assert not_photo.status_code == 422

    detail = client.get(f"/api/reports/requests/{number}", headers=auth_headers).json()
    assert [h["to"] for h in detail["history"]] == ["received", "in_progress"]
    assert detail["photos"][0]["kind"] == "before"
    contact = client.get(f"/api/reports/requests/{number}/contact", headers=auth_headers)
    assert contact.json()["email"] == "x@example.jp"

    second = open311.report("graffiti", description="もう一件")["service_request_id"]
    merged = client.post(
        f"/api/reports/requests/{second}/merge", json={"into": int(number)}, headers=auth_headers
    )
    assert merged.status_code == 200
    assert merged.json()["merged_into"] == int(number)
    numbers = client.get("/api/reports/numbers", headers=auth_headers).json()
    assert numbers["total"]["open"] == 1  # the merged duplicate is not counted twice
    assert client.get(f"{BASE}/requests/{second}.json").json()[0]["status"] == "closed"


def test_a_staff_photo_over_the_limit_changes_nothing(
    staff_client: TestClient, open311: Open311Client, settings: Settings
) -> None:
    number = open311.report()["service_request_id"]
    settings.reports_photo_max_bytes = 40 * 1024
    too_big = change(staff_client, number, "done", "写真つき", photo=camera_jpeg(3000, 3000))
    assert too_big.status_code == 413
    assert "MB" in too_big.text
    [entry] = open311.read("requests/" + number)
    assert entry["status"] == "open"
    not_photo = change(staff_client, number, "done", "写真つき", photo=b"not an image")
    assert not_photo.status_code == 400
    assert "写真として読めません" in not_photo.text
    assert open311.read("requests/" + number)[0]["status"] == "open"
