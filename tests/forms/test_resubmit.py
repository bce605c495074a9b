"""A returned (差戻し) application corrected and sent again by the resident, through the real
HTTP app: the same application, its history kept, back in the staff inbox as resubmitted."""

from __future__ import annotations

import html
import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.db import Database
from cityos.forms import service
from cityos.forms.models import Submission
from tests.conftest import csrf_of, login
from tests.forms.conftest import VALID_MY_NUMBER, file_form, hidden, resident_with_profile
from tests.residents.conftest import sign_up

REASON = "電話番号がつながりませんでした。ご確認ください"


def stored(db: Database) -> Submission:
    with db.session() as session:
        (found,) = session.scalars(select(Submission))
        _ = found.history, found.form
        session.expunge_all()
        return found


def move(app: object, submission_id: int, status: str, comment: str = "") -> None:
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        url = f"/staff/forms/submissions/{submission_id}"
        data = {"status": status, "comment": comment, "csrf_token": csrf_of(staff.get(url).text)}
        answer = staff.post(url + "/status", data=data, follow_redirects=False)
        assert answer.status_code == 303, answer.text


def filed_and_returned(client: TestClient, app: object, db: Database) -> int:
    resident_with_profile(client)
    assert file_form(client).status_code == 303
    submission_id = stored(db).id
    move(app, submission_id, "returned", REASON)
    return submission_id


def correction(page: str, changes: dict[str, str]) -> dict[str, str]:
    """What the correction page sends: its hidden fields, its filled-in values, ``changes``."""
    data = {
        "csrf_token": csrf_of(page),
        "idempotency_key": hidden(page, "idempotency_key"),
    }
    for name, value in re.findall(
        r'name="(\w+)" type="text" maxlength="300" value="([^"]*)"', page
    ):
        data[name] = html.unescape(value)
    for name, value in re.findall(r'name="(\w+)" value="([^"]*)" checked', page):
        data[name] = value
    data.update(changes)
    return data


def send_correction(
    client: TestClient, submission_id: int, changes: dict[str, str], page: str | None = None
) -> httpx.Response:
    url = f"/my/applications/{submission_id}/correct"
    page = page or client.get(url).text
    return client.post(url, data=correction(page, changes), follow_redirects=False)


def test_the_resident_reads_why_corrects_and_resubmits_the_same_application(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    submission_id = filed_and_returned(client, app, db)
    shown = client.get(f"/my/applications/{submission_id}")
    assert "差戻しされました" in shown.text
    assert REASON in shown.text
    assert f'href="/my/applications/{submission_id}/correct"' in shown.text

    page = client.get(f"/my/applications/{submission_id}/correct")
    assert page.status_code == 200
    assert REASON in page.text
    assert 'value="0422-45-1151"' in page.text  # what was filed, ready to correct
    assert VALID_MY_NUMBER not in page.text  # the マイナンバー is kept, not shown

    answer = send_correction(client, submission_id, {"phone": "0422-29-9000"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/my/applications/{submission_id}?resubmitted=1"
    after = client.get(answer.headers["location"]).text
    assert "再提出しました" in after
    assert "差戻しされました" not in after
    assert "0422-29-9000" in after
    assert REASON in after  # the history keeps the staff's comment

    found = stored(db)
    assert found.id == submission_id
    assert found.status == "received"
    assert found.resubmissions == 1
    assert found.values["phone"] == "0422-29-9000"
    assert [e.status for e in found.history] == ["received", "returned", "received"]
    assert found.history[-1].actor == "resident"
    assert "電話番号" in found.history[-1].comment
    secret = service.secret_values(found, service.cipher(client.app.state.settings))  # type: ignore[attr-defined]
    assert secret == {"my_number": VALID_MY_NUMBER}  # left empty: the one filed stands

    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        inbox = staff.get("/staff/forms", params={"status": "received"}).text
        row = inbox.split(f'href="/staff/forms/submissions/{submission_id}"', 1)[1].split("</tr>")[
            0
        ]
        assert "再提出" in row
        detail = staff.get(f"/staff/forms/submissions/{submission_id}").text
        assert "再提出 1 回" in detail
        assert "修正した項目: 電話番号" in detail


def test_the_same_correction_sent_twice_is_resubmitted_once(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    submission_id = filed_and_returned(client, app, db)
    page = client.get(f"/my/applications/{submission_id}/correct").text
    first = send_correction(client, submission_id, {"phone": "0422-29-9000"}, page)
    second = send_correction(client, submission_id, {"phone": "0422-29-9000"}, page)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    found = stored(db)
    assert found.resubmissions == 1
    assert [e.actor for e in found.history].count("resident") == 2  # filed, resubmitted once


def test_an_application_that_was_not_returned_cannot_be_resubmitted(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    assert file_form(client).status_code == 303
    submission_id = stored(db).id
    url = f"/my/applications/{submission_id}/correct"
    opened = client.get(url)
    assert opened.status_code == 409
    assert "再提出できるのは差戻しされた申請だけです" in opened.text
    assert "only an application returned to you can be resubmitted" in opened.text
    # A correction page kept from an earlier 差戻し, sent after it was resubmitted and moved on.
    move(app, submission_id, "returned", REASON)
    stale = client.get(url).text
    assert send_correction(client, submission_id, {}, stale).status_code == 303
    move(app, submission_id, "reviewing")
    fresh = stale.replace(hidden(stale, "idempotency_key"), service.new_idempotency_key())
    refused = send_correction(client, submission_id, {"phone": "0422-29-9000"}, fresh)
    assert refused.status_code == 409
    assert "「審査中」です" in refused.text
    found = stored(db)
    assert found.status == "reviewing"
    assert found.values["phone"] == "0422-45-1151"
    assert found.resubmissions == 1


def test_another_residents_application_cannot_be_corrected(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    submission_id = filed_and_returned(client, app, db)
    page = client.get(f"/my/applications/{submission_id}/correct").text
    with TestClient(app) as other:  # type: ignore[arg-type]
        assert sign_up(other, "taro@example.jp").status_code == 303
        url = f"/my/applications/{submission_id}/correct"
        assert other.get(url).status_code == 403
        data = correction(
            page, {"phone": "0422-29-9000", "csrf_token": csrf_of(other.get("/my").text)}
        )
        refused = other.post(url, data=data, follow_redirects=False)
        assert refused.status_code == 403
        assert "あなたの申請ではない" in refused.text
    found = stored(db)
    assert found.status == "returned"
    assert found.values["phone"] == "0422-45-1151"


def test_a_wrong_correction_is_told_next_to_the_field_and_nothing_changes(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    submission_id = filed_and_returned(client, app, db)
    answer = send_correction(client, submission_id, {"phone": "12345", "name": ""})
    assert answer.status_code == 422
    assert 'id="phone-error"' in answer.text
    assert 'id="name-error"' in answer.text
    assert 'value="12345"' in answer.text  # what was typed stays
    assert REASON in answer.text
    found = stored(db)
    assert found.status == "returned"
    assert found.resubmissions == 0
    assert found.values["phone"] == "0422-45-1151"
