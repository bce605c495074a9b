"""Filing a form as a resident, and handling it as staff, through the real HTTP app."""

from __future__ import annotations

import io
import uuid

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from cityos.core.models import AuditEntry
from cityos.db import Database
from cityos.forms.models import FormDefinition, Submission
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from tests.conftest import csrf_of, login
from tests.forms.conftest import VALID_MY_NUMBER, file_form, resident_with_profile
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import confirm_by_email, sign_up


def submissions(db: Database) -> list[Submission]:
    with db.session() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def test_the_form_comes_prefilled_from_the_profile_and_lands_on_my_page(
    client: TestClient, db: Database
) -> None:
    resident_with_profile(client)
    page = client.get("/forms/tennyu-pre")
    assert page.status_code == 200
    assert 'value="三鷹 花子"' in page.text
    assert 'value="ミタカ ハナコ"' in page.text
    assert 'value="1985-04-01"' in page.text
    assert page.text.count("登録済みの情報から入力しました") == 4  # name, kana, birth date, address
    assert 'id="f-phone" name="phone" type="text" maxlength="300" value=""' in page.text

    answer = file_form(client)
    assert answer.status_code == 303, answer.text
    shown = client.get(answer.headers["location"])
    assert "申請を受け付けました" in shown.text
    assert "●●●●●●●●9018" in shown.text
    assert VALID_MY_NUMBER not in shown.text
    assert "令和8年4月1日" in shown.text
    assert "0422-45-1151" in shown.text
    (stored,) = submissions(db)
    assert stored.values["address"].startswith("東京都三鷹市下連雀三丁目")
    assert stored.values["postcode"] == "181-8555"
    assert "my_number" not in stored.values
    assert VALID_MY_NUMBER not in stored.secret
    my = client.get("/my")
    assert "転入届 事前入力" in my.text
    assert "受付" in my.text


def test_nothing_is_asked_twice_earlier_answers_fill_the_next_form(client: TestClient) -> None:
    resident_with_profile(client)
    assert file_form(client).status_code == 303
    page = client.get("/forms/juminhyo-request")
    assert 'id="f-phone" name="phone" type="text" maxlength="300" value="0422-45-1151"' in page.text
    assert 'id="phone-prefilled"' in page.text


def test_bad_input_is_told_next_to_each_field_and_nothing_is_saved(
    client: TestClient, db: Database
) -> None:
    resident_with_profile(client)
    bad = {
        "kana": "Hanako 花子",
        "moved_on": "令和0年4月1日",
        "my_number": "123456789010",
        "phone": "12345",
        "postcode": "000-0000",
    }
    answer = file_form(client, changes=bad)
    assert answer.status_code == 422
    for name in bad:
        assert f'id="{name}-error"' in answer.text
    assert "カタカナ" in answer.text
    assert "個人番号が正しくありません" in answer.text
    assert 'value="Hanako 花子"' in answer.text  # what was typed stays
    impossible = file_form(client, changes={"moved_on": "2026年2月30日"})
    assert impossible.status_code == 422
    assert 'id="moved_on-error"' in impossible.text
    assert submissions(db) == []


def test_files_are_checked_for_size_and_type(client: TestClient, db: Database) -> None:
    resident_with_profile(client)
    base = {"phone": "0422-45-1151", "my_number": VALID_MY_NUMBER, "child_name": "三鷹 太郎",
            "child_birth_date": "令和6年5月1日", "insurance": "kosei"}  # fmt: skip
    big = b"%PDF-1.4\n" + b"0" * (4 * 1024 * 1024)  # over the field's 3 MB
    answer = file_form(
        client, "jido-teate-nintei", base, files={"bank_book": ("b.pdf", big, "application/pdf")}
    )
    assert answer.status_code == 422
    assert 'id="bank_book-error"' in answer.text
    huge = big + b"0" * (2 * 1024 * 1024)  # over the site's whole-request limit
    refused = file_form(
        client, "jido-teate-nintei", base, files={"bank_book": ("b.pdf", huge, "application/pdf")}
    )
    assert refused.status_code == 413
    assert "MB" in refused.text
    script = file_form(
        client,
        "jido-teate-nintei",
        base,
        files={"bank_book": ("b.pdf", b"#!/bin/sh\n", "application/pdf")},
    )
    assert script.status_code == 422
    assert "PDF・JPEG・PNG" in script.text
    assert submissions(db) == []
    good = file_form(
        client,
        "jido-teate-nintei",
        base,
        files={"bank_book": ("通帳.png", b"\x89PNG\r\n\x1a\n0000", "image/png")},
    )
    assert good.status_code == 303
    (stored,) = submissions(db)
    assert stored.files["bank_book"]["type"] == "image/png"


