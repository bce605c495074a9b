"""やさしい日本語 and English for every procedure a 手続きナビ checklist can lead to, on SQLite
and PostgreSQL: the catalog as the database holds it after the migrations, the checklist
page's easy texts, and the staff editor for the easy texts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.db import Database
from cityos.procedures import catalog
from cityos.procedures.models import Procedure
from tests.conftest import csrf_of, login


def reachable_from_checklists() -> set[str]:
    """Procedures named by a 手続きナビ rule, and those their pages link to (related)."""
    related = {row["id"]: row["related"] for row in catalog.procedure_rows()}
    found = {rule["procedure"] for rule in catalog.navi_rules()}
    todo = list(found)
    while todo:
        for other in related.get(todo.pop(), []):
            if other not in found:
                found.add(other)
                todo.append(other)
    return found


def test_every_procedure_a_checklist_reaches_has_english_and_easy_texts(db: Database) -> None:
    reachable = reachable_from_checklists()
    assert len(reachable) >= 40
    with db.session() as session:
        stored = {p.id: p for p in session.scalars(select(Procedure))}
    assert reachable <= set(stored)
    lacking = []
    for procedure_id in sorted(reachable):
        p = stored[procedure_id]
        for name in ("name", "summary", "where"):
            for language in ("en", "easy"):
                if not getattr(p, f"{name}_{language}").strip():
                    lacking.append(f"{procedure_id}.{name}_{language}")
        for number, item in enumerate(p.bring):
            lacking += [
                f"{procedure_id}.bring[{number}].{language}"
                for language in ("en", "easy")
                if not str(item.get(language, "")).strip()
            ]
    assert lacking == []


def test_the_checklist_in_easy_japanese_says_where_to_go_and_what_to_bring(
    client: TestClient,
) -> None:
    query = {"event": "move_in", "age": "34", "insurance": "kokuho", "easy": "1"}
    easy = client.get("/procedures/navi/checklist", params=query).text
    assert "しやくしょの 市民課（しみんか）の まどぐち" in easy
    assert "本人確認書類（ほんにん かくにん しょるい）" in easy
    assert "市役所 市民課の窓口" not in easy
    english = client.get("/procedures/navi/checklist", params={**query, "easy": "", "lang": "en"})
    assert "City Hall, Resident Registration counter" in english.text
    assert "Photo ID" in english.text


def test_staff_edit_the_easy_texts_of_where_and_what_to_bring(
    client: TestClient, db: Database, admin: object
) -> None:
    login(client)
    page = client.get("/staff/procedures/inkan_toroku")
    assert "しやくしょの 市民課（しみんか）の まどぐち" in page.text
    form = {
        "name_ja": "印鑑登録", "name_en": "Seal registration", "department_ja": "市民課",
        "department_en": "Resident Registration Section", "where_ja": "市役所 市民課の窓口",
        "where_en": "City Hall", "where_easy": "しやくしょ 1かい の まどぐち",
        "bring": "登録する印鑑 | The seal | はんこ\n本人確認書類 | Photo ID",
    }  # fmt: skip
    saved = client.post(
        "/staff/procedures/inkan_toroku", data={**form, "csrf_token": csrf_of(page.text)}
    )
    assert saved.status_code == 200
    assert "保存しました" in saved.text
    easy = client.get("/procedures/inkan_toroku?easy=1").text
    assert "しやくしょ 1かい の まどぐち" in easy
    assert "<li>はんこ</li>" in easy
    assert "<li>本人確認書類</li>" in easy  # no easy text: the Japanese one
