"""Answers made from live city data, through the API on real rows: the procedure catalog (what
to bring, where, online or not), open shelters in disaster mode, counter waiting times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from cityos.core.models import User
from cityos.core.text import TOKYO
from cityos.core.uploads import FileStore
from cityos.db import Database, utcnow
from cityos.disaster import service as disaster
from cityos.opendata.demo import load_demo
from cityos.procedures.models import Procedure
from cityos.reservations import service as reservations
from cityos.reservations.models import Booking
from cityos.residents.models import Resident
from cityos.settings import Settings
from tests.disaster.conftest import SHELTER_DATASETS


def ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/api/chatbot/ask", json={"question": question})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the procedure catalog -----------------------------------------------------------------


def test_what_to_bring_is_answered_from_the_procedure_catalog(
    client: TestClient, faq_db: Database
) -> None:
    body = ask(client, "婚姻届に必要な持ち物は？")  # the FAQ has nothing on marriage
    assert body["answered"] is True
    assert body["faq_id"] == "procedure:kon_in"
    assert "手続きカタログ" in body["message"]
    assert body["source"]["kind"] == "procedures"
    assert body["source"]["department"] == "市民課 戸籍係"
    assert body["source"]["url"] == "http://testserver/procedures/kon_in"
    lines = body["answer"].splitlines()
    assert lines[0] == "【婚姻届】結婚するときの届出です。受理された日に婚姻が成立します。"
    assert "持ち物 / What to bring:" in lines
    assert "・本人確認書類" in lines
    assert (
        "窓口 / Where: 市役所 市民課の窓口（夜間・休日は守衛室で預かり）（市民課 戸籍係）" in lines
    )
    assert "オンライン / Online: できません（窓口で） / no, at the counter" in lines
    assert "期限 / Deadline: 期限はありません（受理された日が結婚の日）" in lines
    # The page it links to is there.
    assert client.get("/procedures/kon_in").status_code == 200


def test_a_catalog_edit_is_in_the_next_answer(client: TestClient, faq_db: Database) -> None:
    assert "本庁舎1階" not in ask(client, "婚姻届に必要な持ち物は？")["answer"]
    with faq_db.session() as session:
        session.execute(
            update(Procedure)
            .where(Procedure.id == "kon_in")
            .values(where_ja="市役所 本庁舎1階 市民課の窓口", updated_at=utcnow())
        )
    body = ask(client, "婚姻届に必要な持ち物は？")
    assert "窓口 / Where: 市役所 本庁舎1階 市民課の窓口（市民課 戸籍係）" in body["answer"]


def test_the_catalog_answers_when_it_beats_the_faq_and_offers_the_faq_entry(
    client: TestClient, faq_db: Database
) -> None:
    body = ask(client, "転入届の持ち物")
    assert body["faq_id"] == "procedure:tennyu"
    assert "・本人確認書類（マイナンバーカード、運転免許証など）" in body["answer"]
    assert body["suggestions"][0]["faq_id"] == "T004"  # the FAQ's own entry on moving in
    # Where the FAQ is surer, the FAQ answers, even when the catalog has the procedure.
    faq = ask(client, "住民票の写しはどこで取れますか")
    assert faq["faq_id"] == "T003"
    assert faq["source"]["kind"] == "faq"
    # A question that asks no procedure (what to bring, where, how to apply) stays with the FAQ.
    assert ask(client, "粗大ゴミってどうやって出すの？")["faq_id"] == "T001"


def test_the_chat_page_names_the_procedure_catalog_as_the_source(
    client: TestClient, faq_db: Database
) -> None:
    page = client.get("/chatbot")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/chatbot", data={"question": "婚姻届に必要な持ち物は？", "csrf_token": token}
    )
    assert answer.status_code == 200
    assert "手続きカタログ" in answer.text
    assert 'href="http://testserver/procedures/kon_in"' in answer.text


# --- open shelters in disaster mode ----------------------------------------------------------


def publish_shelters(db: Database, admin: User, settings: Settings) -> list[Any]:
    with db.session() as session:
        actor = session.get(User, admin.id)
        load_demo(
            session, actor, FileStore(settings.files_dir), site_url=settings.site_url,
            only=SHELTER_DATASETS,
        )  # fmt: skip
    with db.session() as session:
        found = disaster.list_shelters(session)
        session.expunge_all()
    return found


def test_in_disaster_mode_the_open_shelters_are_the_answer(
    client: TestClient,
    faq_db: Database,
    admin: User,
    settings: Settings,
    auth_headers: dict[str, str],
) -> None:
    shelters = publish_shelters(faq_db, admin, settings)
    first, second, closed = shelters[0], shelters[1], shelters[2]
    before = ask(client, "開いている避難所はどこ？")
    assert before["faq_id"] != "live:shelters"  # no disaster: no live shelter answer
    switched = client.put(
        "/api/disaster/mode", json={"active": True, "hazard": "flood", "towns": []},
        headers=auth_headers,
    )  # fmt: skip
    assert switched.status_code == 200, switched.text
    none_open = ask(client, "開いている避難所はどこ？")
    assert none_open["faq_id"] == "live:shelters"
    assert "開設中の避難所はまだありません" in none_open["answer"]
    for shelter in (first, second):
        opened = client.patch(
            f"/api/disaster/shelters/{shelter.id}/status", json={"is_open": True},
            headers=auth_headers,
        )  # fmt: skip
        assert opened.status_code == 200, opened.text
    body = ask(client, "開いている避難所はどこ？")
    assert body["answered"] is True
    assert body["faq_id"] == "live:shelters"
    assert body["source"]["kind"] == "live"
    assert body["source"]["url"] == "http://testserver/disaster/nearest"
    assert f"・{first.name}（{first.address}）" in body["answer"]
    assert f"・{second.name}（{second.address}）" in body["answer"]
    assert closed.name not in body["answer"]
    english = ask(client, "Which evacuation shelters are open?")
    assert english["faq_id"] == "live:shelters"


# --- counter waiting times -------------------------------------------------------------------


def test_the_waiting_time_answer_counts_the_people_waiting_now(
    client: TestClient, faq_db: Database
) -> None:
    now = datetime.now(TOKYO).replace(second=0, microsecond=0)
    with faq_db.session() as session:
        people = [Resident(email=f"w{n}@example.jp", password_hash="-") for n in range(5)]
        session.add_all(people)
        session.flush()
        session.add_all(
            Booking(
                counter_id="shimin-ido", resident_id=person.id, slot_start=now, seat=seat,
                status="arrived", created_at=now - timedelta(days=1),
                updated_at=now - timedelta(days=1),
            )
            for seat, person in enumerate(people, start=1)
        )  # fmt: skip
    with faq_db.session() as session:
        (wait,) = [w for w in reservations.waiting_times(session) if w.counter.id == "shimin-ido"]
        expected = (
            f"・{wait.counter.name_ja} / {wait.counter.name_en}: 約{wait.minutes}分（5人待ち）"
        )
    body = ask(client, "市民課の窓口は混んでいますか？待ち時間は？")
    assert body["answered"] is True
    assert body["faq_id"] == "live:waiting"
    assert body["source"]["kind"] == "live"
    assert expected in body["answer"]
    assert wait.minutes > 0