def test_a_tampered_form_id_and_unknown_forms_are_refused(client: TestClient, db: Database) -> None:
    resident_with_profile(client)
    page = client.get("/forms/tennyu-pre").text
    swapped = page.replace(
        'name="form_id" value="tennyu-pre"', 'name="form_id" value="juminhyo-request"'
    )
    answer = file_form(client, page=swapped)
    assert answer.status_code == 400
    assert "フォームが一致しません" in answer.text
    assert client.get("/forms/no-such-form").status_code == 404
    assert submissions(db) == []


def test_sending_the_same_page_twice_files_it_once(client: TestClient, db: Database) -> None:
    resident_with_profile(client)
    page = client.get("/forms/tennyu-pre").text
    first = file_form(client, page=page)
    second = file_form(client, page=page)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(submissions(db)) == 1


def test_another_residents_application_is_not_found(
    app: object, client: TestClient, db: Database
) -> None:
    resident_with_profile(client)
    own = file_form(client).headers["location"].split("?")[0]
    with TestClient(app) as other:  # type: ignore[arg-type]
        assert sign_up(other, "taro@example.jp").status_code == 303
        assert other.get(own).status_code == 404
        assert other.get(own + "/form.pdf").status_code == 404
        assert "転入届" not in other.get("/my").text
    assert client.get(own).status_code == 200


