"""What a resident owns: profile, household, saved checklists, export and deletion."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.db import Database
from cityos.residents import sessions
from cityos.residents.models import HouseholdMember, Resident, ResidentProfile, SavedChecklist
from tests.residents.conftest import PASSWORD, form_token, sign_up

MOVE_IN = {"event": "move_in", "age": "34", "household_ages": "4", "insurance": "kokuho"}


def profile_of(db: Database) -> ResidentProfile | None:
    with db.session() as session:
        return session.scalars(select(ResidentProfile)).one_or_none()


def save_profile(client: TestClient, **fields: str) -> object:
    data = {"name": "", "kana": "", "birth_date": "", "address": "", **fields}
    return client.post("/my/profile", data={**data, "csrf_token": form_token(client)})


def test_the_profile_is_checked_and_normalized(client: TestClient, db: Database) -> None:
    sign_up(client)
    answer = client.post(
        "/my/profile",
        data={
            "name": "三鷹　花子",
            "kana": "みたか　ﾊﾅｺ",
            "birth_date": "昭和60年4月1日",
            "address": "下連雀３丁目22の14 ２F",
            "csrf_token": form_token(client),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    profile = profile_of(db)
    assert profile is not None
    assert (profile.name, profile.kana, profile.birth_date) == (
        "三鷹 花子", "ミタカ ハナコ", date(1985, 4, 1)
    )  # fmt: skip
    assert profile.address["town"] == "下連雀三丁目"
    assert profile.address["city"] == "三鷹市"
    page = client.get("/my/profile")
    assert "東京都三鷹市下連雀三丁目22-14" in page.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kana": "山田"}, "kana", "カタカナ"),
        ({"kana": "yamada"}, "kana", "カタカナ"),
        ({"birth_date": "令和0年5月1日"}, "birth_date", "存在する日付"),
        ({"birth_date": "2001年2月30日"}, "birth_date", "存在する日付"),
        ({"birth_date": "2999-01-01"}, "birth_date", "未来"),
        ({"address": "どこでもない場所"}, "address", "市区町村まで確認できません"),
        ({"address": "三鷹市下連雀\x003-22-14"}, "address", "制御文字"),
        ({"kana": "ミタカ\x00"}, "kana", "カタカナ"),
    ],
)
def test_bad_profile_input_is_shown_next_to_the_field_and_nothing_is_saved(
    client: TestClient, db: Database, fields: dict[str, str], field: str, message: str
) -> None:
    sign_up(client)
    assert save_profile(client, name="三鷹 花子").status_code == 200  # type: ignore[attr-defined]
    answer = save_profile(client, name="別の名前", **fields)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert f'id="{field}-error"' in html
    assert message in html
    assert 'value="別の名前"' in html  # what was typed stays in the form
    profile = profile_of(db)
    assert profile is not None
    assert profile.name == "三鷹 花子"


def test_household_members_belong_to_their_resident(
    client: TestClient, app: FastAPI, db: Database
) -> None:
    sign_up(client)
    nul = client.post(
        "/my/household",
        data={
            "member_name": "太郎\x00",
            "member_relation": "child",
            "csrf_token": form_token(client),
        },
    )
    assert nul.status_code == 422
    assert "制御文字" in nul.text
    added = client.post(
        "/my/household",
        data={
            "member_name": "三鷹 太郎",
            "member_kana": "ミタカ タロウ",
            "member_relation": "child",
            "member_birth_date": "令和2年5月1日",
            "csrf_token": form_token(client),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    bad = client.post(
        "/my/household",
        data={
            "member_name": "",
            "member_kana": "taro",
            "member_relation": "pet",
            "member_birth_date": "2月30日",
            "csrf_token": form_token(client),
        },
    )
    assert bad.status_code == 422
    for name in ("member_name", "member_kana", "member_relation", "member_birth_date"):
        assert f'id="{name}-error"' in bad.text
    with db.session() as session:
        member = session.scalars(select(HouseholdMember)).one()
        assert member.birth_date == date(2020, 5, 1)
    # Another resident cannot remove (or even find) it.
    with TestClient(app) as other:
        sign_up(other, "other@example.jp")
        refused = other.post(
            f"/my/household/{member.id}/delete", data={"csrf_token": form_token(other)}
        )
        assert refused.status_code == 404
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(HouseholdMember)) == 1
    removed = client.post(
        f"/my/household/{member.id}/delete",
        data={"csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(HouseholdMember)) == 0


def test_saving_a_checklist_asks_for_an_account_then_keeps_it_once(
    client: TestClient, app: FastAPI, db: Database
) -> None:
    checklist = client.get("/procedures/navi/checklist", params=MOVE_IN)
    token = form_token(client, "/procedures/navi/checklist?event=move_in")
    anonymous = client.post(
        "/my/checklists", data={**MOVE_IN, "csrf_token": token}, follow_redirects=False
    )
    assert checklist.status_code == 200
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/residents/signup?next=%2Fprocedures")
    assert "saving=1" in anonymous.headers["location"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SavedChecklist)) == 0
    sign_up(client)
    for _ in range(2):  # a double submit keeps one copy
        saved = client.post(
            "/my/checklists", data={**MOVE_IN, "csrf_token": token}, follow_redirects=False
        )
        assert saved.status_code == 303
    with db.session() as session:
        stored = session.scalars(select(SavedChecklist)).one()
        assert stored.procedure_ids[0] == "tennyu"
        assert "jido_teate" in stored.procedure_ids
    page = client.get("/my")
    assert f'id="checklist-{stored.id}"' in page.text
    assert "転入届" in page.text
    assert client.get(f"/my/checklists/{stored.id}").status_code == 200
    with TestClient(app) as other:
        sign_up(other, "other@example.jp")
        assert other.get(f"/my/checklists/{stored.id}").status_code == 404
        refused = other.post(
            f"/my/checklists/{stored.id}/delete", data={"csrf_token": form_token(other)}
        )
        assert refused.status_code == 404
    bad = client.post(
        "/my/checklists", data={"event": "holiday", "csrf_token": token}, follow_redirects=False
    )
    assert bad.status_code == 422
    assert client.get("/my/checklists/99999999999999999999").status_code == 422
    assert client.get("/my/checklists/123456").status_code == 404


def test_export_and_real_deletion(client: TestClient, db: Database) -> None:
    sign_up(client)
    save_profile(client, name="三鷹 花子", kana="ミタカ ハナコ", birth_date="1985-04-01")
    client.post(
        "/my/household",
        data={
            "member_name": "三鷹 太郎",
            "member_relation": "child",
            "csrf_token": form_token(client),
        },
    )
    token = form_token(client)
    client.post("/my/checklists", data={**MOVE_IN, "csrf_token": token})
    exported = client.get("/my/export.json")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["account"]["email"] == "hanako@example.jp"
    assert data["profile"]["kana"] == "ミタカ ハナコ"
    assert data["profile"]["birth_date"] == "1985-04-01"
    assert data["household"][0]["name"] == "三鷹 太郎"
    assert data["checklists"][0]["procedures"][0] == "tennyu"
    assert "argon2" not in exported.text  # the password hash is not part of the export

    token = form_token(client, "/my/delete")
    unconfirmed = client.post("/my/delete", data={"password": PASSWORD, "csrf_token": token})
    assert unconfirmed.status_code == 422
    assert 'id="confirm-error"' in unconfirmed.text
    wrong = client.post(
        "/my/delete", data={"password": "wrong-password", "confirm": "yes", "csrf_token": token}
    )
    assert wrong.status_code == 422
    assert 'id="password-error"' in wrong.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 1
    deleted = client.post(
        "/my/delete", data={"password": PASSWORD, "confirm": "yes", "csrf_token": token}
    )
    assert deleted.status_code == 200
    assert "削除しました" in deleted.text
    with db.session() as session:
        for table in (Resident, ResidentProfile, HouseholdMember, SavedChecklist):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table
    assert sessions.COOKIE not in client.cookies
    assert client.get("/my", follow_redirects=False).status_code == 303
