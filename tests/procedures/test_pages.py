"""The catalog pages, 手続きナビ and the staff editor through HTTP."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cityos.core import audit, auth
from cityos.db import Database
from cityos.procedures import service
from tests.conftest import ADMIN_PASSWORD, csrf_of, login


def titles(html: str) -> list[str]:
    return re.findall(r'<span class="box" aria-hidden="true"></span>([^<]+)</h2>', html)


def test_catalog_search_and_a_procedure_page(client: TestClient) -> None:
    page = client.get("/procedures", params={"q": "葬祭費"})
    assert page.status_code == 200
    assert "葬祭費の支給申請" in page.text
    assert "印鑑登録" not in page.text
    detail = client.get("/procedures/sousaihi")
    assert "葬儀の翌日から2年以内" in detail.text
    assert "死亡届" in detail.text  # related procedures are linked
    assert "公式情報ではありません" in detail.text
    assert client.get("/procedures/nothing-here").status_code == 404


def test_the_moving_in_checklist_in_three_languages(client: TestClient) -> None:
    query = {"event": "move_in", "age": "34", "household_ages": "33, 4", "insurance": "kokuho"}
    ja = client.get("/procedures/navi/checklist", params=query)
    assert ja.status_code == 200
    names = titles(ja.text)
    assert names[0] == "転入届"
    assert len(names) == len(set(names))
    assert "児童手当" in names
    assert "国民健康保険の加入" in names
    assert "住み始めた日から14日以内" in ja.text
    assert "マイナポータル（ぴったりサービス）から申請できます。" in ja.text  # online now
    assert "@media print" in client.get("/static/css/procedures.css").text
    en = client.get("/procedures/navi/checklist", params={**query, "lang": "en"})
    assert titles(en.text)[0] == "Moving-in notification"
    assert "What to bring" in en.text
    easy = client.get("/procedures/navi/checklist", params={**query, "lang": "ja", "easy": "1"})
    assert titles(easy.text)[0] == "ひっこして きた ときの とどけ"
    assert "もちもの" in easy.text


def test_bad_answers_come_back_next_to_their_fields(client: TestClient) -> None:
    answer = client.get(
        "/procedures/navi/checklist",
        params={"event": "move_in", "age": "abc", "household_ages": "3, z"},
    )
    assert answer.status_code == 422
    assert 'id="age-error"' in answer.text
    assert 'id="household_ages-error"' in answer.text
    assert 'value="abc"' in answer.text  # what was typed stays
    no_event = client.get("/procedures/navi/checklist", params={"age": "30"})
    assert no_event.status_code == 422
    assert "できごとを選んでください" in no_event.text


def test_staff_edit_a_procedure_on_its_page(
    client: TestClient, db: Database, admin: object
) -> None:
    assert client.get("/staff/procedures", follow_redirects=False).status_code == 303
    login(client)
    page = client.get("/staff/procedures/juminhyo")
    assert page.status_code == 200
    token = csrf_of(page.text)
    with db.session() as session:
        procedure = service.get(session, "juminhyo")
        form = {name: getattr(procedure, name) for name in service.EDITABLE_TEXTS}
    form.update(
        csrf_token=token, deadline_days="", related="koseki_shomei", bring="本人確認書類 | Photo ID"
    )
    refused = client.post("/staff/procedures/juminhyo", data={**form, "fee_ja": "x" * 300})
    assert refused.status_code == 422
    assert 'id="fee_ja-error"' in refused.text
    nul = client.post("/staff/procedures/juminhyo", data={**form, "who_en": "You\x00"})
    assert nul.status_code == 422
    assert 'id="who_en-error"' in nul.text
    no_csrf = client.post("/staff/procedures/juminhyo", data={**form, "csrf_token": ""})
    assert no_csrf.status_code == 403
    saved = client.post(
        "/staff/procedures/juminhyo",
        data={**form, "fee_ja": "1通350円", "events": ["daily"], "online": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert client.get("/api/procedures/juminhyo").json()["fee"]["ja"] == "1通350円"
    with db.session() as session:
        assert [e.action for e in audit.recent(session, target_type="procedure")] == [
            "procedure.update"
        ]


def test_an_analyst_may_not_edit_the_catalog(client: TestClient, db: Database) -> None:
    with db.session() as session:
        auth.create_user(session, "analyst.a", "analyst", ADMIN_PASSWORD)
    login(client, "analyst.a")
    assert client.get("/staff/procedures").status_code == 403


def test_the_login_brings_staff_back_to_the_procedure_and_language_they_opened(
    client: TestClient, admin: object
) -> None:
    # The page's address goes into next url-encoded: "&" and "?" stay part of it.
    asked = client.get("/staff/procedures/juminhyo?lang=en&x=a%26b", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == (
        "/login?next=%2Fstaff%2Fprocedures%2Fjuminhyo%3Flang%3Den%26x%3Da%2526b"
    )
    form = client.get(asked.headers["location"])
    assert 'name="next" value="/staff/procedures/juminhyo?lang=en&amp;x=a%26b"' in form.text
    answer = client.post(
        "/login",
        data={
            "name": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/staff/procedures/juminhyo?lang=en&x=a%26b",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/staff/procedures/juminhyo?lang=en&x=a%26b"
    assert client.get(answer.headers["location"]).status_code == 200