def test_the_pdf_has_the_values_and_a_qr_code_staff_can_open(
    client: TestClient, db: Database, admin: object
) -> None:
    resident_with_profile(client)
    own = file_form(client).headers["location"].split("?")[0]
    answer = client.get(own + "/form.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert reader.pages[0].mediabox.width == 595.2756  # A4
    text = reader.pages[0].extract_text()
    for expected in (
        "転入届",
        "三鷹 花子",
        "ミタカ ハナコ",
        "0422-45-1151",
        "●●●●●●●●9018",
        "昭和60年4月1日",
    ):
        assert expected in text, expected
    assert VALID_MY_NUMBER not in text
    (stored,) = submissions(db)
    from cityos.forms import service

    token = service.counter_token(client.app.state.settings, stored.id)  # type: ignore[attr-defined]
    assert client.get(f"/staff/forms/counter/{token}", follow_redirects=False).status_code == 303
    login(client)
    opened = client.get(f"/staff/forms/counter/{token}")
    assert opened.status_code == 200
    assert "●●●●●●●●9018" in opened.text
    assert client.get(f"/staff/forms/counter/{token}x").status_code == 404
    with db.session() as session:
        via = session.scalars(
            select(AuditEntry.via).where(AuditEntry.action == "forms.submission.read")
        )
        assert "counter-qr" in list(via)


def test_staff_move_an_application_along_and_the_resident_sees_it(
    client: TestClient, db: Database, admin: object, app: object
) -> None:
    resident_with_profile(client)
    own = file_form(client).headers["location"].split("?")[0]
    (stored,) = submissions(db)
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        inbox = staff.get("/staff/forms", params={"department": "市民課"})
        assert f'href="/staff/forms/submissions/{stored.id}"' in inbox.text
        assert (
            f"/staff/forms/submissions/{stored.id}"
            not in staff.get("/staff/forms", params={"department": "子育て支援課"}).text
        )
        url = f"/staff/forms/submissions/{stored.id}"

        def move(status: str, comment: str = "") -> int:
            token = csrf_of(staff.get(url).text)
            data = {"status": status, "comment": comment, "csrf_token": token}
            return staff.post(url + "/status", data=data, follow_redirects=False).status_code

        assert move("done") == 409  # 受付 → 完了 skips the review
        assert move("reviewing", "本人確認書類をお持ちください") == 303
        assert move("done") == 303
    page = client.get(own)
    assert "完了" in page.text
    assert "本人確認書類をお持ちください" in page.text
    assert "完了" in client.get("/my").text
    with db.session() as session:
        count = session.scalar(
            select(func.count()).where(AuditEntry.action == "forms.submission.status")
        )
        assert count == 2


def test_the_applicant_gets_an_email_at_each_change_of_status_until_they_stop_them(
    client: TestClient, db: Database, admin: object, app: object,
    mail_settings: NotifyConfig, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    applicant = f"hanako.{uuid.uuid4().hex[:8]}@example.jp"  # one SMTP server for the session
    resident_with_profile(client, applicant)
    confirm_by_email(client, db, mail_settings, smtp_server, applicant)
    file_form(client)
    (stored,) = submissions(db)
    with TestClient(app) as staff:  # type: ignore[arg-type]
        login(staff)
        url = f"/staff/forms/submissions/{stored.id}"

        def move(status: str, comment: str = "") -> None:
            token = csrf_of(staff.get(url).text)
            data = {"status": status, "comment": comment, "csrf_token": token}
            answer = staff.post(url + "/status", data=data, follow_redirects=False)
            assert answer.status_code == 303, answer.text

        move("reviewing", "本人確認書類をお持ちください")
        assert notify.deliver_due(db, mail_settings).sent == 1
        [first] = smtp_server.messages(applicant)
        subject = str(first["subject"])
        assert f"申請 {stored.id} 番" in subject
        assert "審査中" in subject
        assert "Under review" in subject
        body = first.get_content()
        assert "転入届" in body
        assert "本人確認書類をお持ちください" in body
        assert f"http://testserver/my/applications/{stored.id}" in body
        assert body.index("【日本語】") < body.index("[English]")
        assert "配信停止 / Unsubscribe" in body

        move("reviewing", "書類を受け取りました")  # a comment alone: my page only
        move("returned", "住所の番地をご確認ください")
        assert notify.deliver_due(db, mail_settings).sent == 1
        messages = smtp_server.messages(applicant)
        assert len(messages) == 2
        assert "差戻し" in str(messages[-1]["subject"])
        assert "住所の番地をご確認ください" in messages[-1].get_content()

        # The resident stops these e-mails with the link in one (one-click, RFC 8058) ...
        unsubscribe = str(messages[-1]["List-Unsubscribe"]).strip("<>")
        stopped = TestClient(client.app).post(  # type: ignore[arg-type]
            unsubscribe.removeprefix("http://testserver"), data={"List-Unsubscribe": "One-Click"}
        )
        assert stopped.status_code == 200
        move("reviewing")
        move("done")
        notify.deliver_due(db, mail_settings)
    # ... and gets none after, while my page still shows every change.
    assert len(smtp_server.messages(applicant)) == 2
    page = client.get(f"/my/applications/{stored.id}").text
    assert "完了" in page
    assert "住所の番地をご確認ください" in page


def test_residents_and_strangers_cannot_reach_staff_pages(client: TestClient) -> None:
    assert client.get("/staff/forms", follow_redirects=False).status_code == 303
    resident_with_profile(client)
    assert client.get("/staff/forms", follow_redirects=False).status_code == 303
    assert client.get("/forms/tennyu-pre").status_code == 200
    client.cookies.clear()
    answer = client.get("/forms/tennyu-pre", follow_redirects=False)
    assert answer.status_code == 303
    assert "/residents/login" in answer.headers["location"]


def test_staff_edit_a_form_definition_checked_whole_and_audited(
    client: TestClient, db: Database, admin: object
) -> None:
    login(client)
    url = "/staff/forms/definitions/juminhyo-request"
    page = client.get(url)
    assert page.status_code == 200
    assert "プレビュー" in page.text
    definition = page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0]
    import html as html_lib
    import json

    data = json.loads(html_lib.unescape(definition))
    broken = client.post(url, data={"definition": "{not json", "csrf_token": csrf_of(page.text)})
    assert broken.status_code == 422
    assert "JSON として読めません" in broken.text
    data["fields"][5]["label_ja"] = "必要な範囲（本人・世帯）"
    data["fields"].append({"name": "x", "type": "colour", "label_ja": "x", "label_en": "x"})
    wrong = client.post(
        url, data={"definition": json.dumps(data), "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 422
    assert "fields[8]: type" in wrong.text
    data["fields"].pop()
    saved = client.post(
        url,
        data={"definition": json.dumps(data), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with db.session() as session:
        form = session.get(FormDefinition, "juminhyo-request")
        assert form is not None
        assert form.fields[5]["label_ja"] == "必要な範囲（本人・世帯）"
        assert (
            session.scalar(
                select(func.count()).where(AuditEntry.action == "forms.definition.update")
            )
            == 1
        )


def test_the_public_api_lists_blank_forms_and_postcodes(client: TestClient) -> None:
    forms = client.get("/api/forms").json()
    assert "tennyu-pre" in {f["id"] for f in forms}
    assert client.get("/api/forms/tennyu-pre").json()["department_ja"] == "市民課"
    assert client.get("/api/forms/postcode/1818555").json()["city"] == "三鷹市"
    assert client.get("/api/forms/postcode/abc").status_code == 404
