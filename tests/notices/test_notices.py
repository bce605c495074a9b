"""Push notices through the real pages on SQLite and PostgreSQL: residents opt in on my page,
staff target a notice and see the audience before sending, the notice arrives on the my page
of exactly the residents it concerns with the reason, and residents can stop it."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.core.models import User
from cityos.db import Database
from cityos.notices.models import PushDelivery, PushNotice
from cityos.notify import service as notify
from cityos.notify.config import NotifyConfig
from tests.conftest import csrf_of, login
from tests.notify.conftest import SmtpServer
from tests.residents.conftest import CONFIRM_SUBJECT, confirm_by_email, sign_up

ADDRESS = "東京都三鷹市下連雀3-22-14"


def resident_with(
    client: TestClient, email: str, *, child_age: int | None, address: str = ADDRESS
) -> TestClient:
    """A signed-up resident with a profile, maybe a child of the given age."""
    resident = TestClient(client.app)
    sign_up(resident, email)
    token = csrf_of(resident.get("/my/profile").text)
    profile = {"name": "三鷹 花子", "kana": "ミタカ ハナコ", "birth_date": "1990-04-01"}
    saved = resident.post("/my/profile", data={**profile, "address": address, "csrf_token": token})
    assert saved.status_code == 200
    if child_age is not None:
        born = date(date.today().year - child_age, 1, 1).isoformat()
        member = {"member_name": "三鷹 太郎", "member_relation": "child", "member_birth_date": born}
        resident.post("/my/household", data={**member, "csrf_token": token})
    return resident


def opt_in(resident: TestClient, interests: list[str], **shares: str) -> None:
    token = csrf_of(resident.get("/my/notices").text)
    fields = {"enabled": "1", "share_children": "1", "share_town": "1", "share_age": "1"}
    fields.update(shares)
    page = resident.post(
        "/my/notices", data={**fields, "interests": interests, "csrf_token": token}
    )
    assert "保存しました" in page.text


RULE = {"towns": "下連雀", "interests": ["childcare"], "child_age": "0-5", "age": ""}
NOTICE = {
    "title": "1歳6か月児健診のお知らせ",
    "body": "下連雀の子育て家庭へ。健診日程のご案内です。",
}


def staff_post(client: TestClient, action: str, **fields: object) -> object:
    token = csrf_of(client.get("/staff/notices").text)
    data = {**NOTICE, **RULE, **fields, "action": action, "csrf_token": token}
    return client.post("/staff/notices", data=data)


def test_a_targeted_notice_reaches_only_the_residents_it_concerns(
    client: TestClient, admin: User, db: Database
) -> None:
    parent = resident_with(client, "parent@example.jp", child_age=3)
    opt_in(parent, ["childcare", "events"])
    older_child = resident_with(client, "older@example.jp", child_age=9)
    opt_in(older_child, ["childcare"])
    private = resident_with(client, "private@example.jp", child_age=2)
    opt_in(private, ["childcare"], share_children="")  # did not share the children's ages
    elsewhere = resident_with(client, "elsewhere@example.jp", child_age=1,
                              address="東京都三鷹市井口1-1-1")  # fmt: skip
    opt_in(elsewhere, ["childcare"])
    not_signed_up = resident_with(client, "quiet@example.jp", child_age=3)

    login(client)
    counted = staff_post(client, "count")
    assert counted.status_code == 200  # type: ignore[attr-defined]
    assert "<strong>1</strong> 人" in counted.text  # type: ignore[attr-defined]
    assert "下連雀 かつ 関心: 子育て かつ 0〜5歳の子がいる" in counted.text  # type: ignore[attr-defined]
    sent = staff_post(client, "send")
    assert "1 人に送りました" in sent.text  # type: ignore[attr-defined]

    my = parent.get("/my").text
    assert NOTICE["title"] in my
    assert "あなたが『子育て』を選んでいる、お子さんが3歳、お住まいが下連雀三丁目だから" in my
    for other in (older_child, private, elsewhere, not_signed_up):
        assert NOTICE["title"] not in other.get("/my").text
    english = parent.get("/my?lang=en").text
    assert "Because you chose “Childcare” and your child is 3" in english


def test_no_notice_is_emailed_to_an_address_not_yet_confirmed(
    client: TestClient, admin: User, db: Database,
    mail_settings: NotifyConfig, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    unconfirmed = f"unconfirmed.{uuid.uuid4().hex[:8]}@example.jp"
    parent = resident_with(client, unconfirmed, child_age=3)
    opt_in(parent, ["childcare"], by_email="1")
    notify.deliver_due(db, mail_settings)
    smtp_server.take(unconfirmed, CONFIRM_SUBJECT)  # the confirmation e-mail, left unopened
    login(client)
    staff_post(client, "send")
    assert notify.deliver_due(db, mail_settings).sent == 0
    assert smtp_server.messages(unconfirmed) == []
    assert NOTICE["title"] in parent.get("/my").text  # my page still has it


def test_residents_who_chose_email_get_the_notice_by_email_with_the_reason(
    client: TestClient, admin: User, db: Database,
    mail_settings: NotifyConfig, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    tag = uuid.uuid4().hex[:8]  # one SMTP server for the session
    mailed, inbox_only = f"mail.{tag}@example.jp", f"inbox.{tag}@example.jp"
    parent = resident_with(client, mailed, child_age=3)
    settings_page = parent.get("/my/notices").text
    assert "準備中" not in settings_page
    assert "メールでも受け取る" in settings_page
    assert mailed in settings_page
    opt_in(parent, ["childcare"], by_email="1")
    other = resident_with(client, inbox_only, child_age=2)
    opt_in(other, ["childcare"])
    for resident, address in ((parent, mailed), (other, inbox_only)):
        confirm_by_email(resident, db, mail_settings, smtp_server, address)

    login(client)
    staff_post(client, "send")
    assert notify.deliver_due(db, mail_settings).sent == 1
    [message] = smtp_server.messages(mailed)
    assert NOTICE["title"] in str(message["subject"])
    body = message.get_content()
    assert NOTICE["body"] in body
    assert "あなたが『子育て』を選んでいる、お子さんが3歳、お住まいが下連雀三丁目だから" in body
    assert "Because you chose “Childcare”" in body
    assert "http://testserver/my/notices" in body  # how to stop it
    assert "配信停止 / Unsubscribe" in body
    assert smtp_server.messages(inbox_only) == []
    # Both still have it on my page.
    assert NOTICE["title"] in parent.get("/my").text
    assert NOTICE["title"] in other.get("/my").text

    # Unticking e-mail on the settings page stops the e-mails, not the my-page notices.
    assert 'name="by_email" value="1" checked' in parent.get("/my/notices").text
    opt_in(parent, ["childcare"])
    assert 'name="by_email" value="1">' in parent.get("/my/notices").text
    staff_post(client, "send", title="3歳児健診のお知らせ")
    notify.deliver_due(db, mail_settings)
    assert len(smtp_server.messages(mailed)) == 1
    assert "3歳児健診のお知らせ" in parent.get("/my").text


def test_residents_can_stop_a_topic_or_everything(
    client: TestClient, admin: User, db: Database
) -> None:
    parent = resident_with(client, "parent@example.jp", child_age=3)
    opt_in(parent, ["childcare", "events"])
    other = resident_with(client, "other@example.jp", child_age=4)
    opt_in(other, ["childcare"])
    login(client)
    staff_post(client, "send")
    my = parent.get("/my").text
    delivery_id = int(my.split('id="notice-', 1)[1].split('"', 1)[0])
    token = csrf_of(my)
    # Another resident's notice is not theirs to touch.
    intruder = other.post(
        f"/my/notices/{delivery_id}/stop",
        data={"what": "all", "csrf_token": csrf_of(other.get("/my").text)},
    )
    assert intruder.status_code == 404
    parent.post(f"/my/notices/{delivery_id}/stop", data={"what": "interest", "csrf_token": token})
    settings = parent.get("/my/notices").text
    assert 'value="childcare" checked' not in settings
    assert 'value="events" checked' in settings
    staff_post(client, "send", title="2回目のお知らせ")
    assert "2回目のお知らせ" not in parent.get("/my").text
    assert "2回目のお知らせ" in other.get("/my").text
    # Stopping everything: nothing more arrives, whatever the rule.
    parent.post(f"/my/notices/{delivery_id}/stop", data={"what": "all", "csrf_token": token})
    staff_post(client, "send", title="全員へのお知らせ", towns="", interests=[], child_age="")
    assert "全員へのお知らせ" not in parent.get("/my").text
    assert "全員へのお知らせ" in other.get("/my").text


def test_a_bad_rule_is_refused_next_to_the_field_and_nothing_is_sent(
    client: TestClient, admin: User, db: Database
) -> None:
    parent = resident_with(client, "parent@example.jp", child_age=3)
    opt_in(parent, ["childcare"])
    login(client)
    for fields, message in (
        ({"child_age": "5-0"}, 'id="child_age-error"'),
        ({"child_age": "abc"}, "0-5"),
        ({"age": "30-200"}, 'id="age-error"'),
        ({"towns": "霞が関"}, "市内の町名ではありません"),
        ({"title": ""}, 'id="title-error"'),
    ):
        page = staff_post(client, "send", **fields)
        assert page.status_code == 422, fields  # type: ignore[attr-defined]
        assert message in page.text, fields  # type: ignore[attr-defined]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PushNotice)) == 0
        assert session.scalar(select(func.count()).select_from(PushDelivery)) == 0
    assert NOTICE["title"] not in parent.get("/my").text


def test_notices_are_in_the_export_and_go_with_the_account(
    client: TestClient, admin: User, db: Database
) -> None:
    parent = resident_with(client, "parent@example.jp", child_age=3)
    opt_in(parent, ["childcare"])
    login(client)
    staff_post(client, "send")
    kept = parent.get("/my/export.json").json()
    assert kept["notices"]["interests"] == ["childcare"]
    assert kept["notices"]["received"][0]["title"] == NOTICE["title"]
    assert "お子さんが3歳" in kept["notices"]["received"][0]["why"]
    token = csrf_of(parent.get("/my/delete").text)
    from tests.residents.conftest import PASSWORD

    parent.post("/my/delete", data={"password": PASSWORD, "confirm": "yes", "csrf_token": token})
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PushDelivery)) == 0
